import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DrainMeasure, NodeProgress } from '../../src/fleet/drain/model.js';
import type { DrainView } from '../../src/cli/api-client.js';
import { heldBy, phaseLine } from '../../src/cli/progress.js';
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

const drain = (measure: DrainMeasure, nodes: NodeProgress[]): DrainView => {
  const d = drainRecord('drn_1');
  return {
    ...d,
    spec: { ...d.spec, method: measure === 'listener-drain' ? 'modify' : 'remove', deadlineSeconds: 30, measure },
    phases: [{ name: 'ingress', state: 'running', startedAt: d.createdAt, finishedAt: null, nodes, counts: { acked: nodes.length } }],
  };
};

describe('CLI progress line: counts drainplane does not know read "unknown", never 0', () => {
  test('connections: none measured, some measured, all measured', () => {
    const none = drain('connections', [acked('a', [null])]);
    assert.match(phaseLine(none, none.phases[0]!), /conns unknown$/);
    const some = drain('connections', [acked('a', [null]), acked('b', [3])]);
    assert.match(phaseLine(some, some.phases[0]!), /3\+ conns left \(1 listener\(s\) unknown\)$/);
    const all = drain('connections', [acked('a', [0]), acked('b', [3])]);
    assert.match(phaseLine(all, all.phases[0]!), /  3 conns left$/);
  });

  test("listener-drain (modify): Envoy drains, the old version's connections are unknown", () => {
    const d = drain('listener-drain', [acked('a', [null])]);
    assert.match(phaseLine(d, d.phases[0]!), /Envoy draining, conns unknown$/);
  });

  test('a node that timed out with unmeasured listeners says unknown', () => {
    const d = drain('listener-drain', [{ ...acked('a', [null]), state: 'timed_out', error: 'still draining' }]);
    assert.deepEqual(heldBy(d), ['ingress: a timed out, listeners l0 (connections unknown): still draining']);
  });

  test('of a summary, the nodes it has rows for, and how many more timed out or failed', () => {
    const d = drain('listener-drain', [{ ...acked('a', [null]), state: 'timed_out', error: 'still draining' }]);
    const summary = { phases: [{ ...d.phases[0]!, counts: { timed_out: 3, failed: 1, drained: 6 } }] };
    assert.deepEqual(heldBy(summary), [
      'ingress: a timed out, listeners l0 (connections unknown): still draining',
      'ingress: 3 more node(s) timed out or failed',
    ]);
  });
});
