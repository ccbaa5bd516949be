import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionHistory } from '../../src/fleet/drain/connection-history.js';
import type { Drain, DrainState, NodeProgress } from '../../src/fleet/drain/model.js';
import { drainRecord } from '../support/drain-record.js';

const node = (nodeId: string, connections: number | null, finished = false): NodeProgress => ({
  nodeId,
  state: finished ? 'drained' : 'acked',
  batch: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: finished ? '2026-01-01T00:00:10.000Z' : null,
  listeners: [{ name: 'ingress_http', connections }],
  error: null,
});

const drain = (id: string, nodes: NodeProgress[], state: DrainState = 'running'): Drain =>
  drainRecord(id, {
    state,
    spec: { ...drainRecord(id).spec, measure: 'connections' },
    phases: [{ name: 'ingress', state: 'running', startedAt: null, finishedAt: null, nodes }],
  });

describe('connection history for the console charts', () => {
  test('a sample per change of the measured count; unmeasured nodes have none; the oldest samples go first', () => {
    const h = new ConnectionHistory({ samplesPerNode: 3, nodesPerDrain: 10, drains: 10 });
    for (const [t, c] of [
      [1, 5],
      [2, 5],
      [3, 4],
      [4, 2],
      [5, 0],
    ] as const)
      h.record(drain('d', [node('n', c), node('quiet', null)]), t);
    assert.deepEqual(h.of('d', 'n', 0), [
      [3, 4],
      [4, 2],
      [5, 0],
    ]);
    assert.deepEqual(h.of('d', 'quiet', 0), []);
  });

  test('past the node limit, finished nodes make room; while every node still drains, new ones wait', () => {
    const h = new ConnectionHistory({ samplesPerNode: 5, nodesPerDrain: 2, drains: 10 });
    h.record(drain('d', [node('a', 3), node('b', 3), node('c', 3)]), 1);
    assert.deepEqual(h.of('d', 'c', 0), [], 'no room');
    h.record(drain('d', [node('a', 0, true), node('b', 2), node('c', 2)]), 2);
    assert.deepEqual(h.of('d', 'a', 0), [], 'the finished node made room');
    assert.deepEqual(h.of('d', 'c', 0), [[2, 2]]);
    assert.deepEqual(h.of('d', 'b', 0), [
      [1, 3],
      [2, 2],
    ]);
  });

  test('past the drain limit, ended drains are forgotten first', () => {
    const h = new ConnectionHistory({ samplesPerNode: 5, nodesPerDrain: 5, drains: 2 });
    h.record(drain('running', [node('n', 1)]), 1);
    h.record(drain('ended', [node('n', 1)], 'completed'), 1);
    h.record(drain('new', [node('n', 1)]), 1);
    assert.deepEqual(h.of('ended', 'n', 0), []);
    assert.deepEqual(h.of('running', 'n', 0), [[1, 1]]);
    assert.deepEqual(h.of('new', 'n', 0), [[1, 1]]);
  });
});
