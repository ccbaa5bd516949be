import type { ConnectionGauges } from '../../gauges/connection-gauges.js';
import type { NodeStatusStore } from '../ports/node-status-store.js';
import type { ConnectionReport, ConnectionSource, HostCountSource, HostReport, NodeDirectory, RemoteLdsProgress } from '../drain/ports.js';
import type { NodeProgress } from '../drain/model.js';
import type { NodeObservation } from '../drain/observation.js';
import type { NodeRegistry } from '../registry.js';
import { connectedRecord, type FleetNodeStatus } from './shared-node.js';

export interface FleetViewOptions {
  /** This replica's id. */
  readonly replica: string;
  /** The nodes connected here. */
  readonly local: NodeRegistry;
  /** Connection gauges reported here. */
  readonly gauges: ConnectionGauges;
  /** Host counts read or reported here. */
  readonly hosts: HostCountSource;
  /** What the other replicas published. */
  readonly shared: NodeStatusStore;
}

/**
 * The whole fleet as one replica sees it: its own nodes from its registry, the others' from
 * what their replicas published. A node connected here is shown as this replica has it.
 */
export class FleetView implements NodeDirectory, ConnectionSource, RemoteLdsProgress {
  /** The newest host counts of a node, whichever replica they reached. */
  readonly hosts: HostCountSource = {
    latest: (nodeId) => {
      let newest: HostReport | undefined = this.#hosts.latest(nodeId);
      for (const r of this.#shared.others(nodeId)) {
        if (!r.hosts) continue;
        const at = new Date(r.hosts.at);
        if (newest && newest.at >= at) continue;
        newest = {
          at,
          countsConnections: r.hosts.countsConnections,
          hosts: new Map(Object.entries(r.hosts.hosts)),
          addresses: new Map(Object.entries(r.hosts.addresses)),
        };
      }
      return newest;
    },
  };
  readonly #replica: string;
  readonly #local: NodeRegistry;
  readonly #gauges: ConnectionGauges;
  readonly #hosts: HostCountSource;
  readonly #shared: NodeStatusStore;

  constructor(options: FleetViewOptions) {
    this.#replica = options.replica;
    this.#local = options.local;
    this.#gauges = options.gauges;
    this.#hosts = options.hosts;
    this.#shared = options.shared;
  }

  get(id: string): FleetNodeStatus | undefined {
    const mine = this.#local.get(id);
    if (mine?.connected) return { ...mine, replica: this.#replica };
    const there = connectedRecord(this.#shared.others(id));
    if (there) return { ...there.status!, replica: there.replica };
    return mine && { ...mine, replica: this.#replica };
  }

  list(): FleetNodeStatus[] {
    const byId = new Map<string, FleetNodeStatus>();
    for (const n of this.#local.list()) byId.set(n.identity.id, { ...n, replica: this.#replica });
    for (const r of this.#shared.allOthers()) {
      if (!r.status?.connected) continue;
      const held = byId.get(r.nodeId);
      // Two other replicas may both still list a node that just moved: the newer stream wins.
      const newer = (held?.connectedSince ?? '') < (r.status.connectedSince ?? '');
      if (held?.connected && (held.replica === this.#replica || !newer)) continue;
      byId.set(r.nodeId, { ...r.status, replica: r.replica });
    }
    return [...byId.values()];
  }

  /** Told when a node changes, here or as another replica published it. */
  onChange(listener: (nodeId: string) => void): () => void {
    const stops = [this.#local.onChange(listener), this.#shared.onChange(listener)];
    return () => {
      for (const stop of stops) stop();
    };
  }

  /** The newest connection gauges of a node, whichever replica its metrics stream reached. */
  latest(nodeId: string): ConnectionReport | undefined {
    let newest: ConnectionReport | undefined = this.#gauges.latest(nodeId);
    for (const r of this.#shared.others(nodeId)) {
      if (!r.connections) continue;
      const at = new Date(r.connections.at);
      if (newest && newest.at >= at) continue;
      newest = {
        at,
        listeners: new Map(Object.entries(r.connections.listeners)),
        httpPrefixes: new Map(Object.entries(r.connections.httpPrefixes)),
        ...(r.connections.listenerManager && { listenerManager: r.connections.listenerManager }),
      };
    }
    return newest;
  }

  /** Whether a node on another replica ACKed (or NACKed) a listener set with these listeners drained. */
  observe(node: NodeProgress): Pick<NodeObservation, 'acked' | 'ackedAt' | 'rejected'> | undefined {
    const record = connectedRecord(this.#shared.others(node.nodeId));
    if (!record) return undefined;
    const covers = (drained: readonly string[]): boolean => node.listeners.every((l) => drained.includes(l.name));
    const ack = record.drainAck && covers(record.drainAck.listeners) ? record.drainAck : undefined;
    return {
      acked: ack !== undefined,
      ackedAt: ack && Date.parse(ack.at),
      rejected: record.drainNack && covers(record.drainNack.listeners) ? record.drainNack.message : undefined,
    };
  }
}
