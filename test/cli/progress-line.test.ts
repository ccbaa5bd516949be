import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Drain, DrainMeasure, NodePhaseState, NodeProgress } from '../../src/fleet/drain/model.js';
import { ConnectionHistory } from '../../src/fleet/drain/connection-history.js';
import { digestDrain } from '../../src/fleet/drain/digest.js';
import { formatEvent, heldBy, phaseLine, ProgressTracker, ROWS_PER_PHASE } from '../../src/cli/progress.js';
import { summaryOf } from '../../src/cli/drain-watch.js';
import { drainRecord } from '../support/drain-record.js';

const acked = (nodeId: string, connections: (number | null)[]): NodeProgress => ({
  nodeId,
  state: 'acked',
  batch: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
  listeners: connections.map((c, i) => ({ name: `l${i}`, connections: c })),
  error: null,
});

const drain = (measure: DrainMeasure, nodes: NodeProgress[]): Drain => {
  const d = drainRecord('drn_1');
  return {
    ...d,
    spec: { ...d.spec, method: measure === 'listener-drain' ? 'modify' : 'remove', deadlineSeconds: 30, measure },
    phases: [{ name: 'ingress', state: 'running', startedAt: d.createdAt, finishedAt: null, nodes }],
  };
};

/** The drain as `drainplane drain --wait` receives it: its summary, as the server makes it. */
const summary = (d: Drain, rows = ROWS_PER_PHASE) => digestDrain(d, new ConnectionHistory(), rows);

describe('CLI progress line: counts drainplane does not know read "unknown", never 0', () => {
  test('connections: none measured, some measured, all measured', () => {
    const none = summary(drain('connections', [acked('a', [null])]));
    assert.match(phaseLine(none, none.phases[0]!), /conns unknown$/);
    const some = summary(drain('connections', [acked('a', [null]), acked('b', [3])]));
    assert.match(phaseLine(some, some.phases[0]!), /3\+ conns left \(1 node\(s\) unknown\)$/);
    const all = summary(drain('connections', [acked('a', [0]), acked('b', [3])]));
    assert.match(phaseLine(all, all.phases[0]!), / {2}3 conns left$/);
  });

  test("listener-drain (modify): Envoy drains, the old version's connections are unknown", () => {
    const d = summary(drain('listener-drain', [acked('a', [null])]));
    assert.match(phaseLine(d, d.phases[0]!), /Envoy draining, conns unknown$/);
  });

  test('a node that timed out with unmeasured listeners says unknown', () => {
    const d = summary(drain('listener-drain', [{ ...acked('a', [null]), state: 'timed_out', error: 'still draining' }]));
    assert.deepEqual(heldBy(d), ['ingress: a timed out, listeners l0 (connections unknown): still draining']);
  });

  test('of a summary, the nodes it has rows for, and how many more timed out or failed', () => {
    const failed = (id: string, state: NodePhaseState): NodeProgress => ({ ...acked(id, [null]), state, error: 'still draining' });
    const d = summary(drain('listener-drain', [failed('a', 'timed_out'), failed('b', 'timed_out'), failed('c', 'failed')]), 1);
    assert.deepEqual(heldBy(d), [
      'ingress: a timed out, listeners l0 (connections unknown): still draining',
      'ingress: 2 more node(s) timed out or failed',
    ]);
  });

  test('the bar, the drained count and the batch come from the counts, whatever rows the summary has', () => {
    const nodes = Array.from({ length: 400 }, (_, i): NodeProgress => {
      const n = acked(`n-${i}`, [0]);
      return i < 100
        ? { ...n, state: 'drained', finishedAt: '2026-01-01T00:00:01.000Z' }
        : i < 200
          ? n
          : { ...n, state: 'waiting', batch: null, startedAt: null };
    });
    const d = drain('connections', nodes);
    const batched = { ...d, spec: { ...d.spec, batch: { size: 100 } } };
    const s = summary(batched, 0);
    assert.equal(phaseLine(s, s.phases[0]!), `ingress  [${'█'.repeat(5)}${'░'.repeat(15)}]  100/400 drained  batch 1/3  0 conns left`);
  });
});

/** A 250-node phase (too large to list node by node) at successive moments. */
function largePhase(drained: number, failedAt: number | undefined): Drain {
  const nodes = Array.from({ length: 250 }, (_, i): NodeProgress => {
    const n = acked(`n-${i}`, [1]);
    if (i === failedAt) return { ...n, state: 'failed', finishedAt: '2026-01-01T00:00:02.000Z', error: 'NACK: bad listener' };
    return i < drained ? { ...n, state: 'drained', finishedAt: '2026-01-01T00:00:01.000Z' } : n;
  });
  return drain('connections', nodes);
}

