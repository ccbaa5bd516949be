/**
 * Showing a drain's progress as it changes: on a terminal, one bar per phase redrawn in place
 * (with failures and notices kept above it); anywhere else, one plain line per change, so logs
 * of a CI job or a deploy script read as a history.
 */
import type { DrainState, NodePhaseState } from '../fleet/drain/model.js';
import { NODE_FINISHED } from '../fleet/drain/model.js';
import { compareNatural } from '../fleet/node-order.js';
import type { BatchDigest, DrainDigest, NodeProgressView, PhaseDigest } from './api-client.js';

/**
 * Node rows per phase in the summaries a follower asks for: a phase of up to this many nodes is
 * shown node by node; a larger one in tenths drained, naming its failed and timed-out nodes as
 * they reach its rows (the nodes still holding the drain rank first).
 */
export const ROWS_PER_PHASE = 100;

/** Something worth a line: what changed between two successive summaries of a drain. */
export type ProgressEvent =
  | { readonly kind: 'phase-started'; readonly phase: PhaseDigest }
  /** `nodes`: the ids of the batch's nodes among the rows (the rest are counted). */
  | { readonly kind: 'batch-started'; readonly phase: PhaseDigest; readonly batch: BatchDigest; readonly nodes: readonly string[] }
  /** `drained`: the phase's drained nodes counting this one. */
  | { readonly kind: 'node-finished'; readonly phase: PhaseDigest; readonly node: NodeProgressView; readonly drained: number }
  /** A phase too large to show node by node reached another tenth of its nodes drained. */
  | { readonly kind: 'phase-drained'; readonly phase: PhaseDigest; readonly drained: number }
  | { readonly kind: 'drain-finished'; readonly drain: DrainDigest };

/**
 * Turns the summaries of one drain, as they come, into what happened in between, in the order
 * it happened: one summary can carry several steps (the first one seen, or after a reconnect).
 * It remembers which nodes it reported, as a node can leave a summary's rows and come back.
 */
export class ProgressTracker {
  #last: DrainDigest | undefined;
  /** Finished nodes already reported, by phase index, node id and the time it finished. */
  readonly #reported = new Set<string>();
  /** By phase index: the tenths drained reported of a phase shown in tenths. */
  readonly #tenths = new Map<number, number>();

