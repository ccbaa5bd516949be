/**
 * How a running drain stands as a whole: how long it can still take, and its connections
 * falling. The time is an upper bound read from deadlines: each running batch ends at the latest
 * when its last node's deadline passes, and each batch still to start can take a whole deadline.
 * Nodes usually drain sooner, so the words say "at most". A paused drain starts no batch, so no
 * time left is said for it.
 */
import { connectionChart } from './chart.js';
import { h, type Child } from './dom.js';
import type { DrainDigest, NodeDigest, PhaseDigest } from './types.js';

const UNFINISHED: ReadonlySet<NodeDigest['state']> = new Set(['pushed', 'acked']);

/** "at most 3 min left", or "deadline passed". */
export function atMostText(ms: number): string {
  return ms <= 0 ? 'deadline passed' : `at most ${Math.ceil(ms / 60_000)} min left`;
}

/** Until the last deadline of a running batch's unfinished nodes, in ms; undefined when none is known. */
export function batchLeft(p: PhaseDigest, batch: number, now = Date.now()): number | undefined {
  const deadlines = p.nodes.filter((n) => n.batch === batch && UNFINISHED.has(n.state) && n.deadlineAt).map((n) => Date.parse(n.deadlineAt!));
  return deadlines.length === 0 ? undefined : Math.max(...deadlines) - now;
}

/** The upper bound of the drain's time left, in ms: its running batches, then every batch still to start. */
function drainLeft(d: DrainDigest, now: number): number {
  let left = 0;
  for (const p of d.phases) {
    if (p.state === 'done') continue;
    const deadline = (p.name === 'egress' ? d.spec.egressDeadlineSeconds : undefined) ?? d.spec.deadlineSeconds;
    const running = p.batches.filter((b) => b.finished < b.nodes).map((b) => batchLeft(p, b.batch, now) ?? 0);
    left += Math.max(0, ...running) + Math.max(0, p.plannedBatches - p.batches.length) * deadline * 1000;
  }
  return left;
}

/** The connections of all its nodes over time: at each sample, the sum of each node's latest count. */
export function drainHistory(d: DrainDigest): [number, number][] {
  const nodes = d.phases.flatMap((p) => p.nodes).filter((n) => n.history.length > 0);
  const times = [...new Set(nodes.flatMap((n) => n.history.map(([t]) => t)))].sort((a, b) => a - b);
  const at = nodes.map(() => 0);
  return times.map((t) => {
    let sum = 0;
    nodes.forEach((n, i) => {
      while (at[i]! < n.history.length && n.history[at[i]!]![0] <= t) at[i]! += 1;
      sum += at[i]! > 0 ? n.history[at[i]! - 1]![1] : 0;
    });
    return [t, sum];
  });
}

/** The time left and the chart of a running drain; nothing for one that ended. */
export function renderOverview(d: DrainDigest): Child[] {
  if (d.state !== 'running') return [];
  const waitsForHand = d.phases.some((p) => p.state === 'pending') && d.spec.egressStart.after === 'advance';
  const time = d.paused
    ? 'Paused: no batch starts until it is resumed, so no time left can be said.'
    : `Time left: ${atMostText(drainLeft(d, Date.now())).replace('at most', 'at most about')}, by the deadlines ` +
      `(nodes that drain sooner end it sooner)${waitsForHand ? ', plus the wait for the egress phase to be started by hand' : ''}.`;
  const history = drainHistory(d);
  return [
    h('p', { class: 'time-left' }, time),
    history.length > 0
      ? h(
          'figure',
          { class: 'drain-chart' },
          connectionChart(history, Date.now(), { width: 480, height: 80 }),
          h('figcaption', {}, 'Connections open on its nodes'),
        )
      : null,
  ];
}
