/**
 * Showing a drain's progress as it changes: on a terminal, one bar per phase redrawn in place
 * (with failures and notices kept above it); anywhere else, one plain line per change, so logs
 * of a CI job or a deploy script read as a history.
 */
import type { DrainState, NodePhaseState } from '../fleet/drain/model.js';
import { NODE_FINISHED } from '../fleet/drain/model.js';
import type { DrainView, NodeProgressView, PhaseView } from './api-client.js';

/** Something worth a line: the differences between two successive states of a drain. */
export type ProgressEvent =
  | { readonly kind: 'phase-started'; readonly phase: PhaseView }
  | { readonly kind: 'batch-started'; readonly phase: PhaseView; readonly batch: number; readonly nodes: readonly string[] }
  /** `drained`: the phase's drained nodes counting this one. */
  | { readonly kind: 'node-finished'; readonly phase: PhaseView; readonly node: NodeProgressView; readonly drained: number }
  | { readonly kind: 'drain-finished'; readonly drain: DrainView };

/**
 * What changed from `prev` (undefined: nothing seen yet) to `next`, in the order it happened:
 * one update can carry several steps (the first one seen, or after a reconnect).
 */
export function progressEvents(prev: DrainView | undefined, next: DrainView): ProgressEvent[] {
  const timed: { at: string; event: ProgressEvent }[] = [];
  next.phases.forEach((phase, i) => {
    const before = prev?.phases[i];
    if (phase.state !== 'pending' && (before?.state ?? 'pending') === 'pending') {
      timed.push({ at: phase.startedAt ?? '', event: { kind: 'phase-started', phase } });
    }
    const was = new Map((before?.nodes ?? []).map((n) => [n.nodeId, n]));
    const finished = phase.nodes
      .filter((n) => NODE_FINISHED.has(n.state) && !NODE_FINISHED.has(was.get(n.nodeId)?.state ?? 'waiting'))
      .sort((a, b) => (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''));
    let drained = (before?.nodes ?? []).filter((n) => n.state === 'drained').length;
    for (const node of finished) {
      if (node.state === 'drained') drained += 1;
      timed.push({ at: node.finishedAt ?? '', event: { kind: 'node-finished', phase, node, drained } });
    }
    if (next.spec.batch === null) return; // without batches, a node's start is the phase's
    const started = new Map<number, NodeProgressView[]>();
    for (const n of phase.nodes) {
      if (n.batch === null || (was.get(n.nodeId)?.batch ?? null) !== null) continue;
      started.set(n.batch, [...(started.get(n.batch) ?? []), n]);
    }
    for (const [batch, nodes] of started) {
      const at = nodes.map((n) => n.startedAt ?? '').sort()[0]!;
      timed.push({ at, event: { kind: 'batch-started', phase, batch, nodes: nodes.map((n) => n.nodeId) } });
    }
  });
  // Stable, so within one instant the order above holds: a phase starts, nodes finish, and
  // that lets the next batch start.
  const events = timed.sort((a, b) => a.at.localeCompare(b.at)).map((t) => t.event);
  if (next.state !== 'running' && (prev === undefined || prev.state === 'running')) events.push({ kind: 'drain-finished', drain: next });
  return events;
}

