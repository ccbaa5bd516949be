import assert from 'node:assert/strict';
import { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import { parseConfig, type FleetConfig } from '../../src/fleet/config.js';
import { DesiredState } from '../../src/fleet/desired-state/desired-state.js';

export function parsedConfig(yaml: string): FleetConfig {
  const parsed = parseConfig(yaml, 'test.yaml');
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  return parsed.config;
}

/**
 * A snapshot cache and its one writer for a config, as the daemon wires them: give the xDS
 * server `cache` as its watcher and `desired.events` among its events.
 */
export function desiredStateOf(yaml: string): { cache: SnapshotCache; desired: DesiredState } {
  const cache = new SnapshotCache();
  return { cache, desired: new DesiredState({ cache, config: parsedConfig(yaml) }) };
}
