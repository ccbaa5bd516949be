/**
 * The state-store seam: what drainplane keeps beyond one process, and what replicas share.
 * The domain owns it; two backends in src/store/ implement it: the embedded file store (one
 * replica, zero setup) and etcd (several replicas behind one address).
 */
import type { ConfigStore } from './config-store.js';
import type { DrainStore } from './drain-store.js';
import type { Leadership } from './leadership.js';
import type { NodeStatusStore } from './node-status-store.js';
import type { SecretFileStore } from './secret-file-store.js';
import type { StoreHealth } from './store-health.js';

/** The backends, as GET /v1/store names them. */
export const STORE_KINDS = ['file', 'etcd'] as const;

export interface StateStore {
  readonly kind: (typeof STORE_KINDS)[number];
  /** This replica's id, as other replicas see it. */
  readonly replica: string;
  /** Where the state is, for logs: `file://.drainplane`, `etcd://10.0.0.1:2379`. */
  readonly location: string;
  readonly drains: DrainStore;
  readonly config: ConfigStore;
  /** Node status shared between replicas; absent when no other replica shares the state. */
  readonly nodes?: NodeStatusStore;
  /** Secret files shared between replicas; absent when no other replica shares the state. */
  readonly secretFiles?: SecretFileStore;
  readonly leadership: Leadership;
  readonly health: StoreHealth;
  close(): Promise<void>;
}
