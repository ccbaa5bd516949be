/**
 * A drain step is worked out on a working copy and takes the drain's place only once stored: a
 * step whose save fails must leave the drain in memory as it was. These steps measure counts
 * (listener connections, an endpoint's requests and connections, the quiet record of an egress
 * phase waiting for idle egress, skipped entries included) and the original must not see them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Drain, DrainSpec, NodeProgress, PhaseProgress } from '../../src/fleet/drain/model.js';
import type { NodeObservation } from '../../src/fleet/drain/observation.js';
import { stepDrain } from '../../src/fleet/drain/step.js';
import { workingCopy } from '../../src/fleet/drain/working-copy.js';
import { drainRecord } from '../support/drain-record.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const logger = pino({ level: 'silent' });

const spec = (o: Partial<DrainSpec>): DrainSpec => ({ ...drainRecord('drn_test').spec, measure: 'connections', ...o });

const entry = (o: Partial<NodeProgress>): NodeProgress => ({
  nodeId: 'n',
  state: 'acked',
  batch: 1,
  startedAt: at(0),
  finishedAt: null,
  listeners: [],
  error: null,
  ...o,
});

const phase = (name: PhaseProgress['name'], state: PhaseProgress['state'], nodes: NodeProgress[]): PhaseProgress => ({
  name,
  state,
  startedAt: state === 'pending' ? null : at(0),
  finishedAt: state === 'done' ? at(1) : null,
  nodes,
});

const drain = (s: DrainSpec, phases: PhaseProgress[]): Drain => drainRecord('drn_test', { spec: s, createdAt: at(0), phases });

/** Acked at T0 + 10 ms; gauges and host counts read at T0 + 20 ms: 7 connections, 3 requests. */
const busy = (): NodeObservation => ({
  acked: true,
  rejected: undefined,
  failed: undefined,
  ackedAt: T0 + 10,
  report: { at: T0 + 20, connections: () => 7, listenerVersions: undefined },
  hosts: { at: T0 + 20, countsConnections: true, counts: () => ({ requests: 3, connections: 2 }) },
});

/** Steps a working copy of `original` and returns the copy; `original` is compared as it was. */
function stepCopy(original: Drain): Drain {
  const before = structuredClone(original);
  const copy = workingCopy(original);
  const { changed } = stepDrain(copy, T0 + 30, () => busy(), logger);
  assert.ok(changed, 'the step measured something');
  assert.deepEqual(original, before, 'the drain in memory is as it was');
  return copy;
}

test("a listener drain's step counts connections on the copy only", () => {
  const original = drain(spec({}), [phase('ingress', 'running', [entry({ listeners: [{ name: 'ingress_http', connections: null }] })])]);
  const copy = stepCopy(original);
  assert.equal(copy.phases[0]!.nodes[0]!.listeners[0]!.connections, 7);
});

test("an endpoint drain's step counts requests and connections on the copy only", () => {
  const endpoints = [{ cluster: 'app', address: '10.0.0.2:8080', requests: null, connections: null }];
  const original = drain(spec({ scope: { endpoints: { addresses: ['10.0.0.2:8080'] } }, method: 'eds' }), [
    phase('endpoints', 'running', [entry({ endpoints })]),
  ]);
  const copy = stepCopy(original);
  assert.deepEqual(copy.phases[0]!.nodes[0]!.endpoints, [{ cluster: 'app', address: '10.0.0.2:8080', requests: 3, connections: 2 }]);
});

test('an egress phase waiting for idle egress keeps its quiet record on the copy only, skipped entries included', () => {
  const egress = [{ name: 'egress_http', connections: null }];
  const original = drain(spec({ scope: 'all', egressStart: { after: 'egress-idle', quietSeconds: 5, waitSeconds: 30 } }), [
    phase('ingress', 'done', [entry({ state: 'drained', finishedAt: at(1), listeners: [{ name: 'ingress_http', connections: 0 }] })]),
    phase('egress', 'pending', [entry({ state: 'skipped', startedAt: null, finishedAt: at(1), listeners: egress })]),
  ]);
  const copy = stepCopy(original);
  const skipped = copy.phases[1]!.nodes[0]!;
  assert.equal(skipped.listeners[0]!.connections, 7);
  assert.equal(skipped.quietSince, null, 'held: not quiet');
});
