/**
 * What an operator does to a drain under way, worked out on a working copy (see
 * working-copy.ts), which the manager stores and only then puts in place:
 * - pause: no batch or phase starts; nodes already started go on to their end or deadline;
 * - resume: batches and phases start again;
 * - skip a node: its unfinished entries stop holding their batch and phase (`skipped`); a node
 *   whose batch had started stays drained, one still waiting is never drained;
 * - retry a node: its timed-out or failed entries are started again, with a new deadline (an
 *   admin call is made again; an LDS change is measured again), reopening the phase, and the
 *   drain if it had ended.
 */
import { NODE_FINISHED, TERMINAL, type Drain, type NodeProgress } from './model.js';

export const DRAIN_ACTIONS = ['pause', 'resume', 'skip', 'retry'] as const;

export type DrainAction = { readonly kind: 'pause' | 'resume' } | { readonly kind: 'skip' | 'retry'; readonly nodeId: string };

export type ActionOutcome =
  /** Applied to the copy: store it, then carry out the node changes on `nodeIds`. */
  | { readonly applied: true; readonly nodeIds: readonly string[] }
  /** Nothing to change: it is already so (pausing a paused drain). */
  | { readonly applied: false }
  | { readonly notApplicable: string };

export function applyAction(drain: Drain, action: DrainAction, now: number): ActionOutcome {
  const at = new Date(now).toISOString();
  switch (action.kind) {
    case 'pause':
      if (drain.state !== 'running') return { notApplicable: `drain ${drain.id} is ${drain.state}: only a running drain can be paused` };
      if (drain.paused) return { applied: false };
      drain.paused = { at };
      return { applied: true, nodeIds: [] };
    case 'resume':
      if (!drain.paused) return { applied: false };
      delete drain.paused;
      return { applied: true, nodeIds: [] };
    case 'skip':
      return skip(drain, action.nodeId, at);
    case 'retry':
      return retry(drain, action.nodeId, at);
  }
}

function skip(drain: Drain, nodeId: string, at: string): ActionOutcome {
  if (drain.state !== 'running') return { notApplicable: `drain ${drain.id} is ${drain.state}: only a running drain's nodes can be skipped` };
  const changed = replaceEntries(
    drain,
    nodeId,
    (n) => !NODE_FINISHED.has(n.state),
    (n) => ({ ...n, state: 'skipped', finishedAt: at }),
  );
  if (changed === undefined) return { notApplicable: `node ${nodeId} is not in drain ${drain.id}` };
  if (changed === 0) return { notApplicable: `node ${nodeId} has nothing left to wait for in drain ${drain.id}` };
  return { applied: true, nodeIds: [nodeId] };
}

function retry(drain: Drain, nodeId: string, at: string): ActionOutcome {
  if (drain.state === 'cancelled' || drain.retired) return { notApplicable: `drain ${drain.id} was cancelled: start a new drain instead` };
  const changed = replaceEntries(
    drain,
    nodeId,
    (n) => n.state === 'timed_out' || n.state === 'failed',
    (n) => ({
      ...n,
      state: 'pushed',
      startedAt: at,
      finishedAt: null,
      error: null,
      listeners: n.listeners.map((l) => ({ ...l, connections: null })),
      ...(n.endpoints && { endpoints: n.endpoints.map((e) => ({ ...e, requests: null, connections: null })) }),
    }),
  );
  if (changed === undefined) return { notApplicable: `node ${nodeId} is not in drain ${drain.id}` };
  if (changed === 0) return { notApplicable: `node ${nodeId} neither timed out nor failed in drain ${drain.id}` };
  // The phases it reopens run again, and so does a drain that had ended.
  for (const phase of drain.phases) {
    if (phase.state === 'done' && phase.nodes.some((n) => n.nodeId === nodeId && n.state === 'pushed')) {
      phase.state = 'running';
      phase.finishedAt = null;
    }
  }
  if (TERMINAL.has(drain.state)) {
    drain.state = 'running';
    drain.finishedAt = null;
  }
  return { applied: true, nodeIds: [nodeId] };
}

/**
 * Replaces the node's entries that `which` picks, in every phase, by new objects (a working copy
 * shares finished entries with the stored drain). How many; undefined when the node is not in it.
 */
function replaceEntries(
  drain: Drain,
  nodeId: string,
  which: (n: NodeProgress) => boolean,
  replace: (n: NodeProgress) => NodeProgress,
): number | undefined {
  let found = false;
  let changed = 0;
  for (const phase of drain.phases) {
    phase.nodes = phase.nodes.map((n) => {
      if (n.nodeId !== nodeId) return n;
      found = true;
      if (!which(n)) return n;
      changed += 1;
      return replace(n);
    });
  }
  return found ? changed : undefined;
}
