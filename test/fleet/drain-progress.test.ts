import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DrainSpec, NodeProgress } from '../../src/fleet/drain/model.js';
import { advanceNode, type NodeObservation } from '../../src/fleet/drain/progress.js';

const spec: DrainSpec = {
  selector: { ids: ['n'] },
  scope: 'ingress',
  method: 'remove',
  egressStart: { after: 'ingress-complete' },
  batch: null,
  deadlineSeconds: 10,
  threshold: 0,
  measure: 'connections',
  confirmIrreversible: false,
};
const T0 = Date.parse('2026-01-01T00:00:00Z');
const node = (): NodeProgress => ({
  nodeId: 'n',
  state: 'pushed',
  batch: 1,
  startedAt: new Date(T0).toISOString(),
  finishedAt: null,
  listeners: [{ name: 'ingress_http', connections: null }],
  error: null,
});
const seen = (o: Partial<NodeObservation>): NodeObservation => ({ acked: false, rejected: undefined, ackedAt: undefined, report: undefined, ...o });
const report = (at: number, connections: number | null | undefined) => ({ at, connections: () => connections });

describe('drain progress of one node', () => {
  test('pushed -> acked -> drained when a report after the ACK shows no connections', () => {
    const n = node();
    advanceNode(n, spec, seen({ acked: true, ackedAt: T0 + 100, report: report(T0 + 200, 0) }), T0 + 300);
    assert.equal(n.state, 'drained');
  });

  test('a report from before the ACK or the batch start is not trusted', () => {
    const n = node();
    advanceNode(n, spec, seen({ acked: true, ackedAt: T0 + 100, report: report(T0 + 50, 0) }), T0 + 300);
    assert.equal(n.state, 'acked');
    assert.equal(n.listeners[0]!.connections, null);
    const m = node();
    advanceNode(m, spec, seen({ acked: true, ackedAt: T0 - 5000, report: report(T0 - 1000, 0) }), T0 + 300);
    assert.equal(m.state, 'acked', 'an old ACK of an unchanged version and an old report prove nothing');
  });

  test('a listener missing from a fresh report has no connections left; an unmeasurable one stays unmeasured', () => {
    const n = node();
    advanceNode(n, spec, seen({ acked: true, ackedAt: T0, report: report(T0 + 10, undefined) }), T0 + 20);
    assert.equal(n.state, 'drained');
    const m = node();
    advanceNode(m, spec, seen({ acked: true, ackedAt: T0, report: report(T0 + 10, null) }), T0 + 20);
    assert.equal(m.state, 'acked');
  });

  test('a NACK fails the node with the error; the deadline times it out naming what held it', () => {
    const n = node();
    advanceNode(n, spec, seen({ rejected: 'bad listener' }), T0 + 1);
    assert.equal(n.state, 'failed');
    assert.match(n.error!, /bad listener/);
    const m = node();
    advanceNode(m, spec, seen({ acked: true, ackedAt: T0, report: report(T0 + 10, 4) }), T0 + 11_000);
    assert.equal(m.state, 'timed_out');
    assert.match(m.error!, /ingress_http \(4 connections\)/);
  });

  test('measure ack: drained at the ACK', () => {
    const n = node();
    advanceNode(n, { ...spec, measure: 'ack' }, seen({ acked: true, ackedAt: T0 }), T0 + 1);
    assert.equal(n.state, 'drained');
  });
});
