import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { syncFolder } from '../../fs/atomic-write.js';
import { FileDrainStore } from './drain-files.js';
import type { Leadership } from '../../fleet/ports/leadership.js';
import type { StateStore } from '../../fleet/ports/state-store.js';
import type { StoreHealth } from '../../fleet/ports/store-health.js';
import { FileConfigHistory } from './config-history.js';
import { lockStateFolder } from './folder-lock.js';

/** A local folder never becomes unreachable the way a network store does. */
const ALWAYS_AVAILABLE: StoreHealth = {
  unavailable: () => undefined,
  onChange: () => () => {},
};

/**
 * The embedded store, the zero-setup default: drains and the config history as files in the
 * state folder, which one process holds at a time (a lock file). That process always leads,
 * and has no node status to share.
 */
export async function openFileStore(stateDir: string, replica: string): Promise<StateStore> {
  await mkdir(stateDir, { recursive: true });
  // The folder's own entry, made durable as the files in it are.
  await syncFolder(path.dirname(path.resolve(stateDir)));
  const release = await lockStateFolder(stateDir);
  const leadership: Leadership = { isLeader: () => true, leader: () => replica };
  return {
    kind: 'file',
    replica,
    location: `file://${stateDir}`,
    drains: new FileDrainStore(stateDir),
    config: new FileConfigHistory(stateDir, replica),
    leadership,
    health: ALWAYS_AVAILABLE,
    close: release,
  };
}