  next(next: DrainDigest): ProgressEvent[] {
    const prev = this.#last;
    this.#last = next;
    const timed: { at: string; event: ProgressEvent }[] = [];
    next.phases.forEach((phase, i) => {
      const before = prev?.phases[i];
      if (phase.state !== 'pending' && (before?.state ?? 'pending') === 'pending') {
        timed.push({ at: phase.startedAt ?? '', event: { kind: 'phase-started', phase } });
      }
      const whole = phase.nodesOmitted === 0;
      // A node is reported once per end: one retried (`drains retry`) ends again, at a new time.
      const key = (n: NodeProgressView): string => `${i}\0${n.nodeId}\0${n.finishedAt ?? ''}`;
      const finished = phase.nodes
        .filter((n) => NODE_FINISHED.has(n.state) && (whole || n.state !== 'drained') && !this.#reported.has(key(n)))
        .sort((a, b) => compareTimes(a.finishedAt, b.finishedAt));
      let drained = before?.counts.drained ?? 0;
      for (const node of finished) {
        this.#reported.add(key(node));
        if (node.state === 'drained') drained += 1;
        timed.push({ at: node.finishedAt ?? '', event: { kind: 'node-finished', phase, node, drained } });
      }
      if (!whole) {
        const tenths = Math.floor(((phase.counts.drained ?? 0) * 10) / Math.max(1, phase.total));
        if (tenths > (this.#tenths.get(i) ?? 0)) {
          this.#tenths.set(i, tenths);
          timed.push({ at: latestEnd(phase), event: { kind: 'phase-drained', phase, drained: phase.counts.drained ?? 0 } });
        }
      }
      if (next.spec.batch === null) return; // without batches, a node's start is the phase's
      const seen = new Set(before?.batches.map((b) => b.batch));
      for (const batch of phase.batches) {
        if (seen.has(batch.batch)) continue;
        const nodes = phase.nodes.filter((n) => n.batch === batch.batch).map((n) => n.nodeId);
        timed.push({ at: batch.startedAt ?? '', event: { kind: 'batch-started', phase, batch, nodes } });
      }
    });
    // Stable, so within one instant the order above holds: a phase starts, nodes finish, and
    // that lets the next batch start.
    const events = timed.sort((a, b) => compareTimes(a.at, b.at)).map((t) => t.event);
    if (next.state !== 'running' && (prev === undefined || prev.state === 'running')) events.push({ kind: 'drain-finished', drain: next });
    return events;
  }

  /** The latest summary given. */
  get last(): DrainDigest | undefined {
    return this.#last;
  }
}

/**
 * When the phase last moved on, as far as the summary shows: its end, or the latest end among
 * its rows (a tenth drained is placed there, after the nodes whose end made it and before a
 * batch or phase that their ends let start).
 */
function latestEnd(phase: PhaseDigest): string {
  let latest = phase.finishedAt ?? phase.startedAt ?? '';
  for (const n of phase.nodes) if (n.finishedAt !== null && n.finishedAt > latest) latest = n.finishedAt;
  return latest;
}

/** ISO 8601 times of one format order as their characters do; a missing one first. */
function compareTimes(a: string | null, b: string | null): number {
  const [x, y] = [a ?? '', b ?? ''];
  return x < y ? -1 : x > y ? 1 : 0;
}

export function formatEvent(e: ProgressEvent): string {
  switch (e.kind) {
    case 'phase-started':
      return `${e.phase.name}: phase started, ${e.phase.total} node(s)`;
    case 'batch-started':
      return `${e.phase.name}: batch ${e.batch.batch} started: ${listNames(e.nodes, e.batch.nodes)}`;
    case 'node-finished': {
      const { node, phase } = e;
      if (node.state === 'drained') {
        return `${phase.name}: ${node.nodeId} drained (${e.drained}/${phase.total})${node.note ? `: ${node.note}` : ''}`;
      }
      return `${phase.name}: ${node.nodeId} ${STATE_WORDS[node.state]}: ${node.error ?? 'no reason given'}`;
    }
    case 'phase-drained':
      return `${e.phase.name}: ${e.drained}/${e.phase.total} drained`;
    case 'drain-finished':
      return `drain ${e.drain.id} ${STATE_WORDS[e.drain.state]} after ${elapsed(e.drain)}`;
  }
}

/** A drain's phases as far as heldBy reads them: a whole drain's, or a summary's (some node rows). */
interface HeldPhases {
  readonly phases: readonly {
    readonly name: string;
    readonly counts: Readonly<Record<string, number>>;
    readonly nodes: readonly NodeProgressView[];
  }[];
}

/**
 * Why a drain did not complete: each node that timed out or failed, the listeners it held
 * with their last connection counts, and the error; of a summary, the nodes it has rows for,
 * and how many more there are.
 */
export function heldBy(drain: HeldPhases): string[] {
  return drain.phases.flatMap((phase) => {
    const held = phase.nodes.filter((n) => n.state === 'timed_out' || n.state === 'failed');
    const lines = held.map((n) => {
      const listeners = n.listeners
        .map((l) => `${l.name} (${l.connections === null ? 'connections unknown' : `${l.connections} connection(s)`})`)
        .join(', ');
      const what = n.endpoints ? `endpoints ${n.endpoints.map((e) => e.address).join(', ')}` : `listeners ${listeners}`;
      return `${phase.name}: ${n.nodeId} ${STATE_WORDS[n.state]}, ${what}: ${n.error ?? 'no reason given'}`;
    });
    const more = (phase.counts['timed_out'] ?? 0) + (phase.counts['failed'] ?? 0) - held.length;
    return more > 0 ? [...lines, `${phase.name}: ${more} more node(s) timed out or failed`] : lines;
  });
}

export interface ProgressRenderer {
  update(drain: DrainDigest): void;
  /** Something about the watching itself (a reconnect), not the drain. */
  note(message: string): void;
}

export function progressRenderer(out: NodeJS.WriteStream, err: NodeJS.WritableStream): ProgressRenderer {
  return out.isTTY ? new TtyProgress(out) : new PlainProgress(out, err);
}

class PlainProgress implements ProgressRenderer {
  readonly #tracker = new ProgressTracker();

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly err: NodeJS.WritableStream,
  ) {}

  update(drain: DrainDigest): void {
    const lines = this.#tracker.next(drain).map(formatEvent);
    if (lines.length > 0) this.out.write(`${lines.join('\n')}\n`);
  }

  note(message: string): void {
    this.err.write(`drainplane: ${message}\n`);
  }
}

/**
 * Erases the block of phase lines it drew last, writes the lines that stay (failures, the
 * end, notices), and draws the block again below them.
 */
class TtyProgress implements ProgressRenderer {
  readonly #tracker = new ProgressTracker();
  /** The phase lines on screen now, to erase before drawing them again. */
  #block: readonly string[] = [];

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(drain: DrainDigest): void {
    const lasting = this.#tracker
      .next(drain)
      .filter((e) => e.kind === 'drain-finished' || (e.kind === 'node-finished' && e.node.state !== 'drained'));
    this.#redraw(lasting.map(formatEvent));
  }

