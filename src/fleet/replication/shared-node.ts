import type { ListenerVersions } from '../drain/observation.js';
import type { NodeStatus } from '../registry.js';

/**
 * What one replica publishes about a node: its status when the node's xDS stream is there, the
 * drain progress the leader needs to judge it from afar, and its connection gauges when they
 * reached this replica (Envoy's metrics stream may land on another replica than its ADS stream).
 * Plain JSON.
 */
export interface SharedNodeRecord {
  readonly replica: string;
  readonly nodeId: string;
  /** The node's status on this replica; null when only its gauges reached this replica. */
  readonly status: NodeStatus | null;
  /**
   * The listeners drains had removed or changed in the listener set the node last ACKed (its
   * current one), and when that ACK came; null while the node has not ACKed its current set.
   */
  readonly drainAck: { readonly listeners: readonly string[]; readonly at: string } | null;
  /** The node NACKed its current listener set, which had these listeners drained. */
  readonly drainNack: { readonly listeners: readonly string[]; readonly message: string } | null;
  /** The node's latest connection gauges, while it is being drained. */
  readonly connections: SharedConnections | null;
  /**
   * The node's latest host counts that reached this replica (its load reports may land on
   * another replica than its ADS stream), while it is being drained. Absent in records of
   * replicas that publish none.
   */
  readonly hosts?: SharedHostCounts | null;
}

/** A HostReport as JSON: counts by hostKey(cluster, address) and by address. */
export interface SharedHostCounts {
  readonly at: string;
  readonly countsConnections: boolean;
  readonly hosts: Readonly<Record<string, { readonly requests: number; readonly connections: number | null }>>;
  readonly addresses: Readonly<Record<string, { readonly requests: number; readonly connections: number | null }>>;
}

export interface SharedConnections {
  readonly at: string;
  readonly listeners: Readonly<Record<string, number>>;
  readonly httpPrefixes: Readonly<Record<string, number>>;
  /** Listener versions warming and draining on the node (what ends a modify drain), when reported. */
  readonly listenerManager?: ListenerVersions;
}

/** A node's status as any replica shows it: which replica holds its stream. */
export type FleetNodeStatus = NodeStatus & { readonly replica: string };

/** The record of the replica that holds the node's xDS stream now, if any. */
export function connectedRecord(records: readonly SharedNodeRecord[]): SharedNodeRecord | undefined {
  let best: SharedNodeRecord | undefined;
  for (const r of records) {
    if (!r.status?.connected) continue;
    if (!best || (r.status.connectedSince ?? '') > (best.status!.connectedSince ?? '')) best = r;
  }
  return best;
}
