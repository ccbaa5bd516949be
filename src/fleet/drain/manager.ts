import { setImmediate } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { NodeIdentity } from '../../cache/node.js';
import { retryOnConflict } from '../ports/store-errors.js';
import type { DrainStore } from '../ports/drain-store.js';
import type { DesiredState } from '../desired-state/desired-state.js';
import type { NodeRegistry } from '../registry.js';
import { AdminSteps, drainingCall } from './admin-steps.js';
import { draftDrain, type AdminAvailability, type DrainDraft } from './draft.js';
import { blastRadius, type BlastRadius } from './blast-radius.js';
import { idleGatedPhase } from './egress-idle.js';
import { drainsByAdmin, nothingToDrain, TERMINAL, type Drain, type DrainOrigin, type NodeProgress } from './model.js';
import { NodeObserver } from './node-observer.js';
import type { AdminDrainActions, ConnectionSource, HostCountSource, NodeDirectory, RemoteLdsProgress } from './ports.js';
import { drainSelects } from './selector.js';
import type { DrainRequest, FieldError } from './spec.js';
import { applyAction, type DrainAction } from './lifecycle.js';
import { finishIfDone, joinDrain, startDrain, stepDrain } from './step.js';
import { MAX_DRAIN_NODES } from './request-limits.js';
import { RepairingDrainStore } from './store-repair.js';
import { workingCopy } from './working-copy.js';
import { DEFAULT_RETENTION, expiredDrains, type Retention } from './retention.js';

export interface DrainManagerDeps {
  readonly store: DrainStore;
  /** The nodes connected to this process. */
  readonly nodes: NodeRegistry;
  /** Every node of the fleet, on any replica (default: `nodes`): drains select from these. */
  readonly fleet?: NodeDirectory;
  /** Progress of nodes connected to other replicas. */
  readonly remote?: RemoteLdsProgress;
  /** Whether this replica advances drains (default: always); with several, only the leader does. */
  readonly leading?: () => boolean;
  /**
   * Save every change of progress (ACKs, connection counts), not only batch and phase changes,
   * so that other replicas show what the leader sees.
   */
  readonly saveProgress?: boolean;
  /** Where the drains' listener changes go (after they are stored), and the running config. */
  readonly desired: DesiredState;
  readonly connections: ConnectionSource;
  /** Host counts (requests and connections per upstream host), by which endpoint drains are measured. */
  readonly hosts?: HostCountSource;
  readonly admin?: AdminDrainActions;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How often progress is evaluated. */
  readonly tickMs?: number;
  /** How many finished drains that hold nothing are kept as history, and how long (default DEFAULT_RETENTION). */
  readonly retention?: Retention;
}

export interface CreateOptions {
  /** Who starts the drain, when not the API (kept on the drain). */
  readonly origin?: DrainOrigin;
}

export type CreateResult = { readonly drain: Drain } | { readonly errors: readonly FieldError[] };

/**
 * Carries out drains. Every change is a transaction: worked out on a copy, stored, and only
 * then put in place of the drain in memory and handed to the desired state, which pushes the
 * nodes. A change whose save fails leaves memory, the store and every node as they were. A
 * drain's listener changes are an overlay on its nodes' desired snapshots, so a node that
 * reconnects, even to a restarted drainplane, gets its drained listener set, never the full one.
 */
export class DrainManager {
  readonly #drains = new Map<string, Drain>();
  readonly #listeners = new Set<(drain: Drain) => void>();
  readonly #now: () => number;
  /** Every node of the fleet, on any replica. */
  readonly #fleet: NodeDirectory;
  readonly #admin: AdminSteps;
  readonly #observer: NodeObserver;
  /** The store, its failed writes repaired at the next progress step. */
  readonly #store: RepairingDrainStore;
  #timer: NodeJS.Timeout | undefined;
  /**
   * Changes to drains run one at a time: a drain's nodes are marked pushed, saved, and only
   * then pushed; a tick in between would judge them against the listener set they had before.
   */
  #lock: Promise<unknown> = Promise.resolve();
  #tickQueued = false;
  /**
   * Drains whose creation is being saved. Nodes that connect meanwhile do not join them yet: a
   * join is pushed at once, and the drain might never reach the disk.
   */
  readonly #unsaved = new Set<string>();
  /** Drains that were full when a node they select connected, and said so once. */
  readonly #warnedFull = new Set<string>();
  /** Changes of drains being stored now, by drain id (see `#effective`). */
  readonly #inFlight = new Map<string, Drain>();

