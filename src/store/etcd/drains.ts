import type { Etcd3, IKeyValue } from 'etcd3';
import type { Logger } from 'pino';
import type { Drain } from '../../fleet/drain/model.js';
import { NotLeaderError, StoreConflictError, StoreUnavailableError } from '../../fleet/ports/store-errors.js';
import type { DrainListener, DrainStore, SaveOptions } from '../../fleet/ports/drain-store.js';
import { decodeValue, encodeValue, EtcdFollower, newer, type EtcdKeys } from './client.js';

const FORMAT = 1;

/** A stored version: its mod revision and its exact text. */
interface Version {
  readonly rev: string;
  readonly json: string;
}

function serialize(drain: Drain): string {
  return JSON.stringify({ format: FORMAT, drain });
}

/**
 * Drains in etcd, one key per drain. A drain is written only if its key still has the mod
 * revision of the version the change was made to, so two replicas never overwrite each other:
 * the one that loses gets the newer version instead and makes its change again (or, for a
 * tick, the next tick does). A step only the leader takes (a batch, a phase, a deadline) also
 * requires this replica's election key to still exist when it is written, so a replica that
 * lost its leadership cannot advance a drain; changes asked for through the API, and nodes
 * joining, can be written by any replica.
 */
export class EtcdDrainStore implements DrainStore {
  /** The version each object handed out (or saved) was made from. */
  readonly #base = new WeakMap<Drain, Version>();
  /** The newest stored version seen, by drain id. */
  readonly #known = new Map<string, Version>();
  readonly #listeners = new Set<DrainListener>();
  /** Per drain: the write under way and the one waiting for it (later saves join that one). */
  readonly #writing = new Map<string, Promise<void>>();
  readonly #queued = new Map<string, { done: Promise<void>; drain: Drain; step: boolean }>();
  /** Watch events for drains being written, held until the write's outcome is known. */
  readonly #held = new Map<string, (() => void)[]>();
  readonly #follower: EtcdFollower;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    /** The election key while this replica leads. */
    private readonly leaderKey: () => string | undefined,
    private readonly logger: Logger,
  ) {
    this.#follower = new EtcdFollower(
      client,
      { prefix: keys.drains() },
      { put: (kv) => this.#event(kv, true), delete: (kv) => this.#event(kv, false) },
      () => this.#reread(),
      logger,
    );
  }

  async load(): Promise<Drain[]> {
    const res = await this.client.getAll().prefix(this.keys.drains()).exec();
    const drains: Drain[] = [];
    for (const kv of res.kvs) {
      const drain = this.#take(kv);
      if (drain) drains.push(drain);
    }
    // From the revision just read on: nothing changed in between is missed.
    await this.#follower.start(res.header.revision);
    return drains;
  }

  watch(listener: DrainListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async save(drains: readonly Drain[], options: SaveOptions = {}): Promise<void> {
    const step = options.step === true;
    for (const [copy, original] of options.madeFrom ?? []) {
      const base = this.#base.get(original);
      if (base && !this.#base.has(copy)) this.#base.set(copy, base);
    }
    const writes = (options.changed ?? drains).filter((d) => serialize(d) !== this.#base.get(d)?.json).map((d) => this.#enqueue(d, step));
    const removals = (options.removed ?? []).map((d) => this.#remove(d, step));
    const results = await Promise.allSettled([...writes, ...removals]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    await this.#follower.close();
  }

  /** Every stored drain again: the newer versions handed out, the vanished ones dropped. */
  async #reread(): Promise<string> {
    const res = await this.client.getAll().prefix(this.keys.drains()).exec();
    const present = new Set<string>();
    for (const kv of res.kvs) {
      present.add(kv.key.toString().slice(this.keys.drains().length));
      this.#event(kv, true);
    }
    for (const id of [...this.#known.keys()]) if (!present.has(id)) this.#gone(id);
    return res.header.revision;
  }

  /** Writes are one at a time per drain; a save while one waits joins it (a step if either is). */
  #enqueue(drain: Drain, step: boolean): Promise<void> {
    const queued = this.#queued.get(drain.id);
    if (queued) {
      queued.drain = drain;
      queued.step ||= step;
      return queued.done;
    }
    const before = this.#writing.get(drain.id) ?? Promise.resolve();
    const entry: { done: Promise<void>; drain: Drain; step: boolean } = { drain, step, done: Promise.resolve() };
    entry.done = before.then(() => {
      this.#queued.delete(drain.id);
      return this.#write(entry.drain, entry.step);
    });
    this.#queued.set(drain.id, entry);
    const settled = entry.done.catch(() => undefined);
    this.#writing.set(drain.id, settled);
    void settled.then(() => {
      if (this.#writing.get(drain.id) === settled) this.#writing.delete(drain.id);
    });
    return entry.done;
  }

  async #write(drain: Drain, step: boolean): Promise<void> {
    const json = serialize(drain);
    const base = this.#base.get(drain);
    if (json === base?.json) return;
    const key = this.keys.drain(drain.id);
    // Read when written, not when the step was decided: leadership may have been lost since.
    const leader = step ? this.leaderKey() : undefined;
    if (step && leader === undefined) throw new NotLeaderError(`drain ${drain.id} not saved: this replica no longer leads`);
    let txn = this.client.if(key, 'Mod', '==', base?.rev ?? 0);
    if (leader !== undefined) txn = txn.and(leader, 'Create', '>', 0);
    this.#held.set(drain.id, []);
    let res;
    try {
      res = await txn
        .then(this.client.put(key).value(await encodeValue(json)))
        .else(this.client.get(key))
        .commit();
    } catch (err) {
      throw new StoreUnavailableError(`drain ${drain.id} not saved: ${(err as Error).message}`);
    } finally {
      const held = this.#held.get(drain.id) ?? [];
      this.#held.delete(drain.id);
      queueMicrotask(() => held.forEach((replay) => replay()));
    }
    if (res.succeeded) {
      const version = { rev: res.header.revision, json };
      this.#base.set(drain, version);
      if (newer(version.rev, this.#known.get(drain.id)?.rev)) this.#known.set(drain.id, version);
      return;
    }
    const current = res.responses[0]?.response_range.kvs[0];
    if (leader !== undefined && current?.mod_revision === (base?.rev ?? undefined)) {
      throw new NotLeaderError(`drain ${drain.id} not saved: this replica no longer leads`);
    }
    if (current) this.#event(current, true);
    else if (base) this.#gone(drain.id);
    throw new StoreConflictError(`drain ${drain.id} was changed by another replica first`);
  }

  /** Deletes a drain's key if it is still the version this replica has (and, for a step, it leads). */
  async #remove(drain: Drain, step: boolean): Promise<void> {
    const base = this.#base.get(drain);
    if (!base) return;
    const key = this.keys.drain(drain.id);
    const leader = step ? this.leaderKey() : undefined;
    if (step && leader === undefined) throw new NotLeaderError(`drain ${drain.id} not removed: this replica no longer leads`);
    let txn = this.client.if(key, 'Mod', '==', base.rev);
    if (leader !== undefined) txn = txn.and(leader, 'Create', '>', 0);
    let res;
    try {
      res = await txn.then(this.client.delete().key(key)).commit();
    } catch (err) {
      throw new StoreUnavailableError(`drain ${drain.id} not removed: ${(err as Error).message}`);
    }
    // Changed meanwhile (another replica): kept; the next pass looks at the newer version.
    if (res.succeeded) this.#known.delete(drain.id);
  }

  #event(kv: IKeyValue, put: boolean): void {
    const id = kv.key.toString().slice(this.keys.drains().length);
    const held = this.#held.get(id);
    if (held) {
      held.push(() => this.#event(kv, put));
      return;
    }
    if (!put) {
      this.#gone(id);
      return;
    }
    // Older than what is known here: our own write coming back, or a stale read.
    if (!newer(kv.mod_revision, this.#known.get(id)?.rev)) return;
    const drain = this.#take(kv);
    if (drain) this.#notify(id, drain);
  }

  #gone(id: string): void {
    if (!this.#known.delete(id)) return;
    this.#notify(id, undefined);
  }

  /** Records a stored version and hands out a fresh object for it. */
  #take(kv: IKeyValue): Drain | undefined {
    const id = kv.key.toString().slice(this.keys.drains().length);
    const version = { rev: kv.mod_revision, json: decodeValue(kv.value) };
    const drain = this.#parse(id, version);
    if (drain) this.#known.set(id, version);
    return drain;
  }

  #parse(id: string, version: Version): Drain | undefined {
    try {
      const parsed = JSON.parse(version.json) as { format?: number; drain?: Drain };
      if (parsed.format !== FORMAT || parsed.drain?.id !== id) throw new Error(`format ${String(parsed.format)}, expected ${FORMAT}`);
      this.#base.set(parsed.drain, version);
      return parsed.drain;
    } catch (err) {
      this.logger.error({ event: 'drain_unreadable', drain: id, error: (err as Error).message }, `stored drain ${id} is not readable; ignored`);
      return undefined;
    }
  }

  #notify(id: string, drain: Drain | undefined): void {
    for (const listener of this.#listeners) listener(id, drain);
  }
}
