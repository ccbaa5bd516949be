import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DrainSpec, NodeProgress } from '../../src/fleet/drain/model.js';
import type { NodeObservation } from '../../src/fleet/drain/observation.js';
import { advanceNode } from '../../src/fleet/drain/progress.js';

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
const seen = (o: Partial<NodeObservation>): NodeObservation => ({
  acked: false,
  rejected: undefined,
  failed: undefined,
  ackedAt: undefined,
  report: undefined,
  hosts: undefined,
  ...o,
});
const report = (at: number, connections: number | null | undefined, listenerVersions?: { warming: number; draining: number }) => ({
  at,
  connections: () => connections,
  listenerVersions,
});

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

  describe('measure listener-drain (modify)', () => {
    const modify: DrainSpec = { ...spec, method: 'modify', measure: 'listener-drain' };
    const settled = { warming: 0, draining: 0 };

    test('the ACK alone is not enough: drained once a report after it shows nothing warming or draining', () => {
      const n = node();
      advanceNode(n, modify, seen({ acked: true, ackedAt: T0 + 100 }), T0 + 200);
      assert.equal(n.state, 'acked');
      advanceNode(n, modify, seen({ acked: true, ackedAt: T0 + 100, report: report(T0 + 300, null, { warming: 1, draining: 0 }) }), T0 + 400);
      assert.equal(n.state, 'acked', 'the new version still warms: the old one has not even started draining');
      advanceNode(n, modify, seen({ acked: true, ackedAt: T0 + 100, report: report(T0 + 500, null, { warming: 0, draining: 1 }) }), T0 + 600);
      assert.equal(n.state, 'acked');
      advanceNode(n, modify, seen({ acked: true, ackedAt: T0 + 100, report: report(T0 + 700, null, settled) }), T0 + 800);
      assert.equal(n.state, 'drained');
      assert.equal(n.listeners[0]!.connections, null, "the old version's connections stay unknown");
    });

    test('a settled report from before the ACK, or one without the gauges, proves nothing', () => {
      const n = node();
      advanceNode(n, modify, seen({ acked: true, ackedAt: T0 + 100, report: report(T0 + 50, null, settled) }), T0 + 200);
      assert.equal(n.state, 'acked');
      advanceNode(n, modify, seen({ acked: true, ackedAt: T0 + 100, report: report(T0 + 150, 0) }), T0 + 200);
      assert.equal(n.state, 'acked');
    });

    test('still draining at the deadline: timed out, saying why', () => {
      const n = node();
      advanceNode(n, modify, seen({ acked: true, ackedAt: T0, report: report(T0 + 10, null, { warming: 0, draining: 2 }) }), T0 + 11_000);
      assert.equal(n.state, 'timed_out');
      assert.match(n.error!, /^Envoy's listener drain did not end within 10s: 2 draining and 0 warming listener version\(s\) on the node/);
      const m = node();
      advanceNode(m, modify, seen({ acked: true, ackedAt: T0, report: report(T0 + 10, 0) }), T0 + 11_000);
      assert.match(m.error!, /^Envoy's listener drain did not end within 10s: no listener_manager gauges from this node since its last ACK/);
    });
  });
});
