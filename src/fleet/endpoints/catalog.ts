/**
 * The endpoints each config group's nodes hold over EDS: those of the group's assignments (its
 * `endpoints`, and on the running config what its Kubernetes Services hold now) that
 * an EDS cluster of the group names (by `eds_cluster_config.service_name`, else its own name).
 * Envoy asks only for those, so an assignment no EDS cluster names is never sent, and an
 * endpoint drain does not wait on it. Worked out once per group of a config.
 */
import type { EncodedResource } from '../../resource/encoded-resource.js';
import { messageToJson } from '../../resource/json-mapping.js';
import { envoyProtos } from '../../resource/protos.js';
import { TypeUrl } from '../../resource/type-urls.js';
import { groupAssignments, type FleetConfig, type GroupConfig } from '../config.js';
import type { EndpointTarget } from '../drain/model.js';
import { assignmentOf, type AssignedEndpoint } from './assignment.js';
import { endpointMatcher } from './target.js';

const byGroup = new WeakMap<GroupConfig, readonly AssignedEndpoint[]>();

/** The endpoints a group's nodes receive over EDS, in config order. */
export function groupEndpoints(group: GroupConfig): readonly AssignedEndpoint[] {
  let found = byGroup.get(group);
  if (found) return found;
  const served = edsServiceNames(group.resources.get(TypeUrl.Cluster) ?? []);
  found = groupAssignments(group)
    .filter((r) => served.has(r.name))
    .flatMap((r) => assignmentOf(r).endpoints.filter((e) => e.address !== ''));
  byGroup.set(group, found);
  return found;
}

/** The endpoints of a group a target takes. */
export function targetedEndpoints(group: GroupConfig | undefined, target: EndpointTarget): AssignedEndpoint[] {
  if (!group) return [];
  const matcher = endpointMatcher(target);
  return groupEndpoints(group).filter((e) => matcher.matches(e));
}

/** Whether any group of the config holds an endpoint the target takes. */
export function configHasTarget(config: FleetConfig, target: EndpointTarget): boolean {
  return config.groups.some((g) => targetedEndpoints(g, target).length > 0);
}

function edsServiceNames(clusters: readonly EncodedResource[]): Set<string> {
  const protos = envoyProtos();
  const Cluster = protos.type('envoy.config.cluster.v3.Cluster');
  const names = new Set<string>();
  for (const r of clusters) {
    const json = messageToJson(protos, Cluster, r.bytes) as { type?: string; eds_cluster_config?: { service_name?: string } };
    if (json.type === 'EDS') names.add(json.eds_cluster_config?.service_name || r.name);
  }
  return names;
}