export function formatEvent(e: ProgressEvent): string {
  switch (e.kind) {
    case 'phase-started':
      return `${e.phase.name}: phase started, ${e.phase.nodes.length} node(s)`;
    case 'batch-started':
      return `${e.phase.name}: batch ${e.batch} started: ${listNames(e.nodes)}`;
    case 'node-finished': {
      const { node, phase } = e;
      if (node.state === 'drained') {
        return `${phase.name}: ${node.nodeId} drained (${e.drained}/${phase.nodes.length})${node.note ? `: ${node.note}` : ''}`;
      }
      return `${phase.name}: ${node.nodeId} ${STATE_WORDS[node.state]}: ${node.error ?? 'no reason given'}`;
    }
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
  update(drain: DrainView): void;
  /** Something about the watching itself (a reconnect), not the drain. */
  note(message: string): void;
}

export function progressRenderer(out: NodeJS.WriteStream, err: NodeJS.WritableStream): ProgressRenderer {
  return out.isTTY ? new TtyProgress(out) : new PlainProgress(out, err);
}

class PlainProgress implements ProgressRenderer {
  #last: DrainView | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly err: NodeJS.WritableStream,
  ) {}

  update(drain: DrainView): void {
    const lines = progressEvents(this.#last, drain).map(formatEvent);
    this.#last = drain;
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
  #last: DrainView | undefined;
  /** The phase lines on screen now, to erase before drawing them again. */
  #block: readonly string[] = [];

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(drain: DrainView): void {
    const lasting = progressEvents(this.#last, drain).filter(
      (e) => e.kind === 'drain-finished' || (e.kind === 'node-finished' && e.node.state !== 'drained'),
    );
    this.#last = drain;
    this.#redraw(lasting.map(formatEvent));
  }

  note(message: string): void {
    this.#redraw([message]);
  }

  #redraw(lasting: readonly string[]): void {
    // A line wider than the terminal wraps, and the count of lines to erase would be wrong.
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const block = this.#last ? this.#last.phases.map((p) => phaseLine(this.#last!, p).slice(0, width)) : [];
    if (lasting.length === 0 && block.join('\n') === this.#block.join('\n')) return;
    const erase = this.#block.length > 0 ? `\x1b[${this.#block.length}F\x1b[J` : '';
    this.out.write(erase + [...lasting, ...block].map((l) => `${l}\n`).join(''));
    this.#block = block;
  }
}

const BAR_WIDTH = 20;

/** `ingress  [██████████░░░░░░░░░░]  3/8 drained  1 timed out  batch 2/4  12 conns left` */
export function phaseLine(drain: DrainView, phase: PhaseView): string {
  const total = phase.nodes.length;
  const finished = phase.nodes.filter((n) => NODE_FINISHED.has(n.state)).length;
  const filled = total === 0 ? (phase.state === 'done' ? BAR_WIDTH : 0) : Math.round((finished / total) * BAR_WIDTH);
  const parts = [`${phase.name.padEnd(9)}[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}]`, `${count(phase, 'drained')}/${total} drained`];
  for (const state of ['timed_out', 'failed', 'skipped'] as const) {
    const n = count(phase, state);
    if (n > 0) parts.push(`${n} ${STATE_WORDS[state]}`);
  }
  if (phase.state === 'pending') parts.push(pendingReason(drain));
  else if (phase.state === 'done') parts.push('done');
  else {
    const batch = currentBatch(drain, phase);
    if (batch) parts.push(batch);
    const left = connectionsLeft(drain, phase);
    if (left) parts.push(left);
  }
  return parts.join('  ');
}

function pendingReason(drain: DrainView): string {
  const rule = drain.spec.egressStart;
  if (rule.after === 'advance') return 'waits for drains advance';
  if (rule.after === 'delay') return `starts ${rule.seconds}s after ingress`;
  if (rule.after === 'egress-idle') return `waits for egress idle ${rule.quietSeconds}s (at most ${rule.waitSeconds}s)`;
  return 'waits for ingress';
}

function currentBatch(drain: DrainView, phase: PhaseView): string | undefined {
  const batch = drain.spec.batch;
  if (batch === null) return undefined;
  const current = Math.max(0, ...phase.nodes.map((n) => n.batch ?? 0));
  const size = 'size' in batch ? batch.size : Math.max(1, Math.floor((phase.nodes.length * batch.percent) / 100));
  return `batch ${current}/${Math.ceil(phase.nodes.length / size)}`;
}

/**
 * Connections still open on the listeners of nodes that ACKed: `+` and how many listeners are
 * unknown when some are not measured yet; `unknown` until one is. A modify drain (measured by
 * Envoy's listener drain) cannot count the old version's connections at all.
 */
function connectionsLeft(drain: DrainView, phase: PhaseView): string | undefined {
  if (drain.spec.measure === 'ack') return undefined;
  const listeners = phase.nodes.filter((n) => n.state === 'acked').flatMap((n) => n.listeners);
  if (listeners.length === 0) return undefined;
  if (drain.spec.measure === 'listener-drain') return 'Envoy draining, conns unknown';
  const measured = listeners.filter((l) => l.connections !== null);
  if (measured.length === 0) return 'conns unknown';
  const sum = measured.reduce((acc, l) => acc + l.connections!, 0);
  const unknown = listeners.length - measured.length;
  return unknown > 0 ? `${sum}+ conns left (${unknown} listener(s) unknown)` : `${sum} conns left`;
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

function count(phase: PhaseView, state: NodePhaseState): number {
  return phase.counts[state] ?? 0;
}

function listNames(names: readonly string[], shown = 5): string {
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head} and ${names.length - shown} more` : head;
}

function elapsed(drain: DrainView): string {
  const ms = Date.parse(drain.finishedAt ?? new Date().toISOString()) - Date.parse(drain.createdAt);
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}
