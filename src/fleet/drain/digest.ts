/**
 * A drain as a console shows it, worked out on the server: per phase the counts, a line per
 * batch, and only the nodes worth a row (those holding the drain first, with why and their
 * connection history), however many nodes the drain has.
 */
import { compareNatural, firstInOrder } from '../node-order.js';
import { openConnections, type ConnectionHistory, type Sample } from './connection-history.js';
import {
  drainsByLds,
  NODE_FINISHED,
  phaseDeadlineSeconds,
  type Drain,
  type DrainSpec,
  type NodePhaseState,
  type NodeProgress,
  type PhaseProgress,
} from './model.js';
import { batchLimit } from './plan.js';

export interface NodeDigest extends NodeProgress {
  /** When the node's deadline in this phase passes (startedAt + deadlineSeconds). */
  readonly deadlineAt: string | null;
  /** Connections open on its listeners, once all of them were measured. */
  readonly connections: number | null;
  /** Why an unfinished node holds the drain: the listeners and what they wait for. */
  readonly holding: string | null;
  readonly history: Sample[];
}

export interface BatchDigest {
  readonly batch: number;
  readonly nodes: number;
  readonly finished: number;
  readonly drained: number;
  readonly startedAt: string | null;
}

export interface PhaseDigest extends Omit<PhaseProgress, 'nodes'> {
  readonly total: number;
  readonly counts: NodeCounts;
  /**
   * Open connections on the nodes draining now (pushed or ACKed) whose count is known; null
   * when nodes drain and none has a known count (never 0 for "not known").
   */
  readonly connections: number | null;
  /** Nodes draining now whose connection count is unknown (not measured, or not measurable). */
  readonly connectionsUnknown: number;
  readonly batches: BatchDigest[];
  /** The batches the phase takes in all: those started, and those its waiting nodes will fill. */
  readonly plannedBatches: number;
  /** The nodes worth a row: holding first (most connections first), then failed or timed out, then the latest drained, then waiting. */
  readonly nodes: NodeDigest[];
  /** The rows left out: of the phase's nodes, or of its matches when searched. */
  readonly nodesOmitted: number;
  /** With a search, the phase's nodes whose id matches it (the rows are taken from these); else null. */
  readonly matches: number | null;
}

export interface DrainDigest extends Omit<Drain, 'phases'> {
  readonly phases: PhaseDigest[];
  /** With a search, the drain's nodes (over all its phases, each once) whose id matches it; else null. */
  readonly matches: number | null;
}

/** Node counts by state; a state no node is in is left out. */
export type NodeCounts = Partial<Record<NodePhaseState, number>>;

export function countByState(nodes: readonly NodeProgress[]): NodeCounts {
  const counts: NodeCounts = {};
  for (const n of nodes) counts[n.state] = (counts[n.state] ?? 0) + 1;
  return counts;
}

/**
 * `search`: part of a node id (any case). The rows are then the matching nodes, however they
 * rank (the one an operator looks for may be waiting or long drained); the counts stay the
 * phase's.
 */
export function digestDrain(drain: Drain, history: ConnectionHistory, nodesPerPhase: number, search = ''): DrainDigest {
  const part = search.trim().toLowerCase();
  const matches = (n: NodeProgress): boolean => n.nodeId.toLowerCase().includes(part);
  return {
    ...drain,
    matches: part === '' ? null : new Set(drain.phases.flatMap((p) => p.nodes.filter(matches).map((n) => n.nodeId))).size,
    phases: drain.phases.map((phase, i) => {
      const { nodes, ...rest } = phase;
      const candidates = part === '' ? nodes : nodes.filter(matches);
      const shown = firstInOrder(candidates, nodesPerPhase, byInterest);
      const started = batches(nodes);
      return {
        ...rest,
        total: nodes.length,
        counts: countByState(nodes),
        ...phaseConnections(nodes),
        batches: started,
        plannedBatches: plannedBatches(drain.spec, phase, started),
        nodes: shown.map((n) => ({
          ...n,
          deadlineAt: n.startedAt && deadlineAt(n.startedAt, phaseDeadlineSeconds(drain.spec, phase.name)),
          connections: openConnections(n),
          // An ended drain (cancelled) is held by nothing, whatever its nodes' last state.
          holding: drain.state === 'running' ? holdingReason(n, drain.spec) : null,
          history: history.of(drain.id, n.nodeId, i),
        })),
        nodesOmitted: candidates.length - shown.length,
        matches: part === '' ? null : candidates.length,
      };
    }),
  };
}

/**
 * When a deadline of `seconds` from `startedAt` passes; null past the dates JavaScript can hold
 * (a drain stored before deadlines were bounded), where toISOString would throw.
 */