  note(message: string): void {
    this.#redraw([message]);
  }

  #redraw(lasting: readonly string[]): void {
    // A line wider than the terminal wraps, and the count of lines to erase would be wrong.
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const last = this.#tracker.last;
    const block = last ? last.phases.map((p) => phaseLine(last, p).slice(0, width)) : [];
    if (lasting.length === 0 && block.join('\n') === this.#block.join('\n')) return;
    const erase = this.#block.length > 0 ? `\x1b[${this.#block.length}F\x1b[J` : '';
    this.out.write(erase + [...lasting, ...block].map((l) => `${l}\n`).join(''));
    this.#block = block;
  }
}

const BAR_WIDTH = 20;

/** `ingress  [██████████░░░░░░░░░░]  3/8 drained  1 timed out  batch 2/4  12 conns left` */
export function phaseLine(drain: DrainDigest, phase: PhaseDigest): string {
  const { total } = phase;
  let finished = 0;
  for (const state of NODE_FINISHED) finished += count(phase, state);
  const filled = total === 0 ? (phase.state === 'done' ? BAR_WIDTH : 0) : Math.round((finished / total) * BAR_WIDTH);
  const parts = [`${phase.name.padEnd(9)}[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}]`, `${count(phase, 'drained')}/${total} drained`];
  for (const state of ['timed_out', 'failed', 'skipped'] as const) {
    const n = count(phase, state);
    if (n > 0) parts.push(`${n} ${STATE_WORDS[state]}`);
  }
  if (phase.state === 'pending') parts.push(pendingReason(drain));
  else if (phase.state === 'done') parts.push('done');
  else {
    if (drain.spec.batch !== null) parts.push(`batch ${phase.batches.at(-1)?.batch ?? 0}/${phase.plannedBatches}`);
    const left = connectionsLeft(drain, phase);
    if (left) parts.push(left);
  }
  return parts.join('  ');
}

function pendingReason(drain: DrainDigest): string {
  const rule = drain.spec.egressStart;
  if (rule.after === 'advance') return 'waits for drains advance';
  if (rule.after === 'delay') return `starts ${rule.seconds}s after ingress`;
  if (rule.after === 'egress-idle') return `waits for egress idle ${rule.quietSeconds}s (at most ${rule.waitSeconds}s)`;
  return 'waits for ingress';
}

/**
 * Connections still open on the listeners of the nodes draining now: `+` and how many nodes
 * are unknown when some are not measured yet; `unknown` until one is. A modify drain (measured
 * by Envoy's listener drain) cannot count the old version's connections at all.
 */
function connectionsLeft(drain: DrainDigest, phase: PhaseDigest): string | undefined {
  if (drain.spec.measure === 'ack' || count(phase, 'pushed') + count(phase, 'acked') === 0) return undefined;
  if (drain.spec.measure === 'listener-drain') return 'Envoy draining, conns unknown';
  if (phase.connections === null) return 'conns unknown';
  const unknown = phase.connectionsUnknown;
  return unknown > 0 ? `${phase.connections}+ conns left (${unknown} node(s) unknown)` : `${phase.connections} conns left`;
}

const STATE_WORDS: Readonly<Record<NodePhaseState | DrainState, string>> = {
  waiting: 'waiting',
  pushed: 'pushed',
  acked: 'acked',
  drained: 'drained',
  timed_out: 'timed out',
  failed: 'failed',
  skipped: 'skipped',
  running: 'running',
  completed: 'completed',
  cancelled: 'was cancelled',
};

function count(phase: PhaseDigest, state: NodePhaseState): number {
  return phase.counts[state] ?? 0;
}

/** The first names, then how many more of `total` (the rest may not be known by name). */
function listNames(names: readonly string[], total: number, shown = 5): string {
  if (names.length === 0) return `${total} node(s)`;
  const head = [...names].sort(compareNatural).slice(0, shown);
  return total > head.length ? `${head.join(', ')} and ${total - head.length} more` : head.join(', ');
}

function elapsed(drain: DrainDigest): string {
  const ms = Date.parse(drain.finishedAt ?? new Date().toISOString()) - Date.parse(drain.createdAt);
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}
