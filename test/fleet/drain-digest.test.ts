import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionHistory } from '../../src/fleet/drain/connection-history.js';
import { digestDrain } from '../../src/fleet/drain/digest.js';
import type { Drain, NodePhaseState, NodeProgress } from '../../src/fleet/drain/model.js';
import { drainRecord } from '../support/drain-record.js';

const node = (nodeId: string, state: NodePhaseState, connections: number | null): NodeProgress => ({
  nodeId,
  state,
  batch: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
  listeners: [{ name: 'ingress_http', connections }],
  error: null,
});

const drainOf = (nodes: NodeProgress[]): Drain => {
  const d = drainRecord('drn_digest', {
    phases: [{ name: 'ingress', state: 'running', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: null, nodes }],
  });
  return { ...d, spec: { ...d.spec, method: 'modify', measure: 'listener-drain' } };
};

const phase = (nodes: NodeProgress[]) => digestDrain(drainOf(nodes), new ConnectionHistory(), 10).phases[0]!;

describe('drain digest: a connection count drainplane does not know is null, never 0', () => {
  test('every draining node unknown: null, and how many', () => {
    const p = phase([node('a', 'acked', null), node('b', 'pushed', null), node('c', 'drained', null)]);
    assert.equal(p.connections, null);
    assert.equal(p.connectionsUnknown, 2);
    assert.equal(p.nodes.find((n) => n.nodeId === 'a')!.connections, null);
    assert.match(p.nodes.find((n) => n.nodeId === 'a')!.holding!, /Envoy still warms or drains listener versions/);
  });

  test('some known: their sum, and the unknown ones counted apart', () => {
    const p = phase([node('a', 'acked', 3), node('b', 'acked', null), node('w', 'waiting', null)]);
    assert.equal(p.connections, 3);
    assert.equal(p.connectionsUnknown, 1);
  });

  test('no node draining: 0 open', () => {
    const p = phase([node('a', 'drained', null), node('w', 'waiting', null)]);
    assert.equal(p.connections, 0);
    assert.equal(p.connectionsUnknown, 0);
  });
});

describe('drain digest: deadlines', () => {
  test("a node's deadline is its start plus the phase's deadline", () => {
    assert.equal(phase([node('a', 'acked', 1)]).nodes[0]!.deadlineAt, '2026-01-01T00:01:00.000Z');
  });

  test('a deadline past what a date can hold (a drain stored before deadlines were bounded) is null, not a throw', () => {
    const d = drainOf([node('a', 'acked', 1)]);
    const stored = { ...d, spec: { ...d.spec, deadlineSeconds: 1e300 } };
    assert.equal(digestDrain(stored, new ConnectionHistory(), 10).phases[0]!.nodes[0]!.deadlineAt, null);
  });
});

describe('drain digest: planned batches', () => {
  const withBatch = (n: NodeProgress, batch: number | null): NodeProgress => ({ ...n, batch });
  const planned = (size: number, nodes: NodeProgress[]) => {
    const d = drainOf(nodes);
    return digestDrain({ ...d, spec: { ...d.spec, batch: { size } } }, new ConnectionHistory(), 10).phases[0]!;
  };

  test('the batches started, then as many as the waiting nodes fill at the batch size', () => {
    const p = planned(2, [
      withBatch(node('a', 'drained', 0), 1),
      withBatch(node('b', 'drained', 0), 1),
      withBatch(node('c', 'acked', 3), 2),
      ...['d', 'e', 'f'].map((id) => withBatch(node(id, 'waiting', null), null)),
    ]);
    assert.deepEqual(
      p.batches.map((b) => b.batch),
      [1, 2],
    );
    assert.equal(p.plannedBatches, 4);
  });

  test('a phase not started plans every batch; one with nothing waiting, those it started', () => {
    assert.equal(
      planned(
        1,
        ['a', 'b', 'c'].map((id) => withBatch(node(id, 'waiting', null), null)),
      ).plannedBatches,
      3,
    );
    assert.equal(planned(5, [withBatch(node('a', 'acked', 1), 1)]).plannedBatches, 1);
  });

  test('nodes worth a row of the same rank come in natural id order', () => {
    const p = planned(
      1,
      ['n-10', 'n-2', 'n-1'].map((id) => withBatch(node(id, 'waiting', null), null)),
    );
    assert.deepEqual(
      p.nodes.map((n) => n.nodeId),
      ['n-1', 'n-2', 'n-10'],
    );
  });

  test('the rows are the first N of all the nodes in order: holding (most connections first), failed or timed out, skipped, latest drained, waiting', () => {
    // A fixed pseudo-random phase: every state, ties in connections, drained at shared and distinct times.
    let seed = 7;
    const next = (k: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % k;
    const states: NodePhaseState[] = ['pushed', 'acked', 'failed', 'timed_out', 'skipped', 'drained', 'waiting'];
    const nodes = Array.from({ length: 400 }, (_, i) => ({
      ...node(`n-${next(1000)}-${i}`, states[next(states.length)]!, next(4) === 0 ? null : next(5)),
      finishedAt: `2026-01-01T00:00:${String(next(60)).padStart(2, '0')}.000Z`,
    }));
    const all = digestDrain(drainOf(nodes), new ConnectionHistory(), nodes.length).phases[0]!.nodes.map((n) => n.nodeId);
    assert.equal(all.length, nodes.length);
    for (const rows of [0, 1, 2, 7, 20, 399]) {
      const p = digestDrain(drainOf(nodes), new ConnectionHistory(), rows).phases[0]!;
      assert.deepEqual(
        p.nodes.map((n) => n.nodeId),
        all.slice(0, rows),
        `${rows} rows`,
      );
      assert.equal(p.nodesOmitted, nodes.length - rows);
    }
    const rank = (id: string): number =>
      ['pushed', 'acked', 'failed', 'timed_out', 'skipped', 'drained', 'waiting'].indexOf(nodes.find((n) => n.nodeId === id)!.state);
    const groups = all.map((id) => [0, 0, 1, 1, 2, 3, 4][rank(id)]!);
    assert.deepEqual(
      groups,
      [...groups].sort((a, b) => a - b),
      'holding, then failed or timed out, then skipped, then drained, then waiting',
    );
  });
});
