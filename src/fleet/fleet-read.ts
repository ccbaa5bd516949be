/**
 * One read of the fleet, for views over many nodes (a page of nodes, the fleet summary): the
 * drains are indexed once for all the nodes read, and each node's listeners are worked out once.
 */
import type { NodeIdentity } from '../cache/node.js';
import type { FleetConfig } from './config.js';
import type { DesiredState } from './desired-state/desired-state.js';
import { DrainIndex, type ListenerView } from './drain/listener-state.js';
import type { Drain } from './drain/model.js';
import { nodeListeners } from './drain/plan.js';
import type { NodeStatus } from './registry.js';
import { gaugeReading } from './drain/gauge-reading.js';
import type { ConnectionSource } from './drain/ports.js';

/** A node's open connections as its Envoy last reported them. */
export interface NodeConnections {
  readonly at: string;
  readonly total: number;
  readonly listeners: Readonly<Record<string, number | null>>;
}

export interface FleetSources {
  readonly nodes: { list(): NodeStatus[] };
  /** The nodes' latest connection gauges (any replica's); absent: none are shown. */
  readonly connections?: ConnectionSource;
  /** The running config and the drains' changes to each node's listeners. */
  readonly desired: Pick<DesiredState, 'config' | 'overlayOf'>;
  readonly drains: { list(): Drain[] };
}

export class FleetRead {
  readonly #index: DrainIndex;
  readonly #config: FleetConfig;
  readonly #listeners = new Map<string, ListenerView[]>();

  constructor(private readonly sources: FleetSources) {
    this.#index = new DrainIndex(sources.drains.list());
    this.#config = sources.desired.config;
  }

  nodes(): NodeStatus[] {
    return this.sources.nodes.list();
  }

  drains(): Drain[] {
    return this.sources.drains.list();
  }

  /**
   * The connections the node's Envoy last reported, in all and by listener name (null where
   * its gauges cannot tell); null when it has not reported lately.
   */
  connections(identity: NodeIdentity): NodeConnections | null {
    const report = this.sources.connections?.latest(identity.id);
    if (!report) return null;
    const reading = gaugeReading(report, nodeListeners(this.#config, identity));
    const listeners: Record<string, number | null> = {};
    let total = 0;
    for (const view of this.listeners(identity)) {
      // undefined: the listener's gauges are gone with it (a drained listener): none left.
      const open = reading.connections(view.name);
      listeners[view.name] = open === undefined ? 0 : open;
      total += open ?? 0;
    }
    return { at: report.at.toISOString(), total, listeners };
  }

  /** The node's listeners (from its config group) with their state and the drain acting on each. */
  listeners(identity: NodeIdentity): ListenerView[] {
    let views = this.#listeners.get(identity.id);
    if (!views) {
      views = this.#index.listeners(identity.id, nodeListeners(this.#config, identity), this.sources.desired.overlayOf(identity.id));
      this.#listeners.set(identity.id, views);
    }
    return views;
  }
}

/**
 * The config the node was sent is not in effect: its last answer of some type was a NACK, or
 * a rejected config is parked (a new process of the node runs what it last accepted).
 */
export function isNacking(node: NodeStatus): boolean {
  return Object.values(node.types).some(
    (t) => t?.parked !== undefined || (t?.lastNack !== undefined && (t.acked === undefined || t.lastNack.at > t.acked.at)),
  );
}
