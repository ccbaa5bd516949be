/**
 * The fleet's changes, coalesced for every console watching: node and drain changes are noted
 * as they happen (an id in a set), and at most once per interval one `fleet` event (the summary
 * counted on the server, and which nodes changed) and one `drain` event per changed drain (its
 * digest) go out, serialized once for every subscriber. Nothing is computed while no one watches.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ConnectionHistory } from '../fleet/drain/connection-history.js';
import { digestDrain } from '../fleet/drain/digest.js';
import type { DrainManager } from '../fleet/drain/manager.js';
import { TERMINAL, type Drain } from '../fleet/drain/model.js';
import type { FleetRead } from '../fleet/fleet-read.js';
import { summarizeFleet } from '../fleet/fleet-summary.js';
import type { NodeRegistry } from '../fleet/registry.js';
import type { DrainDigest } from './schemas/drain.js';
import type { FleetEvent } from './schemas/fleet.js';

export interface FleetFeedOptions {
  readonly nodes: Pick<NodeRegistry, 'onChange'>;
  readonly drains: Pick<DrainManager, 'onChange' | 'list'>;
  readonly read: () => FleetRead;
  readonly history: ConnectionHistory;
  readonly logger: FastifyBaseLogger;
  /** At most one round of events per this many ms. */
  readonly intervalMs?: number;
  /** Node ids named per `fleet` event; past it, only counted. */
  readonly maxChangedIds?: number;
  /** Node rows per phase in a drain digest. */
  readonly drainNodes?: number;
  /** Ended drains sent to a new subscriber, besides every running one. */
  readonly recentDrains?: number;
}

export type FeedSubscriber = (event: 'fleet' | 'drain', json: string) => void;

export class FleetFeed {
  readonly #subscribers = new Set<FeedSubscriber>();
  readonly #changedNodes = new Set<string>();
  readonly #changedDrains = new Map<string, Drain>();
  readonly #unwatch: (() => void)[];
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lastFlush = 0;

  constructor(private readonly options: FleetFeedOptions) {
    this.#intervalMs = options.intervalMs ?? 500;
    this.#unwatch = [
      options.nodes.onChange((id) => this.#note(() => this.#changedNodes.add(id))),
      options.drains.onChange((d) => this.#note(() => this.#changedDrains.set(d.id, d))),
    ];
  }

  /** Sends the whole state to `subscriber` now, then the coalesced changes; returns the unsubscribe. */
  subscribe(subscriber: FeedSubscriber): () => void {
    subscriber('fleet', JSON.stringify(this.#fleetEvent([])));
    for (const drain of this.#recentDrains()) {
      const json = this.#digestJson(drain);
      if (json !== undefined) subscriber('drain', json);
    }
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  close(): void {
    for (const unwatch of this.#unwatch) unwatch();
    clearTimeout(this.#timer);
    this.#subscribers.clear();
  }

  #note(change: () => void): void {
    if (this.#subscribers.size === 0) return;
    change();
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastFlush + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => this.#flush(), wait);
    this.#timer.unref();
  }

  #flush(): void {
    this.#timer = undefined;
    this.#lastFlush = Date.now();
    const nodes = [...this.#changedNodes];
    const drains = [...this.#changedDrains.values()];
    this.#changedNodes.clear();
    this.#changedDrains.clear();
    try {
      this.#broadcast('fleet', JSON.stringify(this.#fleetEvent(nodes)));
    } catch (err) {
      this.options.logger.error({ err }, 'fleet event stream: cannot build an update');
    }
    for (const drain of drains) {
      const json = this.#digestJson(drain);
      if (json !== undefined) this.#broadcast('drain', json);
    }
  }

  /** A drain's digest as JSON; a drain that cannot be digested is logged and left out, not the stream. */
  #digestJson(drain: Drain): string | undefined {
    try {
      return JSON.stringify(this.#digest(drain));
    } catch (err) {
      this.options.logger.error({ err, drain: drain.id }, 'fleet event stream: cannot summarize a drain');
      return undefined;
    }
  }

  #broadcast(event: 'fleet' | 'drain', json: string): void {
    for (const subscriber of this.#subscribers) subscriber(event, json);
  }

  #fleetEvent(changed: readonly string[]): FleetEvent {
    const max = this.options.maxChangedIds ?? 500;
    return {
      at: new Date().toISOString(),
      summary: summarizeFleet(this.options.read()),
      changedNodes: changed.slice(0, max),
      changedNodesOmitted: Math.max(0, changed.length - max),
    };
  }

  #digest(drain: Drain): DrainDigest {
    return digestDrain(drain, this.options.history, this.options.drainNodes ?? 50);
  }

  /** Every running drain and the latest ended ones, newest first. */
  #recentDrains(): Drain[] {
    const all = this.options.drains.list().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const ended = all.filter((d) => TERMINAL.has(d.state)).slice(0, this.options.recentDrains ?? 10);
    return all.filter((d) => d.state === 'running' || ended.includes(d));
  }
}
