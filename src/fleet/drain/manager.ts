import { setImmediate } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { NodeIdentity } from '../../cache/node.js';
import type { SnapshotCache, SnapshotResolver } from '../../cache/snapshot-cache.js';
import { TypeUrl } from '../../resource/type-urls.js';
import { retryOnConflict } from '../../store/errors.js';
import type { DrainStore } from '../../store/state-store.js';
import type { FleetConfig } from '../config.js';
import type { NodeRegistry, NodeStatus } from '../registry.js';
import { TERMINAL, NODE_FINISHED, type Drain, type NodeProgress, type PhaseProgress } from './model.js';
import { gaugeReading } from './gauge-reading.js';
import { applyOverlay, overlaysOf, type NodeOverlay } from './overlay.js';
import { draftDrain, type DrainDraft } from './draft.js';
import { phaseEntry, startBatch, nodeListeners } from './plan.js';
import { advanceNode, type NodeObservation } from './progress.js';
import { selectorMatches } from './selector.js';
import type { DrainRequest, FieldError } from './spec.js';

/** The latest connection gauges a node reported (metrics service sink or admin /stats). */
export interface ConnectionSource {
  latest(nodeId: string): ConnectionReport | undefined;
}

export interface ConnectionReport {
  readonly at: Date;
  readonly listeners: ReadonlyMap<string, number>;
  readonly httpPrefixes: ReadonlyMap<string, number>;
}

/** Envoy admin actions for the admin drain methods, by node. */
export interface AdminDrainActions {
  healthcheckFail(node: NodeIdentity): Promise<void>;
  healthcheckOk(node: NodeIdentity): Promise<void>;
  drainListeners(node: NodeIdentity): Promise<void>;
  /** Why the node's admin API cannot be used, or undefined when it can. */
  unavailable(node: NodeIdentity): string | undefined;
}

/** Nodes by id, with their status. */
export interface NodeDirectory {
  get(id: string): NodeStatus | undefined;
  list(): NodeStatus[];
}

/** How far nodes whose xDS stream is on another replica are with their listener changes. */
export interface RemoteLdsProgress {
  /** Undefined when no other replica holds the node's stream. */
  observe(node: NodeProgress): Pick<NodeObservation, 'acked' | 'ackedAt' | 'rejected'> | undefined;
}

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
  readonly cache: SnapshotCache;
  readonly config: () => FleetConfig;
  readonly connections: ConnectionSource;
  readonly admin?: AdminDrainActions;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How often progress is evaluated. */
  readonly tickMs?: number;
}

/**
 * A phase is over when every node in it finished. A phase with no node is over once the drain
 * has nodes at all (they had none of this phase's listeners); while the whole drain has none,
 * it keeps running, so that nodes that connect later join it.
 */
function phaseOver(drain: Drain, phase: PhaseProgress): boolean {
  if (phase.nodes.length === 0) return drain.phases.some((p) => p.nodes.length > 0);
  return phase.nodes.every((n) => NODE_FINISHED.has(n.state));
}

export type CreateResult = { readonly drain: Drain } | { readonly errors: readonly FieldError[] };

/**
 * Carries out drains. Each drain is recorded in the store before any node is pushed; its
 * listener changes are an overlay on the nodes' desired snapshots, so a node that reconnects,
 * even to a restarted drainplane, gets its drained listener set and never the full one.
 */
export class DrainManager {
  readonly #drains = new Map<string, Drain>();
  readonly #overlays = new Map<string, NodeOverlay>();
  readonly #listeners = new Set<(drain: Drain) => void>();
  /** Admin calls that succeeded, by drain/phase/node, standing in for an ACK. */
  readonly #adminDone = new Set<string>();
  readonly #now: () => number;
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

  constructor(private readonly deps: DrainManagerDeps) {
    this.#now = deps.now ?? Date.now;
  }

