import type { Logger } from 'pino';
import { StoreOpenError } from '../errors.js';
import type { StateStore } from '../../fleet/ports/state-store.js';
import { etcdClient, EtcdKeys, type EtcdConnection } from './client.js';
import { EtcdConfigStore } from './config.js';
import { EtcdDrainStore } from './drains.js';
import { EtcdHealth } from './health.js';
import { EtcdLeadership } from './leadership.js';
import { EtcdNodeStatuses } from './node-statuses.js';
import { EtcdSecretFileStore } from './secret-files.js';

export interface EtcdStoreOptions extends EtcdConnection {
  /** Every key drainplane writes starts with this (default `/drainplane/`). */
  readonly prefix?: string;
  readonly replica: string;
  /** TTL of the leader's lease and of each replica's node records (default 10 s). */
  readonly leaseSeconds?: number;
  /** How long to wait for etcd at start-up (default 30 s). */
  readonly startTimeoutMs?: number;
}

export const DEFAULT_ETCD_PREFIX = '/drainplane/';
export const DEFAULT_LEASE_SECONDS = 10;
const CLOSE_TIMEOUT_MS = 3000;

/** Connects to etcd (waiting for it up to the start-up timeout) and starts following it. */
export async function openEtcdStore(options: EtcdStoreOptions, logger: Logger): Promise<StateStore> {
  const location = `etcd://${options.endpoints.join(',')}`;
  const keys = new EtcdKeys(options.prefix ?? DEFAULT_ETCD_PREFIX);
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const log = logger.child({ component: 'store' });
  const client = await etcdClient(options).catch((err: Error) => {
    throw new StoreOpenError(err.message);
  });
  const health = new EtcdHealth(client, keys.health(), location);
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (let reason = await health.probe(); reason !== undefined; reason = await health.probe()) {
    if (Date.now() > deadline) {
      client.close();
      throw new StoreOpenError(`cannot start: ${reason}`);
    }
    log.warn({ event: 'store_waiting', store: location, reason }, 'waiting for etcd');
    await new Promise((r) => setTimeout(r, 1000));
  }
  const leadership = new EtcdLeadership(client, keys, options.replica, leaseSeconds, health, log);
  const drains = new EtcdDrainStore(client, keys, () => leadership.leaderKey(), log);
  const config = new EtcdConfigStore(client, keys, options.replica, log);
  const nodes = new EtcdNodeStatuses(client, keys, options.replica, leaseSeconds, log);
  const secretFiles = new EtcdSecretFileStore(client, keys, options.replica, log);
  // etcd may stop answering after the probe: the start-up timeout holds here too.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('it stopped answering')), Math.max(0, deadline - Date.now()));
  });
  try {
    await Promise.race([Promise.all([config.start(), nodes.start(), secretFiles.start()]), timedOut]);
  } catch (err) {
    await Promise.race([
      Promise.all([config.close(), nodes.close(), secretFiles.close()]),
      new Promise((r) => setTimeout(r, CLOSE_TIMEOUT_MS).unref()),
    ]);
    client.close();
    throw new StoreOpenError(`cannot start: etcd at ${location}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  health.start();
  leadership.start();
  return {
    kind: 'etcd',
    replica: options.replica,
    location,
    drains,
    config,
    nodes,
    secretFiles,
    leadership,
    health,
    async close() {
      health.close();
      // Stepping down and revoking the node lease hand over at once; an etcd that does not
      // answer must not hold the shutdown (the leases then run out on their own).
      const closed = Promise.all([leadership.close(), nodes.close(), drains.close(), config.close(), secretFiles.close()]);
      await Promise.race([closed, new Promise((r) => setTimeout(r, CLOSE_TIMEOUT_MS).unref())]);
      client.close();
    },
  };
}