function deadlineAt(startedAt: string, seconds: number): string | null {
  const at = new Date(Date.parse(startedAt) + seconds * 1000);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/**
 * Why a node that has not finished holds its drain: no ACK (or admin call) yet, a listener not
 * measured since the ACK, or a listener still above the threshold. Null once nothing holds it.
 */
export function holdingReason(n: NodeProgress, spec: DrainSpec): string | null {
  if (n.state === 'pushed') {
    if (spec.method === 'eds') return 'no ACK yet of the endpoints marked DRAINING (EDS)';
    return drainsByLds(spec.method) ? 'no ACK yet of the drained listeners' : `the admin call (${spec.method}) has not succeeded yet`;
  }
  if (n.state !== 'acked' || spec.measure === 'ack') return null;
  if (spec.measure === 'listener-drain') return "Envoy still warms or drains listener versions (a drain lasts Envoy's --drain-time-s)";
  if (n.endpoints !== undefined) return endpointsHolding(n.endpoints, spec.threshold);
  const held = n.listeners.flatMap((l) => {
    if (l.connections === null) return [`${l.name}: no connection gauges since the ACK`];
    return l.connections > spec.threshold ? [`${l.name}: ${l.connections} connection(s) left`] : [];
  });
  return held.length > 0 ? held.join('; ') : null;
}

function endpointsHolding(endpoints: NonNullable<NodeProgress['endpoints']>, threshold: number): string | null {
  const held = endpoints.flatMap((e) => {
    if (e.requests === null || e.connections === null)
      return [`${e.address}: no host counts since the ACK (read from Envoy's admin /clusters: the node needs metadata admin_address)`];
    return e.requests > 0 || e.connections > threshold ? [`${e.address}: ${e.requests} request(s), ${e.connections} connection(s) open`] : [];
  });
  return held.length > 0 ? held.join('; ') : null;
}

function phaseConnections(nodes: readonly NodeProgress[]): { connections: number | null; connectionsUnknown: number } {
  let sum = 0;
  let known = 0;
  let unknown = 0;
  for (const n of nodes) {
    if (n.state !== 'pushed' && n.state !== 'acked') continue;
    const open = openConnections(n);
    if (open === null) unknown += 1;
    else {
      sum += open;
      known += 1;
    }
  }
  return { connections: known === 0 && unknown > 0 ? null : sum, connectionsUnknown: unknown };
}

/** Rows first: what holds the drain, what failed, what an operator skipped, what drained last, what waits. */
const RANK: Readonly<Record<NodePhaseState, number>> = { pushed: 0, acked: 0, failed: 1, timed_out: 1, skipped: 2, drained: 3, waiting: 4 };

function byInterest(a: NodeProgress, b: NodeProgress): number {
  const rank = RANK[a.state] - RANK[b.state];
  if (rank !== 0) return rank;
  if (RANK[a.state] === 0) return (openConnections(b) ?? Infinity) - (openConnections(a) ?? Infinity) || compareNatural(a.nodeId, b.nodeId);
  // ISO 8601 times of one format order as their characters do: no collation needed.
  if (a.state === 'drained') return (a.finishedAt ?? '') < (b.finishedAt ?? '') ? 1 : (a.finishedAt ?? '') > (b.finishedAt ?? '') ? -1 : 0;
  return compareNatural(a.nodeId, b.nodeId);
}

/**
 * The batches started, and as many more as the waiting nodes fill at the phase's batch size (a
 * late joiner may yet fill the running batch instead: the number is a plan, not a promise).
 */
function plannedBatches(spec: DrainSpec, phase: PhaseProgress, started: readonly BatchDigest[]): number {
  let waiting = 0;
  for (const n of phase.nodes) if (n.state === 'waiting') waiting += 1;
  if (waiting === 0) return started.length;
  return (started.at(-1)?.batch ?? 0) + Math.ceil(waiting / Math.min(waiting, batchLimit(spec, phase)));
}

function batches(nodes: readonly NodeProgress[]): BatchDigest[] {
  const byBatch = new Map<number, { nodes: number; finished: number; drained: number; startedAt: string | null }>();
  for (const n of nodes) {
    if (n.batch === null) continue;
    let b = byBatch.get(n.batch);
    if (!b) byBatch.set(n.batch, (b = { nodes: 0, finished: 0, drained: 0, startedAt: n.startedAt }));
    b.nodes += 1;
    if (NODE_FINISHED.has(n.state)) b.finished += 1;
    if (n.state === 'drained') b.drained += 1;
    if (n.startedAt !== null && (b.startedAt === null || n.startedAt < b.startedAt)) b.startedAt = n.startedAt;
  }
  return [...byBatch.entries()].sort(([a], [b]) => a - b).map(([batch, b]) => ({ batch, ...b }));
}