  /** Reads the stored drains and rebuilds their overlays, before any node is served. */
  async load(): Promise<void> {
    for (const drain of await this.deps.store.load()) this.#drains.set(drain.id, drain);
    this.#rebuildOverlays(this.#allNodeIds());
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.tick().catch((err: unknown) => {
        // The decisions of a tick whose save failed are dropped; the next tick (here, or on
        // the replica that leads now) takes them again from the stored state.
        this.deps.store.revert?.(this.list());
        this.deps.logger.warn({ event: 'drain_tick_failed', error: (err as Error).message }, 'drain progress not saved');
      });
    }, this.deps.tickMs ?? 250);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Wraps the config's resolver so every node's snapshot carries its drains. */
  resolver(base: SnapshotResolver): SnapshotResolver {
    return (node) => {
      const snapshot = base(node);
      return snapshot && applyOverlay(snapshot, this.#overlays.get(node.id));
    };
  }

  list(): Drain[] {
    return [...this.#drains.values()];
  }

  get(id: string): Drain | undefined {
    return this.#drains.get(id);
  }

  /** The drains acting on a node's listeners now: listener name -> action and drain. */
  overlayOf(nodeId: string): NodeOverlay {
    return this.#overlays.get(nodeId) ?? new Map();
  }

  /** Nodes of running drains that are pushed or ACKed and not yet drained. */
  activeNodes(): NodeIdentity[] {
    return [...this.activeNodeIds()].flatMap((id) => this.deps.nodes.get(id)?.identity ?? []);
  }

  /** Ids of the nodes of running drains that are pushed or ACKed and not yet drained. */
  activeNodeIds(): Set<string> {
    const ids = new Set<string>();
    for (const d of this.#drains.values()) {
      if (d.state !== 'running') continue;
      for (const p of d.phases) for (const n of p.nodes) if (n.state === 'pushed' || n.state === 'acked') ids.add(n.nodeId);
    }
    return ids;
  }

  onChange(listener: (drain: Drain) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  create(request: DrainRequest): Promise<CreateResult> {
    return this.#exclusive(() => this.#create(request));
  }

  /** What starting this drain would take now (a dry run): nothing is stored or pushed. */
  preview(request: DrainRequest): { draft: DrainDraft } | { errors: readonly FieldError[] } {
    const admin = this.deps.admin;
    return draftDrain(request, (this.deps.fleet ?? this.deps.nodes).list(), this.deps.config(), admin && ((n) => admin.unavailable(n)));
  }

  async #create(request: DrainRequest): Promise<CreateResult> {
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
    };
    this.#drains.set(drain.id, drain);
    this.#unsaved.add(drain.id);
    let started: NodeProgress[];
    try {
      started = this.#startPhase(drain, 0, now);
      await this.deps.store.save(this.list());
    } catch (err) {
      // Not stored, so not started: nothing was pushed.
      this.#drains.delete(drain.id);
      throw err;
    } finally {
      this.#unsaved.delete(drain.id);
    }
    // Nodes that connected while it was being saved join it now, and that is saved before any push.
    // Only nodes the draft did not see: looking each drafted node up in the phases is quadratic.
    const config = this.deps.config();
    const drafted = new Set(matched.map((n) => n.id));
    const late = (this.deps.fleet ?? this.deps.nodes)
      .list()
      .filter((n) => n.connected && !drafted.has(n.identity.id) && this.#join(drain, n.identity, config, now))
      .map((n) => n.identity.id);
    if (late.length > 0) await this.deps.store.save(this.list());
    await this.#push(drain, [...started.map((n) => n.nodeId), ...late]);
    this.deps.logger.info(
      { event: 'drain_created', drain: drain.id, method: spec.method, scope: spec.scope, nodes: matched.length },
      `drain ${drain.id} started on ${matched.length} node(s)`,
    );
    this.#emit(drain);
    return { drain };
  }

  /** Ends a drain and restores what it removed or changed. */
  cancel(id: string): Promise<Drain | undefined> {
    // Another replica may be saving the same drain's progress: cancel the version it saved.
    return this.#exclusive(() => retryOnConflict(() => this.#cancel(id)));
  }

  async #cancel(id: string): Promise<Drain | undefined> {
    const drain = this.#drains.get(id);
    if (!drain) return undefined;
    if (drain.state === 'cancelled') return drain;
    drain.state = 'cancelled';
    drain.finishedAt = new Date(this.#now()).toISOString();
    if (drain.spec.method === 'drain-listeners') {
      drain.warnings.push('listeners drained through /drain_listeners cannot be restored: restart those Envoys');
    }
    await this.#saveOrRevert(drain);
    const ids = this.#nodeIds(drain);
    this.#rebuildOverlays(ids);
    this.deps.cache.refresh(ids);
    if (drain.spec.method === 'healthcheck-fail') await this.#adminEach(drain, ids, 'healthcheckOk');
    this.deps.logger.info({ event: 'drain_cancelled', drain: id }, `drain ${id} cancelled; its listeners are restored`);
    this.#emit(drain);
    return drain;
  }

  /** Starts the egress phase of a scope-"all" drain now. */
  async advance(id: string): Promise<Drain | undefined | 'not-applicable'> {
    const released = await this.#exclusive(async () => {
      const drain = this.#drains.get(id);
      if (!drain) return undefined;
      if (drain.state !== 'running' || drain.phases.length < 2 || drain.phases[1]!.state !== 'pending') return 'not-applicable';
      // Stored, so that the leading replica (maybe another) starts the egress phase.
      drain.advanced = true;
      await this.#saveOrRevert(drain);
      return drain;
    });
    if (typeof released !== 'object') return released;
    await this.tick();
    return this.#drains.get(id) ?? released;
  }

  /** Saves a change made on behalf of a request; if it cannot be saved, it is undone. */
  async #saveOrRevert(drain: Drain): Promise<void> {
    try {
      await this.deps.store.save(this.list());
    } catch (err) {
      this.deps.store.revert?.([drain]);
      throw err;
    }
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
    const config = this.deps.config();
    const now = this.#now();
    let joined = false;
    for (const drain of this.#drains.values()) {
      if (!this.#unsaved.has(drain.id) && this.#join(drain, node, config, now)) joined = true;
    }
    if (!joined) return;
    this.#rebuildOverlays([node.id]);
    // The node's first response is built right after this returns; the save follows at once.
    this.deps.store.save(this.list()).catch((err: unknown) => this.deps.logger.error({ err }, 'saving drains failed'));
  }

  /** Adds the node to the phases of a running drain that selects it; true if it joined any. */
  #join(drain: Drain, node: NodeIdentity, config: FleetConfig, now: number): boolean {
    if (drain.state !== 'running' || !selectorMatches(drain.spec.selector, node)) return false;
    let joined = false;
    drain.phases.forEach((phase, i) => {
      if (phase.nodes.some((n) => n.nodeId === node.id)) return;
      const entry = phaseEntry(drain.spec, phase.name, config, node);
      if (!entry) return;
      phase.nodes.push(entry);
      if (i <= drain.phase && phase.state !== 'pending') {
        phase.state = 'running';
        phase.finishedAt = null;
        startBatch(drain.spec, phase, now);
      }
      joined = true;
    });
    return joined;
  }

  /** Evaluates every running drain once (after any change under way), if this replica leads. */
  tick(): Promise<void> {
    if (this.deps.leading && !this.deps.leading()) return Promise.resolve();
    if (this.#tickQueued) return this.#lock.then(() => undefined);
    this.#tickQueued = true;
    return this.#exclusive(async () => {
      this.#tickQueued = false;
      await this.#tick();
    });
  }

  async #tick(): Promise<void> {
    const now = this.#now();
    for (const drain of this.#drains.values()) {
      if (drain.state !== 'running') continue;
      const { started, changed } = this.#evaluate(drain, now);
      const transitions = started.length > 0 || TERMINAL.has(drain.state);
      if (transitions || (changed && this.deps.saveProgress)) await this.#persistThenPush(drain, started);
      if (changed || transitions) this.#emit(drain);
    }
  }

  /** One step of a drain: node progress, batches, phases, completion. */
  #evaluate(drain: Drain, now: number): { started: NodeProgress[]; changed: boolean } {
    const started: NodeProgress[] = [];
    let changed = false;
    drain.phases.forEach((phase, i) => {
      if (phase.state !== 'running') return;
      for (const node of phase.nodes) {
        if (node.state !== 'pushed' && node.state !== 'acked') continue;
        if (advanceNode(node, drain.spec, this.#observe(drain, i, node), now)) changed = true;
      }
      started.push(...startBatch(drain.spec, phase, now));
      if (phaseOver(drain, phase)) {
        changed = true;
        phase.state = 'done';
        phase.finishedAt = new Date(now).toISOString();
      }
    });
    const next = drain.phases[1];
    if (next?.state === 'pending' && this.#egressMayStart(drain, now)) {
      started.push(...this.#startPhase(drain, 1, now));
      changed = true;
    }
    if (drain.phases.every((p) => p.state === 'done')) {
      const nodes = drain.phases.flatMap((p) => p.nodes);
      drain.state = nodes.some((n) => n.state === 'failed')
        ? 'failed'
        : nodes.some((n) => n.state === 'timed_out')
          ? 'timed_out'
          : 'completed';
      drain.finishedAt = new Date(now).toISOString();
      this.deps.logger.info({ event: 'drain_finished', drain: drain.id, state: drain.state }, `drain ${drain.id} ${drain.state}`);
    }
    return { started, changed: changed || started.length > 0 };
  }

  #egressMayStart(drain: Drain, now: number): boolean {
    const ingress = drain.phases[0]!;
    const rule = drain.spec.egressStart;
    if (rule.after === 'advance') return drain.advanced === true;
    if (rule.after === 'delay') {
      return ingress.state === 'done' || (ingress.startedAt !== null && now - Date.parse(ingress.startedAt) >= rule.seconds * 1000);
    }
    return ingress.state === 'done';
  }

  #startPhase(drain: Drain, index: number, now: number): NodeProgress[] {
    const phase = drain.phases[index]!;
    phase.state = 'running';
    phase.startedAt = new Date(now).toISOString();
    drain.phase = index;
    const started = startBatch(drain.spec, phase, now);
    if (phaseOver(drain, phase)) {
      phase.state = 'done';
      phase.finishedAt = phase.startedAt;
    }
    this.deps.logger.info(
      { event: 'drain_phase', drain: drain.id, phase: phase.name, nodes: phase.nodes.length },
      `drain ${drain.id}: ${phase.name} phase started`,
    );
    return started;
  }

  /** Saves, then pushes: what a node is sent is always already on disk. */
  async #persistThenPush(drain: Drain, started: readonly NodeProgress[]): Promise<void> {
    await this.deps.store.save(this.list());
    await this.#push(drain, started.map((n) => n.nodeId));
  }

  /** Carries out a drain's (saved) changes on these nodes: their overlays, or admin calls. */
  async #push(drain: Drain, nodeIds: readonly string[]): Promise<void> {
    const ids = [...new Set(nodeIds)];
    if (ids.length === 0) return;
    if (drain.spec.method === 'remove' || drain.spec.method === 'modify') {
      this.#rebuildOverlays(ids);
      this.deps.cache.refresh(ids);
      // http2 sends the frames just queued from an immediate: let them leave before the API
      // reply to this change or the next tick runs, or every node waits for both.
      await setImmediate();
    } else {
      await this.#adminEach(drain, ids, drain.spec.method === 'healthcheck-fail' ? 'healthcheckFail' : 'drainListeners');
    }
  }

  async #adminEach(drain: Drain, ids: readonly string[], action: 'healthcheckFail' | 'healthcheckOk' | 'drainListeners'): Promise<void> {
    const admin = this.deps.admin;
    await Promise.all(
      ids.map(async (id) => {
        const node = (this.deps.fleet ?? this.deps.nodes).get(id)?.identity;
        const entries = drain.phases.flatMap((p, i) => p.nodes.filter((n) => n.nodeId === id).map((n) => ({ n, i })));
        try {
          if (!admin || !node) throw new Error(admin ? `node ${id} is not known` : 'no Envoy admin client is configured');
          await admin[action](node);
          if (action !== 'healthcheckOk') for (const { i } of entries) this.#adminDone.add(`${drain.id}/${i}/${id}`);
        } catch (err) {
          const message = `${action} failed: ${(err as Error).message}`;
          this.deps.logger.warn({ event: 'drain_admin_failed', drain: drain.id, node: id, error: message }, message);
          if (action === 'healthcheckOk') return drain.warnings.push(`node ${id}: ${message}`);
          for (const { n } of entries) {
            if (NODE_FINISHED.has(n.state)) continue;
            n.state = 'failed';
            n.error = message;
            n.finishedAt = new Date(this.#now()).toISOString();
          }
        }
        return undefined;
      }),
    );
  }

  /** What the node reports now, for the progress rules. */
  #observe(drain: Drain, phaseIndex: number, node: NodeProgress): NodeObservation {
    const status = this.deps.nodes.get(node.nodeId);
    const report = this.deps.connections.latest(node.nodeId);
    let acked: boolean;
    let ackedAt: number | undefined;
    let rejected: string | undefined;
    const byLds = drain.spec.method === 'remove' || drain.spec.method === 'modify';
    // A node whose stream is on another replica is judged by what that replica published.
    const remote = byLds && !status?.connected ? this.deps.remote?.observe(node) : undefined;
    if (remote) {
      ({ acked, ackedAt, rejected } = remote);
    } else if (byLds) {
      const wanted = this.deps.cache.snapshot(node.nodeId)?.get(TypeUrl.Listener).version;
      const lds = status?.types.lds;
      acked = wanted !== undefined && lds?.acked?.version === wanted;
      ackedAt = acked && lds?.acked ? Date.parse(lds.acked.at) : undefined;
      rejected = wanted !== undefined && lds?.lastNack?.version === wanted ? lds.lastNack.message : undefined;
    } else {
      acked = this.#adminDone.has(`${drain.id}/${phaseIndex}/${node.nodeId}`);
      ackedAt = acked && node.startedAt ? Date.parse(node.startedAt) : undefined;
      rejected = undefined;
    }
    const identity = (status ?? (this.deps.fleet ?? this.deps.nodes).get(node.nodeId))?.identity;
    const listeners = identity ? nodeListeners(this.deps.config(), identity) : [];
    return { acked, ackedAt, rejected, report: report && gaugeReading(report, listeners) };
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
        if (n.connected && !members.has(n.identity.id) && selectorMatches(drain.spec.selector, n.identity)) this.nodeConnected(n.identity);
      }
    }
    const ids = new Set([...(before ? this.#nodeIds(before) : []), ...(drain ? this.#nodeIds(drain) : [])]);
    this.#rebuildOverlays(ids);
    this.deps.cache.refresh(ids);
    if (drain) this.#emit(drain);
  }

  /**
   * The store is back after being unreachable: saves what changed here meanwhile (nodes that
   * joined drains), pushes every local node its current state, and has local nodes join the
   * drains they missed.
   */
  async resync(): Promise<void> {
    await this.#exclusive(() => retryOnConflict(() => this.deps.store.save(this.list())));
    this.#rebuildOverlays(this.#allNodeIds());
    this.deps.cache.refresh();
    for (const n of this.deps.nodes.list()) if (n.connected) this.nodeConnected(n.identity);
  }

  /** Recomputes the overlays of these nodes from every drain that is not cancelled. */
  #rebuildOverlays(nodeIds: Iterable<string>): void {
    const wanted = new Set(nodeIds);
    const next = overlaysOf(this.#drains.values(), wanted);
    for (const id of wanted) {
      const overlay = next.get(id);
      if (overlay) this.#overlays.set(id, overlay);
      else this.#overlays.delete(id);
    }
  }

  #nodeIds(drain: Drain): string[] {
    return [...new Set(drain.phases.flatMap((p) => p.nodes.map((n) => n.nodeId)))];
  }

  #allNodeIds(): string[] {
    return [...new Set(this.list().flatMap((d) => this.#nodeIds(d)))];
  }

  #emit(drain: Drain): void {
    for (const listener of this.#listeners) listener(drain);
  }
}
