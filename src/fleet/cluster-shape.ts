/**
 * An EDS cluster must say where its endpoints come from: without `eds_cluster_config.eds_config`
 * Envoy refuses it ("cannot create an EDS cluster without an EDS config"), though no PGV rule
 * says so. Caught here, before anything is served; Envoy would NACK the cluster.
 */
import type { ConfigIssue } from './config-issue.js';
import type { LocatedResource } from './references.js';

type Json = Record<string, unknown>;

export function checkClusterShape(cluster: LocatedResource): ConfigIssue[] {
  if (cluster.json['type'] !== 'EDS') return [];
  const eds = cluster.json['eds_cluster_config'] as Json | undefined;
  if (eds?.['eds_config'] !== undefined) return [];
  return [
    {
      path: eds ? `${cluster.path}.eds_cluster_config.eds_config` : `${cluster.path}.eds_cluster_config`,
      message: `is required: EDS cluster "${cluster.name}" must say where its endpoints come from (eds_config: { ads: {} } for drainplane)`,
    },
  ];
}