  constructor(private readonly deps: DrainManagerDeps) {
    this.#now = deps.now ?? Date.now;
    this.#store = new RepairingDrainStore(deps.store, deps.logger, this.#now);
    this.#fleet = deps.fleet ?? deps.nodes;
    this.#admin = new AdminSteps({
      admin: deps.admin,
      nodes: this.#fleet,
      logger: deps.logger,
    });
    this.#observer = new NodeObserver({
      local: deps.nodes,
      fleet: this.#fleet,
      remote: deps.remote,
      desired: deps.desired,
      connections: deps.connections,
      hosts: deps.hosts,
      admin: this.#admin,
    });
  }

  /** Reads the stored drains and rebuilds their overlays, before any node is served. */
  async load(): Promise<void> {
    for (const drain of await this.deps.store.load()) this.#drains.set(drain.id, drain);
    this.deps.desired.applyDrains(this.list(), 'all');
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.tick().catch((err: unknown) => {
        // The decisions of a tick whose save failed were never put in place; the next tick
        // (here, or on the replica that leads now) takes them again.
        this.deps.logger.warn({ event: 'drain_tick_failed', error: (err as Error).message }, 'drain progress not saved');
      });
    }, this.deps.tickMs ?? 250);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the ticks, and writes what a failed write left unsure, as memory holds it, before the process ends. */
  async close(): Promise<void> {
    this.stop();
    await this.#exclusive(() => this.#store.repair(() => this.#effective(), { now: true }));
  }

  list(): Drain[] {
    return [...this.#drains.values()];
  }

  get(id: string): Drain | undefined {
    return this.#drains.get(id);
  }

  /**
   * Nodes whose progress is being measured: local nodes of listener drains (by their connection
   * gauges; other replicas publish theirs), or nodes of endpoint drains anywhere in the fleet (by
   * their host counts, which only this replica reads: it decides).
   */
  activeNodes(kind: 'listeners' | 'endpoints' = 'listeners'): NodeIdentity[] {
    if (kind === 'endpoints' && this.deps.leading && !this.deps.leading()) return [];
    const ids = this.#activeIds((d) => (d.spec.method === 'eds') === (kind === 'endpoints'));
    const nodes = kind === 'endpoints' ? this.#fleet : this.deps.nodes;
    return [...ids].flatMap((id) => nodes.get(id)?.identity ?? []);
  }

  /**
   * Ids of the nodes of running drains that are pushed or ACKed and not yet drained, and of
   * those whose egress waits for the app to stop calling out: both are judged by their gauges.
   */
  activeNodeIds(): Set<string> {
    return this.#activeIds(() => true);
  }

  #activeIds(which: (drain: Drain) => boolean): Set<string> {
    const ids = new Set<string>();
    for (const d of this.#drains.values()) {
      if (d.state !== 'running' || !which(d)) continue;
      for (const p of d.phases) for (const n of p.nodes) if (n.state === 'pushed' || n.state === 'acked') ids.add(n.nodeId);
      const gated = idleGatedPhase(d);
      if (gated !== undefined) for (const n of d.phases[gated]!.nodes) if (!nothingToDrain(n)) ids.add(n.nodeId);
    }
    return ids;
  }

  onChange(listener: (drain: Drain) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  create(request: DrainRequest, options: CreateOptions = {}): Promise<CreateResult> {
    return this.#exclusive(() => this.#create(request, options));
  }

  /** What starting this drain would take now (a dry run): nothing is stored or pushed. */
  preview(request: DrainRequest): { draft: DrainDraft } | { errors: readonly FieldError[] } {
    return draftDrain(request, this.#fleet.list(), this.deps.desired.config, this.#adminAvailability());
  }

  /** What a drafted drain weighs: its share of the fleet, the connections on its nodes, the nodes it could not measure. */
  blastRadius(draft: DrainDraft): BlastRadius {
    return blastRadius(draft, this.#fleet.list(), this.deps.connections, this.#adminAvailability());
  }

  #adminAvailability(): AdminAvailability {
    const admin = this.deps.admin;
    return admin && ((n) => admin.unavailable(n));
  }

  async #create(request: DrainRequest, options: CreateOptions): Promise<CreateResult> {
    const result = this.preview(request);
    if ('errors' in result) return result;
    const { spec, matched, phases, warnings } = result.draft;
    const now = this.#now();
    const drain: Drain = {
      id: `drn_${now.toString(36)}${randomBytes(4).toString('hex')}`,
      spec,
      createdAt: new Date(now).toISOString(),
      state: 'running',
      finishedAt: null,
      phase: 0,
      phases,
      warnings,
      ...(options.origin && { origin: options.origin }),
    };
    this.#drains.set(drain.id, drain);
    this.#unsaved.add(drain.id);
    let started: NodeProgress[];
    try {
      started = startDrain(drain, now, this.deps.logger);
      // Nothing to drain on any node (no listener in scope): it is stored as completed at once.
      finishIfDone(drain, now, this.deps.logger);
      await this.#store.save(this.list(), { changed: [drain] });
    } catch (err) {
      // Not stored, so not started: nothing was pushed.
      this.#drains.delete(drain.id);
      throw err;
    } finally {
      this.#unsaved.delete(drain.id);
    }
    const late = await this.#joinLate(drain, new Set(matched.map((n) => n.id)), now);
    const created = this.#drains.get(drain.id)!;
    await this.#push(created, [...started.map((n) => n.nodeId), ...late]);
    this.deps.logger.info(
      { event: 'drain_created', drain: drain.id, method: spec.method, scope: spec.scope, nodes: matched.length },
      `drain ${drain.id} started on ${matched.length} node(s)`,
    );
    this.#emit(created);
    return { drain: created };
  }

  /**
   * Nodes that connected while a new drain was being saved join it now, stored before any push;
   * returns their ids. Only nodes the draft did not see: looking each drafted node up in the
   * phases is quadratic. If that save fails the drain stays as created, and those nodes join it
   * when the store is back (`resync`).
   */
  async #joinLate(drain: Drain, drafted: ReadonlySet<string>, now: number): Promise<string[]> {
    const config = this.deps.desired.config;
    // Usually none: the drain is copied only when a node may join it.
    const candidates = this.#fleet.list().filter((n) => n.connected && !drafted.has(n.identity.id) && drainSelects(drain.spec, n.identity));
    if (candidates.length === 0) return [];
    const joined = workingCopy(drain);
    const late = candidates.filter((n) => joinDrain(joined, n.identity, config, now) === true).map((n) => n.identity.id);
    if (late.length === 0) return [];
    try {
      await this.#commit(joined);
    } catch (err) {
      this.deps.logger.warn(
        { event: 'drain_late_join_not_saved', drain: drain.id, nodes: late.length, error: (err as Error).message },
        `drain ${drain.id}: ${late.length} node(s) that connected during its creation join it once the store takes it`,
      );
      return [];
    }
    return late;
  }

  /** Ends a drain and restores what it removed or changed. */
  cancel(id: string): Promise<Drain | undefined> {
    // Another replica may be saving the same drain's progress: cancel the version it saved.
    return this.#exclusive(() => retryOnConflict(() => this.#cancel(id)));
  }

  async #cancel(id: string): Promise<Drain | undefined> {
    const current = this.#drains.get(id);
    if (!current) return undefined;
    if (current.state === 'cancelled') return current;
    const drain: Drain = { ...current, state: 'cancelled', finishedAt: new Date(this.#now()).toISOString() };
    if (drain.spec.method === 'drain-listeners') {
      drain.warnings = [...drain.warnings, 'listeners drained through /drain_listeners cannot be restored: restart those Envoys'];
    }
    await this.#commit(drain);
    this.#applyToNodes(this.#nodeIds(drain));
    // Only nodes whose health it failed: on the others, another drain may have failed it.
    const undone = drain.spec.method === 'healthcheck-fail' ? await this.#admin.run(drain, this.#nodeIds(drain, true), 'healthcheckOk') : [];
    const cancelled = undone.length === 0 ? drain : await this.#noteUndoFailures(drain, undone);
    this.deps.logger.info({ event: 'drain_cancelled', drain: id }, `drain ${id} cancelled; what it changed is restored`);
    this.#emit(cancelled);
    return cancelled;
  }

  /**
   * A cancelled drain with the nodes whose health it could not restore among its warnings, stored.
   * The cancel itself is already stored: if this cannot be, the warnings stay in the log alone.
   */
  async #noteUndoFailures(drain: Drain, failures: readonly string[]): Promise<Drain> {
    const noted: Drain = { ...drain, warnings: [...drain.warnings, ...failures] };
    try {
      await this.#commit(noted);
      return noted;
    } catch (err) {
      this.deps.logger.warn(
        { event: 'drain_warnings_not_saved', drain: drain.id, error: (err as Error).message },
        `drain ${drain.id}: the nodes whose health could not be restored are not noted on it (${(err as Error).message})`,
      );
      return drain;
    }
  }

  /**
   * Makes the drains `which` picks history: they stop acting on any listener and are kept only
   * to be shown, with the reason. One still running is ended too (cancelled): it will not go
   * on. Stored first; only then do overlays change and nodes get their listeners back.
   */
  retire(which: (drain: Drain) => boolean, reason: string): Promise<Drain[]> {
    return this.#exclusive(() => retryOnConflict(() => this.#retire(which, reason)));
  }

  async #retire(which: (drain: Drain) => boolean, reason: string): Promise<Drain[]> {
    const at = new Date(this.#now()).toISOString();
    const retired = new Map<string, Drain>();
    for (const d of this.#drains.values()) {
      if (d.retired !== undefined || !which(d)) continue;
      retired.set(d.id, { ...d, ...(d.state === 'running' && { state: 'cancelled', finishedAt: at }), retired: { at, reason } });
    }
    if (retired.size === 0) return [];
    const changed = [...retired.values()];
    const madeFrom = new Map(changed.map((d) => [d, this.#drains.get(d.id)!]));
    await this.#store.save(
      this.list().map((d) => retired.get(d.id) ?? d),
      { changed, madeFrom },
    );
    for (const d of changed) this.#drains.set(d.id, d);
    this.#applyToNodes(changed.flatMap((d) => this.#nodeIds(d)));
    this.deps.logger.info(
      { event: 'drains_retired', drains: changed.map((d) => d.id), reason },
      `${changed.length} drain(s) kept as history: ${reason}`,
    );
    for (const d of changed) this.#emit(d);
    return changed;
  }

  /**
   * An operator's action on a drain (pause, resume, skip or retry a node; see lifecycle.ts):
   * worked out on a copy, stored, then carried out on the nodes it concerns.
   */
  async act(id: string, action: DrainAction): Promise<Drain | undefined | { readonly notApplicable: string }> {
    const result = await this.#exclusive(() =>
      retryOnConflict(async () => {
        const current = this.#drains.get(id);
        if (!current) return undefined;
        const drain = workingCopy(current);
        const outcome = applyAction(drain, action, this.#now());
        if ('notApplicable' in outcome) return outcome;
        if (!outcome.applied) return current;
        await this.#commit(drain);
        this.deps.logger.info(
          { event: `drain_${action.kind}`, drain: id, ...('nodeId' in action && { node: action.nodeId }) },
          `drain ${id}: ${action.kind}${'nodeId' in action ? ` node ${action.nodeId}` : ''}`,
        );
        // A retry carries out the node's change again (an admin call is made again); a skip
        // only changes what the node is sent (a node skipped before its batch keeps serving).
        if (action.kind === 'retry') await this.#push(drain, outcome.nodeIds);
        else this.#applyToNodes(outcome.nodeIds);
        this.#emit(drain);
        return drain;
      }),
    );
    if (result === undefined || 'notApplicable' in result) return result;
    // A resumed drain starts its next batch, a skipped node may end its phase: now, not at the next tick.
    await this.tick();
    return this.#drains.get(id) ?? result;
  }

  /** Starts the egress phase of a scope-"all" drain now. */
  async advance(id: string): Promise<Drain | undefined | 'not-applicable'> {
    const released = await this.#exclusive(async () => {
      const current = this.#drains.get(id);
      if (!current) return undefined;
      if (current.state !== 'running' || current.phases.length < 2 || current.phases[1]!.state !== 'pending') return 'not-applicable';
      // Stored, so that the leading replica (maybe another) starts the egress phase.
      const drain: Drain = { ...current, advanced: true };
      await this.#commit(drain);
      return drain;
    });
    if (typeof released !== 'object') return released;
    await this.tick();
    return this.#drains.get(id) ?? released;
  }

  /**
   * Stores a new version of a drain (made on a copy), then puts it in place of the one in
   * memory. When the save fails nothing changes here. `step`: a step only the leader takes; it
   * is not put in place if the drain was replaced meanwhile by a stored version (another
   * replica changed it), and the result says whether it was.
   */
  async #commit(drain: Drain, step = false): Promise<boolean> {
    const before = this.#drains.get(drain.id);
    this.#inFlight.set(drain.id, drain);
    try {
      await this.#store.save(this.#effective(), {
        changed: [drain],
        step,
        ...(before && before !== drain && { madeFrom: new Map([[drain, before]]) }),
      });
    } finally {
      if (this.#inFlight.get(drain.id) === drain) this.#inFlight.delete(drain.id);
    }
    if (step && this.#drains.get(drain.id) !== before) return false;
    this.#drains.set(drain.id, drain);
    return true;
  }

  /**
   * The drains with the changes being stored in place of the drains they change. A node that
   * (re)connects while a change is being stored gets it, as it would a moment later: the file
   * can already hold it (renamed, its folder not yet synced), and the node must not be sent a
   * listener set older than what is on disk. Saves made meanwhile (a node joining) write it
   * too, so they cannot put the older version back on disk.
   */
  #effective(): Drain[] {
    return this.list().map((d) => this.#inFlight.get(d.id) ?? d);
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /**
   * A node connected: it joins the running drains that select it before its first response is
   * built, so a node that (re)connects mid-drain is never sent its full listener set when its
   * batch is already under way.
   */
  nodeConnected(node: NodeIdentity): void {
    const config = this.deps.desired.config;
    const now = this.#now();
    const joined = [...this.#drains.values()].filter((drain) => {
      if (this.#unsaved.has(drain.id)) return false;
      const joins = joinDrain(drain, node, config, now);
      if (joins === 'full') this.#warnFull(drain, node.id);
      if (joins !== true) return false;
      // A change of this drain being stored joins the node too: it takes the drain's place next.
      const storing = this.#inFlight.get(drain.id);
      if (storing) joinDrain(storing, node, config, now);
      return true;
    });
    if (joined.length === 0) return;
    this.#applyToNodes([node.id]);
    // The node's first response is built right after this returns; the save follows at once.
    const changed = joined.map((d) => this.#inFlight.get(d.id) ?? d);
    this.#store.save(this.#effective(), { changed }).catch((err: unknown) => this.deps.logger.error({ err }, 'saving drains failed'));
  }

  /** Once per drain: it holds MAX_DRAIN_NODES, and a node its selector takes was left out. */
  #warnFull(drain: Drain, nodeId: string): void {
    if (this.#warnedFull.has(drain.id)) return;
    this.#warnedFull.add(drain.id);
    this.deps.logger.warn(
      { event: 'drain_full', drain: drain.id, node: nodeId, maxNodes: MAX_DRAIN_NODES },
      `drain ${drain.id} holds ${MAX_DRAIN_NODES} nodes, as many as a drain may: node ${nodeId} and later nodes its selector takes are not drained by it`,
    );
  }

  /** Evaluates every running drain once (after any change under way), if this replica leads. */
  tick(): Promise<void> {
    if (this.deps.leading && !this.deps.leading()) return Promise.resolve();
    if (this.#tickQueued) return this.#lock.then(() => undefined);
    this.#tickQueued = true;
    return this.#exclusive(async () => {
      this.#tickQueued = false;
      // Leadership may have been lost while this tick waited for the changes before it.
      if (this.deps.leading && !this.deps.leading()) return;
      await this.#tick();
    });
  }

  async #tick(): Promise<void> {
    await this.#store.repair(() => this.#effective());
    const now = this.#now();
    for (const current of [...this.#drains.values()]) {
      if (current.state !== 'running') continue;
      await this.#repeatAdminCalls(current);
      // Replaced by a stored version (another replica changed it) during the calls: the next tick takes that one.
      if (this.#drains.get(current.id) !== current) continue;
      const drain = workingCopy(current);
      const { started, changed } = stepDrain(drain, now, (i, node) => this.#observer.observe(drain, i, node), this.deps.logger);
      const transitions = started.length > 0 || TERMINAL.has(drain.state);
      if (transitions || (changed && this.deps.saveProgress)) {
        if (!(await this.#commit(drain, true))) continue;
        await this.#push(
          drain,
          started.map((n) => n.nodeId),
        );
      } else if (changed) {
        // Progress only (ACKs, connection counts), which this replica alone keeps: not stored.
        this.#drains.set(drain.id, drain);
      }
      if (changed || transitions) this.#emit(drain);
    }
    await this.#forgetExpired(now);
  }

  /** Forgets the history that expired (the leader does, like any step): stored first, then here. */
  async #forgetExpired(now: number): Promise<void> {
    const expired = expiredDrains(this.#drains.values(), now, this.deps.retention ?? DEFAULT_RETENTION);
    if (expired.length === 0) return;
    const gone = new Set(expired.map((d) => d.id));
    await this.#store.save(
      this.list().filter((d) => !gone.has(d.id)),
      { changed: [], removed: expired, step: true },
    );
    for (const d of expired) if (this.#drains.get(d.id) === d) this.#drains.delete(d.id);
    this.#admin.forget(gone);
    for (const id of gone) this.#warnedFull.delete(id);
    this.deps.logger.info({ event: 'drains_forgotten', drains: [...gone] }, `${gone.size} finished drain(s) past their retention forgotten`);
  }

  /** The admin calls of a drain this process did not make (it just started leading), made now. */
  async #repeatAdminCalls(drain: Drain): Promise<void> {
    const method = drain.spec.method;
    if (!drainsByAdmin(method)) return;
    const ids = this.#admin.unattempted(drain, (id) => this.#fleet.get(id) !== undefined);
    if (ids.length === 0) return;
    this.deps.logger.info(
      { event: 'drain_admin_repeated', drain: drain.id, nodes: ids.length },
      `drain ${drain.id}: admin calls made again on ${ids.length} node(s) this process had not called`,
    );
    await this.#admin.run(drain, ids, drainingCall(method));
  }

  /** Carries out a drain's (saved) changes on these nodes: their overlays, or admin calls. */
  async #push(drain: Drain, nodeIds: readonly string[]): Promise<void> {
    const ids = [...new Set(nodeIds)];
    const method = drain.spec.method;
    // An endpoint drain acts on every node that holds its endpoints, listed or not: the desired
    // state works out which; its completion matters too (`remove` then leaves them out).
    if (ids.length === 0 && method !== 'eds') return;
    if (!drainsByAdmin(method)) {
      this.#applyToNodes(ids);
      // http2 sends the frames just queued from an immediate: let them leave before the API
      // reply to this change or the next tick runs, or every node waits for both.
      await setImmediate();
    } else {
      await this.#admin.run(drain, ids, drainingCall(method));
    }
  }

  /**
   * A drain changed in the store (on another replica, or the stored version took the place of
   * a change that lost): it is taken as is, the local nodes whose listeners it changes are
   * pushed at once, and local nodes it selects but lacks join it (they may have connected here
   * before this replica saw the drain).
   */
  applyStored(id: string, drain: Drain | undefined): void {
    const before = this.#drains.get(id);
    if (drain) this.#drains.set(id, drain);
    else this.#drains.delete(id);
    if (drain?.state === 'running') {
      const members = new Set(this.#nodeIds(drain));
      for (const n of this.deps.nodes.list()) {
        if (n.connected && !members.has(n.identity.id) && drainSelects(drain.spec, n.identity)) this.nodeConnected(n.identity);
      }
    }
    this.#applyToNodes([...(before ? this.#nodeIds(before) : []), ...(drain ? this.#nodeIds(drain) : [])]);
    if (drain) this.#emit(drain);
  }

  /**
   * The store is back after being unreachable: saves what changed here meanwhile (nodes that
   * joined drains), pushes every local node its current state, and has local nodes join the
   * drains they missed.
   */
  async resync(): Promise<void> {
    await this.#exclusive(() => retryOnConflict(() => this.#store.save(this.list())));
    this.deps.desired.applyDrains(this.list(), 'all');
    for (const n of this.deps.nodes.list()) if (n.connected) this.nodeConnected(n.identity);
  }

  /** Hands the drains in memory (all stored) to the desired state for these nodes. */
  #applyToNodes(nodeIds: Iterable<string>): void {
    this.deps.desired.applyDrains(this.#effective(), nodeIds);
  }

  /** The drain's nodes; `acting`: only those with something to drain in some phase. */
  #nodeIds(drain: Drain, acting = false): string[] {
    const ids = drain.phases.flatMap((p) => p.nodes.filter((n) => !acting || !nothingToDrain(n)).map((n) => n.nodeId));
    return [...new Set(ids)];
  }

  #emit(drain: Drain): void {
    for (const listener of this.#listeners) listener(drain);
  }
}
