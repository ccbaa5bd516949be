import type { NodeIdentity } from '../../cache/node.js';
import { Snapshot, TypeSnapshot } from '../../cache/snapshot.js';
import { PUSH_ORDER, TypeUrl } from '../../resource/type-urls.js';
import type { FleetConfig, GroupConfig } from '../config.js';
import { matchesNode } from '../node-match.js';
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
 * (and response bytes). A node that matches no group has no known desired state (undefined).
 */
export type GroupSnapshots = (node: NodeIdentity) => Snapshot | undefined;

interface GroupVersions {
  readonly asWritten: Snapshot;
  readonly drainClose: Snapshot;
}

export function groupSnapshots(config: FleetConfig): GroupSnapshots {
  const snapshots = new Map<GroupConfig, GroupVersions>(config.groups.map((g) => [g, groupVersions(g)]));
  return (node) => {
    const group = groupOf(config, node);
    const versions = group && snapshots.get(group);
    return versions && (checksDrainClose(node) ? versions.drainClose : versions.asWritten);
  };
}

function groupVersions(group: GroupConfig): GroupVersions {
  const asWritten = new Snapshot(PUSH_ORDER.map((t) => new TypeSnapshot(t, group.resources.get(t) ?? [])));
  if (group.drainCloseListeners.size === 0) return { asWritten, drainClose: asWritten };
  const listeners = asWritten.get(TypeUrl.Listener).sorted.map((l) => group.drainCloseListeners.get(l.name) ?? l);
  const drainClose = new Snapshot(PUSH_ORDER.map((t) => (t === TypeUrl.Listener ? new TypeSnapshot(t, listeners) : asWritten.get(t))));
  return { asWritten, drainClose };
}