describe('CLI progress events: from summaries, node by node up to ROWS_PER_PHASE nodes a phase, in tenths beyond', () => {
  test('a small phase: its start, then each node as it drains, counted, each once', () => {
    const tracker = new ProgressTracker();
    const nodes = [acked('edge-1', [2]), acked('edge-2', [1])];
    const start = tracker.next(summary(drain('connections', nodes))).map(formatEvent);
    assert.deepEqual(start, ['ingress: phase started, 2 node(s)']);
    const one = { ...nodes[1]!, state: 'drained' as const, finishedAt: '2026-01-01T00:00:01.000Z' };
    assert.deepEqual(tracker.next(summary(drain('connections', [nodes[0]!, one]))).map(formatEvent), ['ingress: edge-2 drained (1/2)']);
    const both = { ...nodes[0]!, state: 'drained' as const, finishedAt: '2026-01-01T00:00:02.000Z' };
    const done = { ...drain('connections', [both, one]), state: 'completed' as const, finishedAt: '2026-01-01T00:00:02.500Z' };
    done.phases[0] = { ...done.phases[0]!, state: 'done', finishedAt: done.finishedAt };
    assert.deepEqual(tracker.next(summary(done)).map(formatEvent), ['ingress: edge-1 drained (2/2)', 'drain drn_1 completed after 2.5s']);
  });

  test('a phase larger than the rows: tenths drained, and a failed node named once, however its row comes and goes', () => {
    const tracker = new ProgressTracker();
    assert.deepEqual(tracker.next(summary(largePhase(0, undefined))).map(formatEvent), ['ingress: phase started, 250 node(s)']);
    // 30 drained: one tenth, one line (no line per node).
    assert.deepEqual(tracker.next(summary(largePhase(30, undefined))).map(formatEvent), ['ingress: 30/250 drained']);
    // More drained within the same tenth: nothing.
    assert.deepEqual(tracker.next(summary(largePhase(40, undefined))), []);
    // A node fails while 200 still hold the drain: the rows are all holders, so it is not named yet.
    assert.deepEqual(tracker.next(summary(largePhase(49, 249))), []);
    // Once fewer hold it than the rows, its row appears: named once, then the tenths.
    assert.deepEqual(tracker.next(summary(largePhase(200, 249))).map(formatEvent), [
      'ingress: n-249 failed: NACK: bad listener',
      'ingress: 200/250 drained',
    ]);
    assert.deepEqual(tracker.next(summary(largePhase(201, 249))), []);
  });

  test('a node retried after it timed out is reported again when it ends again', () => {
    const tracker = new ProgressTracker();
    const a = acked('a', [1]);
    const b = acked('b', [1]);
    const at = (s: number) => `2026-01-01T00:00:0${s}.000Z`;
    tracker.next(summary(drain('connections', [a, b])));
    const timedOut = { ...a, state: 'timed_out' as const, finishedAt: at(1), error: 'deadline' };
    assert.deepEqual(tracker.next(summary(drain('connections', [timedOut, b]))).map(formatEvent), ['ingress: a timed out: deadline']);
    // `drains retry`: the node is pushed again, its end cleared.
    assert.deepEqual(tracker.next(summary(drain('connections', [a, b]))), []);
    const drained = { ...a, state: 'drained' as const, finishedAt: at(3) };
    assert.deepEqual(tracker.next(summary(drain('connections', [drained, b]))).map(formatEvent), ['ingress: a drained (1/2)']);
  });

  test('in one update, the last tenth of ingress comes before the egress phase it let start', () => {
    const end = '2026-01-01T00:00:05.000Z';
    const ingress = Array.from({ length: 150 }, (_, i): NodeProgress => ({ ...acked(`i-${i}`, [0]), state: 'drained', finishedAt: end }));
    const egress = Array.from({ length: 150 }, (_, i): NodeProgress => ({ ...acked(`e-${i}`, [1]), startedAt: end }));
    const d = drain('connections', []);
    const before = {
      ...d,
      spec: { ...d.spec, scope: 'all' as const },
      phases: [
        {
          name: 'ingress' as const,
          state: 'running' as const,
          startedAt: d.createdAt,
          finishedAt: null,
          nodes: ingress.map((n) => ({ ...n, state: 'acked' as const, finishedAt: null })),
        },
        {
          name: 'egress' as const,
          state: 'pending' as const,
          startedAt: null,
          finishedAt: null,
          nodes: egress.map((n) => ({ ...n, state: 'waiting' as const, startedAt: null, batch: null })),
        },
      ],
    };
    const after = {
      ...before,
      phase: 1,
      phases: [
        { ...before.phases[0]!, state: 'done' as const, finishedAt: end, nodes: ingress },
        { ...before.phases[1]!, state: 'running' as const, startedAt: end, nodes: egress },
      ],
    };
    const tracker = new ProgressTracker();
    tracker.next(summary(before));
    assert.deepEqual(tracker.next(summary(after)).map(formatEvent), ['ingress: 150/150 drained', 'egress: phase started, 150 node(s)']);
  });

  test('a whole drain (from a daemon older than summaries) is summed up as the daemon would', () => {
    const d = largePhase(30, 249);
    assert.deepEqual(summaryOf(d as never, ROWS_PER_PHASE), summary(d));
    const s = summary(d);
    assert.equal(summaryOf(s, ROWS_PER_PHASE), s);
  });

  test('a batch started is listed by the names the rows hold and counted beyond them', () => {
    const nodes = Array.from({ length: 8 }, (_, i): NodeProgress => acked(`edge-${i + 1}`, [0]));
    const d = drain('connections', nodes);
    const batched = { ...d, spec: { ...d.spec, batch: { size: 8 } } };
    const lines = new ProgressTracker().next(summary(batched, 3)).map(formatEvent);
    assert.deepEqual(lines, ['ingress: phase started, 8 node(s)', 'ingress: batch 1 started: edge-1, edge-2, edge-3 and 5 more']);
    const whole = new ProgressTracker().next(summary(batched)).map(formatEvent);
    assert.equal(whole[1], 'ingress: batch 1 started: edge-1, edge-2, edge-3, edge-4, edge-5 and 3 more');
  });
});
