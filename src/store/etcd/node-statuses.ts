import type { Etcd3, IKeyValue, Lease } from 'etcd3';
import type { Logger } from 'pino';
import type { SharedNodeRecord } from '../../fleet/replication/shared-node.js';
import type { NodeStatusStore } from '../../fleet/ports/node-status-store.js';
import { EtcdFollower, type EtcdKeys } from './client.js';

/**
 * Node records in etcd, one key per replica and node, every key of a replica under that
 * replica's lease: when a replica dies, its nodes disappear with its lease. The other
 * replicas' records are followed with a watch and kept in memory.
 */
export class EtcdNodeStatuses implements NodeStatusStore {
  /** Other replicas' records: node id -> replica -> record. */
  readonly #others = new Map<string, Map<string, SharedNodeRecord>>();
  readonly #lostListeners = new Set<() => void>();
  readonly #changeListeners = new Set<(nodeId: string) => void>();
  /** Granted on first use; replaced after it was lost. */
  #lease: Lease | undefined;
  readonly #follower: EtcdFollower;
  #closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly replica: string,
    private readonly leaseSeconds: number,
    private readonly logger: Logger,
  ) {
    this.#follower = new EtcdFollower(
      client,
      { prefix: keys.nodes() },
      { put: (kv) => this.#put(kv), delete: (kv) => this.#delete(kv) },
      () => this.#reread(),
      logger,
    );
  }

  async start(): Promise<void> {
    await this.#currentLease().grant();
    // What a previous process of this replica left behind (under a lease still running).
    await this.client.delete().prefix(`${this.keys.nodes()}${encodeURIComponent(this.replica)}/`);
    await this.#follower.start(await this.#reread());
  }

  async publish(records: ReadonlyMap<string, SharedNodeRecord | null>): Promise<void> {
    const leaseId = await this.#currentLease().grant();
    await Promise.all(
      [...records].map(([nodeId, record]) => {
        const key = this.keys.node(this.replica, nodeId);
        return record ? this.client.put(key).value(JSON.stringify(record)).lease(leaseId).exec() : this.client.delete().key(key).exec();
      }),
    );
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
    await this.#follower.close();
    await this.#lease?.revoke().catch(() => undefined);
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

  /** Every other replica's records, read again; returns the revision read at. */
  async #reread(): Promise<string> {
    const res = await this.client.getAll().prefix(this.keys.nodes()).exec();
    const before = [...this.#others.keys()];
    this.#others.clear();
    for (const kv of res.kvs) this.#put(kv);
    // Nodes whose records went while this replica was not following are changes too.
    for (const nodeId of before) if (!this.#others.has(nodeId)) this.#changed(nodeId);
    return res.header.revision;
  }

  #split(kv: IKeyValue): { replica: string; nodeId: string } | undefined {
    const rest = kv.key.toString().slice(this.keys.nodes().length);
    const slash = rest.indexOf('/');
    if (slash < 0) return undefined;
    return { replica: decodeURIComponent(rest.slice(0, slash)), nodeId: decodeURIComponent(rest.slice(slash + 1)) };
  }

  #put(kv: IKeyValue): void {
    const at = this.#split(kv);
    if (!at || at.replica === this.replica) return;
    try {
      const record = JSON.parse(kv.value.toString()) as SharedNodeRecord;
      let byReplica = this.#others.get(at.nodeId);
      if (!byReplica) this.#others.set(at.nodeId, (byReplica = new Map<string, SharedNodeRecord>()));
      byReplica.set(at.replica, record);
      this.#changed(at.nodeId);
    } catch (err) {
      this.logger.warn(
        { event: 'node_record_unreadable', node: at.nodeId, replica: at.replica, error: (err as Error).message },
        'node record ignored',
      );
    }
  }

  #delete(kv: IKeyValue): void {
    const at = this.#split(kv);
    if (!at || at.replica === this.replica) return;
    const byReplica = this.#others.get(at.nodeId);
    if (!byReplica?.delete(at.replica)) return;
    if (byReplica.size === 0) this.#others.delete(at.nodeId);
    this.#changed(at.nodeId);
  }

  #changed(nodeId: string): void {
    for (const listener of this.#changeListeners) listener(nodeId);
  }
}
