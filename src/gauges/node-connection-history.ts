/**
 * Each node's open connections over the last minutes, for the console's node page: the sum of
 * its listeners' `downstream_cx_active`, sampled from its gauge reports. Bounded: at most
 * `samplesPerNode` samples a node (a new one when the count changes, or every `intervalMs`
 * while it holds), for at most `nodes` nodes (the one reported longest ago makes room).
 */
import type { ConnectionReport } from './connection-gauges.js';

export interface NodeHistoryLimits {
  readonly samplesPerNode: number;
  readonly nodes: number;
  /** A steady count is sampled again after this long. */
  readonly intervalMs: number;
}

export const DEFAULT_NODE_HISTORY_LIMITS: NodeHistoryLimits = { samplesPerNode: 120, nodes: 20_000, intervalMs: 5_000 };

/** [epoch ms, open connections]. */
export type ConnectionSample = [number, number];

export class NodeConnectionHistory {
  /** By node, in the order they last reported (re-inserted), times and counts interleaved. */
  readonly #nodes = new Map<string, number[]>();

  constructor(private readonly limits: NodeHistoryLimits = DEFAULT_NODE_HISTORY_LIMITS) {}

  record(report: Pick<ConnectionReport, 'nodeId' | 'at' | 'listeners'>): void {
    let total = 0;
    for (const value of report.listeners.values()) total += value;
    const at = report.at.getTime();
    const samples = this.#nodes.get(report.nodeId) ?? [];
    this.#nodes.delete(report.nodeId);
    this.#nodes.set(report.nodeId, samples);
    const [lastAt, lastTotal] = [samples.at(-2), samples.at(-1)];
    if (lastTotal === total && lastAt !== undefined && at - lastAt < this.limits.intervalMs) return;
    samples.push(at, total);
    if (samples.length > this.limits.samplesPerNode * 2) samples.splice(0, 2);
    if (this.#nodes.size > this.limits.nodes) this.#nodes.delete(this.#nodes.keys().next().value!);
  }

  samples(nodeId: string): ConnectionSample[] {
    const flat = this.#nodes.get(nodeId) ?? [];
    const out: ConnectionSample[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
    return out;
  }
}
