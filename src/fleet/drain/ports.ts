/**
 * What drains need from outside the domain, as small interfaces: the edges (registry, metrics
 * sink, Envoy admin client, other replicas) implement them, and the drain logic depends on
 * nothing more.
 */
import type { NodeIdentity } from '../../cache/node.js';
import type { NodeStatus } from '../registry.js';
import type { NodeProgress } from './model.js';
import type { ListenerVersions, NodeObservation } from './observation.js';

/** The latest connection gauges a node reported (metrics service sink or admin /stats). */
export interface ConnectionSource {
  latest(nodeId: string): ConnectionReport | undefined;
}

export interface ConnectionReport {
  readonly at: Date;
  readonly listeners: ReadonlyMap<string, number>;
  readonly httpPrefixes: ReadonlyMap<string, number>;
  /** Listener versions warming and draining on the whole node; absent when not reported. */
  readonly listenerManager?: ListenerVersions | undefined;
}

/**
 * The latest host counts a node reported: per upstream host, the requests and connections its
 * Envoy has open to it (admin /clusters), or the requests alone (Envoy's load reports, LRS).
 * Envoy's metrics service stream carries neither.
 */
export interface HostCountSource {
  latest(nodeId: string): HostReport | undefined;
}

export interface HostReport {
  /** A time the counts were certainly read after (the admin request, or the load report before). */
  readonly at: Date;
  /** False when the source counts requests only (Envoy's load reports): connections are then null. */
  readonly countsConnections: boolean;
  /** By hostKey(cluster, address). */
  readonly hosts: ReadonlyMap<string, HostCounts>;
  /**
   * By address alone, summed over every cluster that has the host: for an assignment whose
   * Envoy cluster has another name (eds_cluster_config.service_name).
   */
  readonly addresses: ReadonlyMap<string, HostCounts>;
}

export interface HostCounts {
  readonly requests: number;
  /** Null when the source does not count connections (load reports). */
  readonly connections: number | null;
}

/** The key of a host in a HostReport: its cluster and `HOST:PORT`. */
export function hostKey(cluster: string, address: string): string {
  return `${cluster}\0${address}`;
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
