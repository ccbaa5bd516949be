import { Range, type Etcd3, type IKeyValue, type Lease } from 'etcd3';
import type { Logger } from 'pino';
import type { SharedNodeRecord } from '../../fleet/replication/shared-node.js';
import type { NodeStatusStore } from '../../fleet/ports/node-status-store.js';
import { EtcdFollower, type EtcdKeys } from './client.js';
import { readRange } from './paged-range.js';
import { writeInTxns, type SizedOp } from './txn-batches.js';

/** One of the key ranges followed, and the mod revision of each record held from it. */
interface FollowedRange {
  readonly range: Range;
  readonly held: Map<string, string>;
}

/**
 * Node records in etcd, one key per replica and node, every key of a replica under that
 * replica's lease: when a replica dies, its nodes disappear with its lease. A replica writes
 * its changes in batched transactions, and follows the other replicas' records (the key ranges
 * before and after its own, so its own writes are not sent back to it) in memory.
 */
export class EtcdNodeStatuses implements NodeStatusStore {
  /** Other replicas' records: node id -> replica -> record. */
  readonly #others = new Map<string, Map<string, SharedNodeRecord>>();
  readonly #lostListeners = new Set<() => void>();
  readonly #changeListeners = new Set<(nodeId: string) => void>();
  /** Granted on first use; replaced after it was lost. */
  #lease: Lease | undefined;
  readonly #ranges: readonly FollowedRange[];
  readonly #followers: readonly EtcdFollower[];
  #closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly replica: string,
    private readonly leaseSeconds: number,
    private readonly logger: Logger,
  ) {
    const all = Range.prefix(keys.nodes());
    const own = Range.prefix(this.#ownPrefix());
    this.#ranges = [new Range(all.start, own.start), new Range(own.end, all.end)].map((range) => ({ range, held: new Map<string, string>() }));
    this.#followers = this.#ranges.map(
      (followed) =>
        new EtcdFollower(
          client,
          { range: followed.range },
          { put: (kv) => this.#put(kv, followed), delete: (kv) => this.#delete(kv.key.toString(), followed) },
          () => this.#reread(followed),
          logger,
        ),
    );
  }

  async start(): Promise<void> {
    await this.#currentLease().grant();
    // What a previous process of this replica left behind (under a lease still running).
    await this.client.delete().prefix(this.#ownPrefix());
    await Promise.all(this.#ranges.map(async (followed, i) => this.#followers[i]!.start(await this.#reread(followed))));
  }

  async publish(records: ReadonlyMap<string, string | null>): Promise<void> {
    const lease = await this.#currentLease().grant();
    const ops = [...records].map(([nodeId, text]): SizedOp => {
      const key = Buffer.from(this.keys.node(this.replica, nodeId));
      if (text === null) return { op: { request_delete_range: { key } }, bytes: key.length };
      const value = Buffer.from(text);
      return { op: { request_put: { key, value, lease } }, bytes: key.length + value.length };
    });
    await writeInTxns(this.client, ops);
  }

  others(nodeId: string): readonly SharedNodeRecord[] {
    const byReplica = this.#others.get(nodeId);
    return byReplica ? [...byReplica.values()] : [];
  }

  *allOthers(): Iterable<SharedNodeRecord> {
    for (const byReplica of this.#others.values()) yield* byReplica.values();
  }

  onChange(listener: (nodeId: string) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  onLost(listener: () => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** Revokes the lease: this replica's nodes disappear at once. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#followers.map((f) => f.close()));
    await this.#lease?.revoke().catch(() => undefined);
  }

  #ownPrefix(): string {
    return `${this.keys.nodes()}${encodeURIComponent(this.replica)}/`;
  }

  #currentLease(): Lease {
    if (this.#lease) return this.#lease;
    const lease = this.client.lease(this.leaseSeconds);
    let granted = false;
    lease.grant().then(
      () => (granted = true),
      () => undefined,
    );
    lease.on('lost', (err) => {
      if (lease !== this.#lease) return;
      this.#lease = undefined;
      // A lease that was never granted held no records.
      if (this.#closed || !granted) return;
      this.logger.warn({ event: 'node_lease_lost', error: err.message }, "this replica's node records expired; they are published again");
      for (const listener of this.#lostListeners) listener();
    });
    this.#lease = lease;
    return lease;
  }

  /**
   * The range's records, read again; returns the revision read at. Only what changed since it
   * was last followed is applied and told of: a watch lost in a storm of thousands of nodes
   * does not make every node a change.
   */
  async #reread(followed: FollowedRange): Promise<string> {
    const { kvs, revision } = await readRange(this.client, followed.range);
    const present = new Set<string>();
    for (const kv of kvs) {
      const key = kv.key.toString();
      present.add(key);
      if (followed.held.get(key) !== kv.mod_revision) this.#put(kv, followed);
    }
    // Records that went while this replica was not following are changes too.
    for (const key of [...followed.held.keys()]) if (!present.has(key)) this.#delete(key, followed);
    return revision;
  }

  #split(key: string): { replica: string; nodeId: string } | undefined {
    const rest = key.slice(this.keys.nodes().length);
    const slash = rest.indexOf('/');
    if (slash < 0) return undefined;
    return { replica: decodeURIComponent(rest.slice(0, slash)), nodeId: decodeURIComponent(rest.slice(slash + 1)) };
  }

  #put(kv: IKeyValue, followed: FollowedRange): void {
    const key = kv.key.toString();
    const at = this.#split(key);
    if (!at) return;
    try {
      const record = JSON.parse(kv.value.toString()) as SharedNodeRecord;
      let byReplica = this.#others.get(at.nodeId);
      if (!byReplica) this.#others.set(at.nodeId, (byReplica = new Map<string, SharedNodeRecord>()));
      byReplica.set(at.replica, record);
      followed.held.set(key, kv.mod_revision);
      this.#changed(at.nodeId);
    } catch (err) {
      this.logger.warn(
        { event: 'node_record_unreadable', node: at.nodeId, replica: at.replica, error: (err as Error).message },
        'node record ignored',
      );
    }
  }

  #delete(key: string, followed: FollowedRange): void {
    followed.held.delete(key);
    const at = this.#split(key);
    if (!at) return;
    const byReplica = this.#others.get(at.nodeId);
    if (!byReplica?.delete(at.replica)) return;
    if (byReplica.size === 0) this.#others.delete(at.nodeId);
    this.#changed(at.nodeId);
  }

  #changed(nodeId: string): void {
    for (const listener of this.#changeListeners) listener(nodeId);
  }
}
