/**
 * Each node group of a fleet config as drainplane encodes it (its config parser and snapshots):
 * what the transport floor and the go-control-plane peer serve, so every server measured sends
 * the same resources.
 */
import { readFile } from 'node:fs/promises';
import { Snapshot, TypeSnapshot } from '../../src/cache/snapshot.js';
import { parseConfig } from '../../src/fleet/config.js';
import { PUSH_ORDER } from '../../src/resource/type-urls.js';

export interface GroupResources {
  /** node.cluster of the group's nodes. */
  readonly nodeCluster: string;
  readonly snapshot: Snapshot;
  /** Names of the group's ingress listeners, sorted: what an ingress drain removes. */
  readonly ingress: readonly string[];
}

export async function groupResources(configFile: string): Promise<GroupResources[]> {
  const loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
  if (!loaded.ok) throw new Error(`invalid config: ${loaded.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return loaded.config.groups.map((group) => {
    const nodeCluster = group.match.cluster;
    if (nodeCluster === undefined) throw new Error(`group ${group.name} must match on cluster`);
    return {
      nodeCluster,
      snapshot: new Snapshot(PUSH_ORDER.map((t) => new TypeSnapshot(t, group.resources.get(t) ?? []))),
      ingress: group.listeners
        .filter((l) => l.role === 'ingress')
        .map((l) => l.name)
        .sort(),
    };
  });
}
