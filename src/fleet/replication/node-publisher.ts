import type { Logger } from 'pino';
import type { ConnectionGauges } from '../../gauges/connection-gauges.js';
import { TypeUrl } from '../../resource/type-urls.js';
import type { DesiredState } from '../desired-state/desired-state.js';
import type { NodeStatusStore } from '../ports/node-status-store.js';
import type { XdsEvents } from '../../xds/events.js';
import type { NodeRegistry } from '../registry.js';
import type { HostCountSource } from '../drain/ports.js';
import type { SharedNodeRecord } from './shared-node.js';

export interface NodePublisherDeps {
  readonly store: NodeStatusStore;
  readonly replica: string;
  readonly registry: NodeRegistry;
  /** What each node should have now, and whether it ACKed it. */
  readonly desired: Pick<DesiredState, 'sync' | 'overlayOf'>;
  readonly gauges: ConnectionGauges;
  /** Host counts that reached this replica (load reports), told when recorded. */
  readonly hosts: HostCountSource & { onRecord(listener: (nodeId: string) => void): () => void };
  readonly drains: {
    /** Nodes whose connections a running drain is waiting on. */
    activeNodeIds(): ReadonlySet<string>;
  };
  readonly logger: Logger;
  /** Changes are gathered and published at most this often (default 250 ms). */
  readonly intervalMs?: number;
}

/**
 * Publishes what other replicas need to know of the nodes connected here: their status (for
 * the API on any replica, and for drains to select them), whether they ACKed their drained
 * listeners, and their connection gauges while they drain. Changes are coalesced: a node that
 * changes ten times between two publications is written once.
 */
export class NodeStatusPublisher {
  /** Nodes whose status changed. */
  readonly #dirty = new Set<string>();
  /** Nodes that reported gauges; published only while a drain waits on them. */
  readonly #reported = new Set<string>();
  /** What was last published, by node, to skip writes that change nothing. */
  readonly #published = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  /** Bumped by `republish`: a publication that spans one does not count as published. */
  #generation = 0;
  #stopGauges: () => void = () => {};
  #stopHosts: () => void = () => {};

  readonly events: Partial<XdsEvents> = {
    streamOpened: (s) => this.#dirty.add(s.node.id),
    streamClosed: (s) => this.#dirty.add(s.node.id),
    responseSent: (s) => this.#dirty.add(s.node.id),
    acked: (s) => this.#dirty.add(s.node.id),
    nacked: (s) => this.#dirty.add(s.node.id),
    parked: (s) => this.#dirty.add(s.node.id),
  };

  constructor(private readonly deps: NodePublisherDeps) {}

  start(): void {
    this.#stopGauges = this.deps.gauges.onReport((r) => this.#reported.add(r.nodeId));
    this.#stopHosts = this.deps.hosts.onRecord((id) => this.#reported.add(id));
    this.#timer ??= setInterval(() => void this.flush(), this.deps.intervalMs ?? 250);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopGauges();
    this.#stopHosts();
  }

  /** Everything is published again at the next flush (this replica's records were lost). */
  republish(): void {
    this.#generation += 1;
    this.#published.clear();
    for (const n of this.deps.registry.list()) this.#dirty.add(n.identity.id);
    for (const id of this.deps.drains.activeNodeIds()) this.#reported.add(id);
  }

  /** Publishes the changes gathered since the last flush. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    if (this.#dirty.size === 0 && this.#reported.size === 0) return;
    const active = this.deps.drains.activeNodeIds();
    const ids = new Set(this.#dirty);
    for (const id of this.#reported) if (active.has(id)) ids.add(id);
    this.#dirty.clear();
    this.#reported.clear();
    const changes = new Map<string, string | null>();
    for (const id of ids) {
      const record = this.#record(id, active);
      const text = record ? JSON.stringify(record) : null;
      if (text === (this.#published.get(id) ?? null)) continue;
      changes.set(id, text);
    }
    if (changes.size === 0) return;
    const generation = this.#generation;
    try {
      await this.deps.store.publish(changes);
    } catch (err) {
      // Tried again at the next flush (the store says when it is reachable again).
      for (const id of changes.keys()) this.#dirty.add(id);
      this.deps.logger.debug({ event: 'node_status_not_published', error: (err as Error).message }, 'node status not published');
      return;
    }
    // Records lost while this publication was under way: what it wrote is gone too.
    if (generation !== this.#generation) return;
    for (const [id, text] of changes) {
      if (text === null) this.#published.delete(id);
      else this.#published.set(id, text);
    }
  }

  #record(id: string, active: ReadonlySet<string>): SharedNodeRecord | null {
    const status = this.deps.registry.get(id);
    const connected = status?.connected === true;
    const report = active.has(id) ? this.deps.gauges.latest(id) : undefined;
    const hosts = active.has(id) ? this.deps.hosts.latest(id) : undefined;
    if (!connected && !report && !hosts) return null;
    let drainAck: SharedNodeRecord['drainAck'] = null;
    let drainNack: SharedNodeRecord['drainNack'] = null;
    if (connected) {
      // The listener set the node is meant to have now carries exactly the current overlay.
      const lds = this.deps.desired.sync(status, TypeUrl.Listener);
      const drained = [...this.deps.desired.overlayOf(id).keys()];
      if (lds?.ackedAt !== undefined) drainAck = { listeners: drained, at: lds.ackedAt };
      if (lds?.rejected !== undefined) drainNack = { listeners: drained, message: lds.rejected };
    }
    return {
      replica: this.deps.replica,
      nodeId: id,
      status: connected ? status : null,
      drainAck,
      drainNack,
      connections: report
        ? {
            at: report.at.toISOString(),
            listeners: Object.fromEntries(report.listeners),
            httpPrefixes: Object.fromEntries(report.httpPrefixes),
            ...(report.listenerManager && { listenerManager: report.listenerManager }),
          }
        : null,
      hosts: hosts
        ? {
            at: hosts.at.toISOString(),
            countsConnections: hosts.countsConnections,
            hosts: Object.fromEntries(hosts.hosts),
            addresses: Object.fromEntries(hosts.addresses),
          }
        : null,
    };
  }
}
