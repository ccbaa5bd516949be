/**
 * The state-store seam: what drainplane keeps beyond one process, and what replicas share.
 * Two backends sit behind it: the embedded file store (one replica, zero setup) and etcd
 * (several replicas behind one address).
 */
import type { Drain } from '../fleet/drain/model.js';
import type { SharedNodeRecord } from '../fleet/replication/shared-node.js';

/** Where drains live between restarts, and how replicas learn of each other's changes. */
export interface DrainStore {
  load(): Promise<Drain[]>;
  /**
   * Saves the drains that changed. A shared store writes each changed drain only if nobody
   * else changed it since this replica last saw it, and throws StoreConflictError when
   * someone did (after handing the newer version to the watchers).
   */
  save(drains: readonly Drain[], options?: SaveOptions): Promise<void>;
  /**
   * Told of drains changed elsewhere (another replica, or the stored version taking the place
   * of a losing write); `undefined` when a drain is gone. Returns the function that stops.
   */
  watch(listener: DrainListener): () => void;
  /**
   * Drops the unsaved changes of these drains: the watchers get the stored versions back (and
   * `undefined` for a drain that was never stored). For changes whose save failed.
   */
  revert?(drains: readonly Drain[]): void;
}

export type DrainListener = (id: string, drain: Drain | undefined) => void;

export interface SaveOptions {
  /**
   * The drains this save is about (default: all). A store that writes drains one by one
   * writes only these, so that another drain's failed write cannot fail this change after
   * its own write went through. A store that writes the whole state at once ignores it.
   */
  readonly changed?: readonly Drain[];
  /**
   * A step only the leader takes (a batch, a phase, a deadline): refused with NotLeaderError
   * unless this replica still leads when it is written.
   */
  readonly step?: boolean;
}

/** One version of the running config, as stored. */
export interface StoredConfig {
  /** 1, 2, 3 ... in the order the versions were stored. */
  readonly version: number;
  readonly text: string;
  readonly sha256: string;
  readonly at: string;
  /** What made the change: `start`, `signal`, `watch` (the file changed) or `api`. */
  readonly origin: string;
  /** The replica that stored it. */
  readonly replica: string;
}

export type ConfigVersionInfo = Omit<StoredConfig, 'text'>;

/** The running config's versions. */
export interface ConfigStore {
  /**
   * True when replicas share the config through the store: the stored version, not the local
   * config file, is what runs, and a change on any replica applies on all of them.
   */
  readonly shared: boolean;
  /** The latest stored version, if any. */
  current(): Promise<StoredConfig | undefined>;
  /**
   * Stores `text` as the version after `previous` (undefined: the first). 'conflict' when
   * another version was stored after `previous` first.
   */
  put(text: string, previous: number | undefined, origin: string): Promise<StoredConfig | 'conflict'>;
  /** The kept versions, oldest first. */
  versions(): Promise<ConfigVersionInfo[]>;
  version(n: number): Promise<StoredConfig | undefined>;
  /** Told of every version stored after the watch started (by any replica). */
  watch(listener: (config: StoredConfig) => void): () => void;
}

/** Node status that matters across replicas: who holds a node's stream, its ACKs and gauges. */
export interface NodeStatusStore {
  /** Publishes this replica's records (null: the node left this replica). */
  publish(records: ReadonlyMap<string, SharedNodeRecord | null>): Promise<void>;
  /** Records other replicas published for this node. */
  others(nodeId: string): readonly SharedNodeRecord[];
  /** Every record other replicas published. */
  allOthers(): Iterable<SharedNodeRecord>;
  /** Told of each node whose records from other replicas changed. */
  onChange(listener: (nodeId: string) => void): () => void;
  /**
   * Told when this replica's records were lost (its lease expired while the store was
   * unreachable) and must be published again in full.
   */
  onLost(listener: () => void): () => void;
}

/** Which replica advances drains. */
export interface Leadership {
  /** True while this replica may advance drain batches and deadlines. */
  isLeader(): boolean;
  /** The leading replica's id, when known. */
  leader(): string | undefined;
}

/** Whether the store takes writes now. */
export interface StoreHealth {
  /** Why the store cannot be used now, or undefined when it can. */
  unavailable(): string | undefined;
  /** Told of every change between available (undefined) and unavailable (the reason). */
  onChange(listener: (reason: string | undefined) => void): () => void;
}

export interface StateStore {
  readonly kind: 'file' | 'etcd';
  /** This replica's id, as other replicas see it. */
  readonly replica: string;
  /** Where the state is, for logs: `file://.drainplane`, `etcd://10.0.0.1:2379`. */
  readonly location: string;
  readonly drains: DrainStore;
  readonly config: ConfigStore;
  readonly nodes: NodeStatusStore;
  readonly leadership: Leadership;
  readonly health: StoreHealth;
  close(): Promise<void>;
}
