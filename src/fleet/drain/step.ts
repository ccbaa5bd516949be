/**
 * How a running drain moves on, one step at a time: node progress, batches, the start of the
 * egress phase, completion, nodes that join late. A step changes only the drain it is given; the manager decides
 * when steps run, and saves and pushes what they started.
 */
import type { Logger } from 'pino';
import type { NodeIdentity } from '../../cache/node.js';
import type { FleetConfig } from '../config.js';
import { idleGatedPhase, idleRelease, recordQuiet } from './egress-idle.js';
import { NODE_FINISHED, nothingToDrain, phaseDeadlineSeconds, type Drain, type NodeProgress, type PhaseProgress } from './model.js';
import { phaseEntry, startBatch } from './plan.js';
import type { NodeObservation } from './observation.js';
import { advanceNode } from './progress.js';
import { MAX_DRAIN_NODES } from './request-limits.js';
import { drainSelects } from './selector.js';

/** What a node of the drain reports now (its phase given by index). */
export type ObserveNode = (phaseIndex: number, node: NodeProgress) => NodeObservation;

export interface StepResult {
  /** Nodes whose change starts now: to be saved, then pushed. */
  readonly started: NodeProgress[];
  /** Whether anything in the drain changed. */
  readonly changed: boolean;
}

/** One step of a running drain at `now`. */
export function stepDrain(drain: Drain, now: number, observe: ObserveNode, logger: Logger): StepResult {
  const started: NodeProgress[] = [];
  let changed = false;
  drain.phases.forEach((phase, i) => {
    if (phase.state !== 'running') return;
    for (const node of phase.nodes) {
      if (node.state !== 'pushed' && node.state !== 'acked') continue;
      if (advanceNode(node, drain.spec, observe(i, node), now, phaseDeadlineSeconds(drain.spec, phase.name))) changed = true;
    }
    // Paused: the nodes under way are followed to their end, and no new batch starts.
    if (!drain.paused) started.push(...startBatch(drain.spec, phase, now));
    if (phaseOver(drain, phase)) {
      changed = true;
      phase.state = 'done';
      phase.finishedAt = new Date(now).toISOString();
    }
  });
  const gated = idleGatedPhase(drain);
  if (gated !== undefined) {
    // Egress waits for the app: its nodes' egress gauges are followed before anything is removed.
    for (const node of drain.phases[gated]!.nodes) if (recordQuiet(drain, node, observe(gated, node))) changed = true;
    const release = drain.paused ? undefined : idleRelease(drain, gated, now, (node) => observe(gated, node));
    if (release !== undefined) {
      drain.phases[gated]!.release = release;
      started.push(...startPhase(drain, gated, now, logger));
      changed = true;
    }
  } else {
    const next = drain.phases[1];
    if (next?.state === 'pending' && !drain.paused && egressMayStart(drain, now)) {
      started.push(...startPhase(drain, 1, now, logger));
      changed = true;
    }
  }
  finishIfDone(drain, now, logger);
  return { started, changed: changed || started.length > 0 };
}

/** Ends a running drain whose phases are all done, with its verdict. True if it ended now. */
export function finishIfDone(drain: Drain, now: number, logger: Logger): boolean {
  if (drain.state !== 'running' || !drain.phases.every((p) => p.state === 'done')) return false;
  const nodes = drain.phases.flatMap((p) => p.nodes);
  drain.state = nodes.some((n) => n.state === 'failed') ? 'failed' : nodes.some((n) => n.state === 'timed_out') ? 'timed_out' : 'completed';
  drain.finishedAt = new Date(now).toISOString();
  logger.info({ event: 'drain_finished', drain: drain.id, state: drain.state }, `drain ${drain.id} ${drain.state}`);
  return true;
}

/**
 * Starts a new drain: its first phase, unless that phase waits for idle egress (a scope-egress
 * drain with `egress-idle`): then the ticks start it once the app lets go.
 */
