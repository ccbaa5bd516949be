/**
 * How many connections each draining node held over time, for a console's small charts: a
 * bounded ring of samples per node, for a bounded number of nodes and drains. A sample is taken
 * when a drain's progress changes (its connection counts are part of the progress), so the
 * server keeps the history whether or not anyone watches.
 */
import { TERMINAL, type Drain, type NodeProgress } from './model.js';

export interface HistoryLimits {
  /** Samples kept per node and phase, newest last. */
  readonly samplesPerNode: number;
  /** Nodes with a history per drain; past it, finished nodes' histories make room. */
  readonly nodesPerDrain: number;
  /** Drains with histories; past it, ended drains' histories go first, oldest first. */
  readonly drains: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { samplesPerNode: 60, nodesPerDrain: 500, drains: 20 };

/** [epoch ms, connections still open on the node's drained listeners]. */
export type Sample = readonly [number, number];

export class ConnectionHistory {
  /** By drain, then phase and node: times and counts, interleaved (one flat array per node). */
  readonly #drains = new Map<string, Map<string, number[]>>();
  /** Drains seen ended: their histories are forgotten first. */
  readonly #ended = new Set<string>();

  constructor(private readonly limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {}

  /** Samples every node of the drain whose count is measured and changed since its last sample. */
  record(drain: Drain, now: number): void {
    if (TERMINAL.has(drain.state)) this.#ended.add(drain.id);
    let nodes = this.#drains.get(drain.id);
    if (!nodes) {
      nodes = new Map();
      this.#drains.set(drain.id, nodes);
      this.#evictDrains();
    }
    let finished: Set<string> | undefined;
    let full = false;
    drain.phases.forEach((phase, i) => {
      for (const n of phase.nodes) {
        const count = openConnections(n);
        if (count === null) continue;
        const key = nodeKey(n.nodeId, i);
        let samples = nodes.get(key);
        if (samples === undefined) {
          if (nodes.size >= this.limits.nodesPerDrain) {
            // Once no finished node is left to make room, none is for the rest of this pass.
            finished ??= finishedKeys(drain);
            if (full || !forgetOne(nodes, finished)) {
              full = true;
              continue;
            }
          }
          samples = [];
          nodes.set(key, samples);
        }
        if (samples.length > 0 && samples[samples.length - 1] === count) continue;
        samples.push(now, count);
        if (samples.length > this.limits.samplesPerNode * 2) samples.splice(0, 2);
      }
    });
  }

  /** The node's samples in the drain's phase (by index), oldest first. */
  of(drainId: string, nodeId: string, phase: number): Sample[] {
    const flat = this.#drains.get(drainId)?.get(nodeKey(nodeId, phase)) ?? [];
    const samples: Sample[] = [];
    for (let i = 0; i < flat.length; i += 2) samples.push([flat[i]!, flat[i + 1]!]);
    return samples;
  }

  #evictDrains(): void {
    while (this.#drains.size > this.limits.drains) {
      const id = [...this.#drains.keys()].find((d) => this.#ended.has(d)) ?? this.#drains.keys().next().value!;
      this.#drains.delete(id);
      this.#ended.delete(id);
    }
  }
}

function nodeKey(nodeId: string, phase: number): string {
  return `${phase}\0${nodeId}`;
}

/** Open connections on the node's drained listeners, once every one of them was measured. */
export function openConnections(n: NodeProgress): number | null {
  let sum = 0;
  for (const l of n.listeners) {
    if (l.connections === null) return null;
    sum += l.connections;
  }
  // An endpoint drain's node: the connections its Envoy holds to the drained hosts.
  for (const e of n.endpoints ?? []) {
    if (e.connections === null) return null;
    sum += e.connections;
  }
  return sum;
}

function finishedKeys(drain: Drain): Set<string> {
  const keys = new Set<string>();
  drain.phases.forEach((p, i) => {
    for (const n of p.nodes) if (n.finishedAt !== null) keys.add(nodeKey(n.nodeId, i));
  });
  return keys;
}

/** Forgets the history of one finished node; false when every node with a history still drains. */
function forgetOne(nodes: Map<string, number[]>, finished: ReadonlySet<string>): boolean {
  for (const key of nodes.keys()) {
    if (finished.has(key)) {
      nodes.delete(key);
      return true;
    }
  }
  return false;
}
