import type { NodeIdentity } from '../../cache/node.js';
import { sharedTypeSnapshot, Snapshot, type TypeSnapshot } from '../../cache/snapshot.js';
import { PUSH_ORDER, TypeUrl } from '../../resource/type-urls.js';
import { groupAssignments, type FleetConfig, type GroupConfig } from '../config.js';
import { matchesNode } from '../node-match.js';
import { NO_SERVICE_ASSIGNMENTS } from '../service-endpoints/service-assignments.js';
import { checksDrainClose } from '../tcp-proxy.js';

/** The group a node belongs to: the first, in file order, whose match holds. */
export function groupOf(config: FleetConfig, node: NodeIdentity): GroupConfig | undefined {
  return config.groups.find((g) => matchesNode(g.match, node));
}

/**
 * What a config gives each node, before any drain: its group's snapshot, as its Envoy version
 * gets it. Each group has at most two, built once: the resources as written, and, when the group
 * has TCP proxy listeners, the one Envoy 1.39 and later get (TcpProxy `check_drain_close`, see
 * ../tcp-proxy.ts). So every node of a group and version class shares the same snapshot objects
 * (and response bytes). A group's assignments from Kubernetes Services (see
 * ../service-endpoints/) are served beside its `endpoints`. A node that matches no group has no
 * known desired state (undefined).
 */
export type GroupSnapshots = (node: NodeIdentity) => Snapshot | undefined;

interface GroupVersions {
  readonly asWritten: Snapshot;
  readonly drainClose: Snapshot;
}

/**
 * A group's snapshots as last built (by its resources as read, which a running config's copies of
 * the group share), and the assignments from Services they were built with: a group whose
 * Services did not change keeps its snapshot objects, and one whose Services changed keeps every
 * type but EDS (so its nodes keep the response bytes of all the rest).
 */
const built = new WeakMap<GroupConfig['resources'], { readonly services: string; readonly versions: GroupVersions }>();

export function groupSnapshots(config: FleetConfig): GroupSnapshots {
  const snapshots = new Map<GroupConfig, GroupVersions>(config.groups.map((g) => [g, groupVersions(g)]));
  return (node) => {
    const group = groupOf(config, node);
    const versions = group && snapshots.get(group);
    return versions && (checksDrainClose(node) ? versions.drainClose : versions.asWritten);
  };
}

function groupVersions(group: GroupConfig): GroupVersions {
  const fromServices = group.fromServices ?? NO_SERVICE_ASSIGNMENTS;
  const key = [...fromServices.resources.map((r) => `${r.name}@${r.version}`), '?', ...fromServices.pending].join('\0');
  const cached = built.get(group.resources);
  if (cached?.services === key) return cached.versions;
  const versions = cached ? withAssignments(cached.versions, group) : buildVersions(group);
  built.set(group.resources, { services: key, versions });
  return versions;
}

function buildVersions(group: GroupConfig): GroupVersions {
  const asWritten = new Snapshot(
    PUSH_ORDER.map((t) => (t === TypeUrl.ClusterLoadAssignment ? assignments(group) : sharedTypeSnapshot(t, group.resources.get(t) ?? []))),
  );
  if (group.drainCloseListeners.size === 0) return { asWritten, drainClose: asWritten };
  const listeners = asWritten.get(TypeUrl.Listener).sorted.map((l) => group.drainCloseListeners.get(l.name) ?? l);
  const drainClose = new Snapshot(PUSH_ORDER.map((t) => (t === TypeUrl.Listener ? sharedTypeSnapshot(t, listeners) : asWritten.get(t))));
  return { asWritten, drainClose };
}

/** The same snapshots with other assignments from Services: every other type is kept as it is. */
function withAssignments(versions: GroupVersions, group: GroupConfig): GroupVersions {
  const eds = assignments(group);
  const swap = (snapshot: Snapshot): Snapshot => new Snapshot(PUSH_ORDER.map((t) => (t === TypeUrl.ClusterLoadAssignment ? eds : snapshot.get(t))));
  const asWritten = swap(versions.asWritten);
  return { asWritten, drainClose: versions.drainClose === versions.asWritten ? asWritten : swap(versions.drainClose) };
}

/** The group's assignments: those its config writes, and those from its Services (pending ones as such). */
function assignments(group: GroupConfig): TypeSnapshot {
  return sharedTypeSnapshot(TypeUrl.ClusterLoadAssignment, groupAssignments(group), group.fromServices?.pending ?? []);
}
