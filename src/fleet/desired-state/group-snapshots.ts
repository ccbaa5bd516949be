import type { NodeIdentity } from '../../cache/node.js';
import { Snapshot, TypeSnapshot } from '../../cache/snapshot.js';
import { PUSH_ORDER } from '../../resource/type-urls.js';
import type { FleetConfig, GroupConfig } from '../config.js';
import { matchesNode } from '../node-match.js';

/** The group a node belongs to: the first, in file order, whose match holds. */
export function groupOf(config: FleetConfig, node: NodeIdentity): GroupConfig | undefined {
  return config.groups.find((g) => matchesNode(g.match, node));
}

/**
 * What a config gives each node, before any drain: its group's snapshot. Each group's
 * snapshot is built once, so every node of a group shares the same snapshot objects (and
 * response bytes). A node that matches no group has no known desired state (undefined).
 */
export type GroupSnapshots = (node: NodeIdentity) => Snapshot | undefined;

export function groupSnapshots(config: FleetConfig): GroupSnapshots {
  const snapshots = new Map<GroupConfig, Snapshot>(
    config.groups.map((g) => [g, new Snapshot(PUSH_ORDER.map((t) => new TypeSnapshot(t, g.resources.get(t) ?? [])))]),
  );
  return (node) => {
    const group = groupOf(config, node);
    return group && snapshots.get(group);
  };
}