export function startDrain(drain: Drain, now: number, logger: Logger): NodeProgress[] {
  const waits = idleGatedPhase(drain) === 0 && drain.phases[0]!.nodes.some((n) => !nothingToDrain(n));
  return waits ? [] : startPhase(drain, 0, now, logger);
}

/** Starts a phase: its first batch is returned, to be saved and pushed. */
export function startPhase(drain: Drain, index: number, now: number, logger: Logger): NodeProgress[] {
  const phase = drain.phases[index]!;
  phase.state = 'running';
  phase.startedAt = new Date(now).toISOString();
  drain.phase = index;
  const started = startBatch(drain.spec, phase, now);
  if (phaseOver(drain, phase)) {
    phase.state = 'done';
    phase.finishedAt = phase.startedAt;
  }
  logger.info(
    { event: 'drain_phase', drain: drain.id, phase: phase.name, nodes: phase.nodes.length },
    `drain ${drain.id}: ${phase.name} phase started`,
  );
  return started;
}

/**
 * A node that connected after the drain started joins the phases of a running drain that
 * selects it (with nothing to drain where it has no listener of a phase). In a phase under way
 * it starts at once when the running batch has room, and otherwise waits for a later batch.
 * True if it joined any; `full` when the selector takes it but the drain holds MAX_DRAIN_NODES.
 */
export function joinDrain(drain: Drain, node: NodeIdentity, config: FleetConfig, now: number): boolean | 'full' {
  if (drain.state !== 'running' || !drainSelects(drain.spec, node)) return false;
  if (isFull(drain) && !drain.phases[0]!.nodes.some((n) => n.nodeId === node.id)) return 'full';
  let joined = false;
  drain.phases.forEach((phase, i) => {
    if (phase.nodes.some((n) => n.nodeId === node.id)) return;
    const entry = phaseEntry(drain.spec, phase.name, config, node);
    // An endpoint drain lists only the nodes that hold its endpoints (it acts on the others anyway).
    if (phase.name === 'endpoints' && nothingToDrain(entry)) return;
    phase.nodes.push(entry);
    // An entry with nothing to drain is finished already: it does not reopen a phase that is done.
    if (i <= drain.phase && phase.state !== 'pending' && !NODE_FINISHED.has(entry.state)) {
      phase.state = 'running';
      phase.finishedAt = null;
      if (!drain.paused) startBatch(drain.spec, phase, now);
    }
    joined = true;
  });
  return joined;
}

/** The drain holds as many nodes as a drain may. */
export function isFull(drain: Drain): boolean {
  return (drain.phases[0]?.nodes.length ?? 0) >= MAX_DRAIN_NODES;
}

function egressMayStart(drain: Drain, now: number): boolean {
  const ingress = drain.phases[0]!;
  const rule = drain.spec.egressStart;
  if (rule.after === 'advance') return drain.advanced === true;
  if (rule.after === 'delay') {
    return ingress.state === 'done' || (ingress.startedAt !== null && now - Date.parse(ingress.startedAt) >= rule.seconds * 1000);
  }
  return ingress.state === 'done';
}

/**
 * A phase is over when every node in it finished; nodes with nothing to drain in it finished
 * from the start. A phase with no node is over once the drain has nodes at all (a drain stored
 * before such nodes got entries); while the whole drain has none, it keeps running, so that
 * nodes that connect later join it. An endpoint drain's phase lists only nodes that hold its
 * endpoints, so without any it is over at once.
 */
function phaseOver(drain: Drain, phase: PhaseProgress): boolean {
  // No connected Envoy holds the endpoints: nothing to wait for (those that connect later get them marked).
  if (phase.nodes.length === 0) return phase.name === 'endpoints' || drain.phases.some((p) => p.nodes.length > 0);
  return phase.nodes.every((n) => NODE_FINISHED.has(n.state));
}
