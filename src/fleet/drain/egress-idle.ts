/**
 * The `egress-idle` start of an egress phase: egress listeners are removed only once the
 * application no longer calls out through them, as measured from Envoy's connection gauges,
 * and at the latest when the wait for that runs out. Pure functions over a drain's progress.
 */
import type { Drain, NodeProgress, PhaseProgress } from './model.js';
import { nothingToDrain } from './model.js';
import type { NodeObservation } from './observation.js';
import { measureListeners } from './progress.js';

type IdleRule = Extract<Drain['spec']['egressStart'], { after: 'egress-idle' }>;

/** The phase, by index, whose start waits for idle egress, if the drain has one pending. */
export function idleGatedPhase(drain: Drain): number | undefined {
  if (drain.spec.egressStart.after !== 'egress-idle') return undefined;
  const i = drain.phases.findIndex((p) => p.name === 'egress');
  return i >= 0 && drain.phases[i]!.state === 'pending' ? i : undefined;
}

/**
 * Takes the node's latest gauges into its quiet record: quiet since the first reading at or
 * below the threshold that followed one above it. Readings older than the drain, or already
 * taken, change nothing. Returns true if the node's progress changed.
 */
export function recordQuiet(drain: Drain, node: NodeProgress, seen: NodeObservation): boolean {
  const report = seen.report;
  if (nothingToDrain(node) || !report || report.at < Date.parse(drain.createdAt)) return false;
  let held = false;
  let changed = measureListeners(node, (name) => {
    const measured = report.connections(name);
    // undefined: Envoy has no gauge for it (no such listener any more): nothing is held there.
    const count = measured === undefined ? 0 : measured;
    if (count === null || count > drain.spec.threshold) held = true;
    return count;
  });
  const since = node.quietSince ?? null;
  const next = held ? null : (since ?? new Date(report.at).toISOString());
  if (next !== since || node.quietSince === undefined) {
    node.quietSince = next;
    changed = true;
  }
  return changed;
}

/** Whether the node has been quiet for the rule's window, by its latest reading. */
function quietLongEnough(node: NodeProgress, rule: IdleRule, seen: NodeObservation): boolean {
  if (nothingToDrain(node)) return true;
  if (!node.quietSince || !seen.report) return false;
  return seen.report.at - Date.parse(node.quietSince) >= rule.quietSeconds * 1000;
}

/**
 * Whether the gated phase may start now, and why (kept on the phase): every node quiet for the
 * window, or the wait ran out (counted from when the phase before it finished, or from the
 * drain's start when there is none), naming the listeners that held it.
 */
export function idleRelease(
  drain: Drain,
  index: number,
  now: number,
  observe: (node: NodeProgress) => NodeObservation,
): NonNullable<PhaseProgress['release']> | undefined {
  const rule = drain.spec.egressStart as IdleRule;
  const before: PhaseProgress | undefined = drain.phases[index - 1];
  if (before && before.state !== 'done') return undefined;
  const phase = drain.phases[index]!;
  if (phase.nodes.every(nothingToDrain)) return { by: 'idle', message: 'no egress listener: nothing to wait for' };
  const holding = phase.nodes.filter((n) => !quietLongEnough(n, rule, observe(n)));
  if (holding.length === 0) {
    return { by: 'idle', message: `egress listeners had no connection for ${rule.quietSeconds}s: the application no longer calls out` };
  }
  const from = Date.parse(before?.finishedAt ?? drain.createdAt);
  if (now - from < rule.waitSeconds * 1000) return undefined;
  const held = holding.map((n) => `${n.nodeId}: ${heldBy(n)}`).join('; ');
  return {
    by: 'wait',
    message: `egress still in use after waiting ${rule.waitSeconds}s for the application to stop calling out (${held}): drained anyway`,
  };
}

function heldBy(node: NodeProgress): string {
  const busy = node.listeners.filter((l) => l.connections !== 0);
  if (busy.length === 0) return `quiet for less than the window`;
  return busy.map((l) => `${l.name} held ${l.connections === null ? 'unmeasured' : l.connections} connection(s)`).join(', ');
}
