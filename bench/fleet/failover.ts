/**
 * Failover: the replica every node is on is SIGKILLed, and each node reconnects to the next
 * replica after its own retry delay, drawn uniformly from 0 to JITTER_MS (as Envoy's backoff
 * jitter spreads a fleet's retries). Measured from the kill to each node's ACK of its first
 * listener set from the new replica: the moment it has listeners again.
 */
import type { LoadGenerator } from './generator.js';
import { nowMs } from './protocol.js';
import { latencies, type Latencies } from './latencies.js';

export const FAILOVER_JITTER_MS = 500;

export interface FailoverResult {
  readonly jitterMs: number;
  /** From the kill to each node's ACK of its first LDS response from the surviving replica. */
  readonly listenersAgain: Latencies;
  /** From the kill to the last node synced again (all four types ACKed). */
  readonly allSyncedMs: number;
  /** The surviving replica's CPU from just before the kill to the last node synced. */
  readonly survivorCpuSeconds: number;
}

/** Two servers of one fleet, whichever their kind: the one the nodes are on, and the next. */
export interface FailoverPair {
  /** SIGKILLs the server the nodes are on; resolves once it is gone. */
  killFirst(): Promise<void>;
  readonly survivorPort: number;
  survivorCpuSeconds(): Promise<number>;
}

export async function measureFailover(generator: LoadGenerator, pair: FailoverPair, timeoutMs: number): Promise<FailoverResult> {
  const cpu0 = await pair.survivorCpuSeconds();
  await generator.outage();
  const killedAt = nowMs();
  await pair.killFirst();
  const reports = await generator.reconnect(pair.survivorPort, timeoutMs, FAILOVER_JITTER_MS);
  const cpu1 = await pair.survivorCpuSeconds();
  return {
    jitterMs: FAILOVER_JITTER_MS,
    listenersAgain: latencies(reports.flatMap((r) => r.ldsAckedAt.map((t) => t - killedAt))),
    allSyncedMs: Math.max(...reports.map((r) => r.finishedAt)) - killedAt,
    survivorCpuSeconds: cpu1 - cpu0,
  };
}
