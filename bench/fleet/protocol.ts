/** Messages between the benchmark's main process and its load generator workers (IPC). */
import type { GroupPlan } from './fleet-config.js';

export interface NodeRange {
  /** This worker simulates the nodes whose index i satisfies i % workers === worker, i < total. */
  readonly worker: number;
  readonly workers: number;
  readonly total: number;
  /** Percent of nodes that speak Delta xDS; the rest speak SotW. */
  readonly deltaPercent: number;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly groups: readonly GroupPlan[];
  readonly nodes: NodeRange;
  /** HTTP/2 streams (simulated nodes) per connection; 1 gives every node its own connection. */
  readonly streamsPerConnection: number;
  /** Nodes of this worker that may be connecting (opened, not yet synced) at once. */
  readonly connectWindow: number;
}

export type ToWorker =
  | { readonly op: 'connect'; readonly options: ConnectOptions }
  /** Remember every node's LDS version; report once each node has ACKed a different one. */
  | { readonly op: 'arm'; readonly id: string }
  /** Report now what was seen since `arm`, even if not every node changed. */
  | { readonly op: 'report'; readonly id: string }
  /** The control plane is about to be killed: stop watching the streams. */
  | { readonly op: 'outage' }
  /**
   * Open every node's stream again, to `port`, each after its own delay drawn uniformly from
   * 0 to `jitterMs` (Envoy's retry jitter); answered with `synced`.
   */
  | { readonly op: 'reconnect'; readonly port: number; readonly jitterMs: number }
  | { readonly op: 'lds-state' }
  | { readonly op: 'close' };

/** A node's latest LDS response. */
export interface NodeLds {
  readonly index: number;
  readonly delta: boolean;
  readonly version: string;
  readonly resources: number;
  readonly removed: number;
}

export interface Convergence {
  readonly id: string;
  /** Epoch ms (sub-ms precision) at which each changed node sent its ACK of the new LDS version. */
  readonly ackTimes: number[];
  /** Nodes that had not ACKed a new LDS version when this was sent. */
  readonly pending: number;
  /** Worker CPU (user + system) in ms since `arm`. */
  readonly cpuMs: number;
  /** Worker event-loop delay since `arm`, ms. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

export interface SyncReport {
  readonly nodes: number;
  readonly sotw: number;
  readonly delta: number;
  readonly connections: number;
  /** Epoch ms of the first stream opened and of the last node synced (ACKed all four types). */
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Per node: ms from opening its stream to its fourth ACK. */
  readonly syncMs: number[];
  /** Per node: epoch ms of its ACK of the first LDS response on its current stream. */
  readonly ldsAckedAt: number[];
  readonly cpuMs: number;
}

export type FromWorker =
  | { readonly op: 'synced'; readonly report: SyncReport }
  | { readonly op: 'armed'; readonly id: string }
  | { readonly op: 'converged'; readonly result: Convergence }
  | { readonly op: 'failure'; readonly message: string }
  | { readonly op: 'outage' }
  | { readonly op: 'lds-state'; readonly nodes: readonly NodeLds[] }
  | { readonly op: 'closed' };

/** Epoch milliseconds with sub-millisecond precision, comparable across processes of one host. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Spreads Delta nodes evenly: node i is Delta when the running count of Delta nodes steps up at i. */
export function isDeltaNode(index: number, deltaPercent: number): boolean {
  return Math.floor(((index + 1) * deltaPercent) / 100) > Math.floor((index * deltaPercent) / 100);
}
