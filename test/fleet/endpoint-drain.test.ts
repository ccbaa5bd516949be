/**
 * Endpoint drains in the domain, on the file store: the EDS each node is sent (DRAINING, then
 * left out with remove, restored on cancel), encoded once and byte for byte the same for the
 * same drains, progress from the EDS ACK and the host counts, and what survives a restart.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import type { DrainRequest } from '../../src/fleet/drain/spec.js';
import { applyEndpointMarks } from '../../src/fleet/endpoints/overlay.js';
import { groupSnapshots } from '../../src/fleet/desired-state/group-snapshots.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { parsedConfig } from '../support/desired-state.js';
import { BACKEND_A, BACKEND_B, endpointFixture, ENDPOINTS_CONFIG, type EndpointFixture } from '../support/endpoint-fixture.js';

const fixtures: EndpointFixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close();
});

async function setup(): Promise<EndpointFixture> {
  const f = await endpointFixture();
  fixtures.push(f);
  return f;
}

async function create(f: EndpointFixture, request: DrainRequest): Promise<Drain> {
  const result = await f.drains.create(request);
  assert.ok('drain' in result, JSON.stringify(result));
  return result.drain;
}

const BOTH_SERVING = { [BACKEND_A]: '', [BACKEND_B]: '' };

test('the drained endpoint goes DRAINING in the EDS of every node that holds it; the rest keeps its bytes; nodes share one encoded assignment', async () => {
  const f = await setup();
  const [n1, n2] = [f.connect('n1'), f.connect('n2')];
  const before = f.cache.snapshot('n1')!;
  await create(f, { endpoints: { addresses: [BACKEND_B] } });
  assert.deepEqual(n1.app(), { [BACKEND_A]: '', [BACKEND_B]: 'DRAINING' });
  assert.deepEqual(n2.app(), { [BACKEND_A]: '', [BACKEND_B]: 'DRAINING' });
  const after = f.cache.snapshot('n1')!;
  assert.notEqual(after.get(TypeUrl.ClusterLoadAssignment).version, before.get(TypeUrl.ClusterLoadAssignment).version);
  const eds = (id: string) => f.cache.snapshot(id)!.get(TypeUrl.ClusterLoadAssignment).resources;
  assert.equal(
    eds('n1').get('other'),
    before.get(TypeUrl.ClusterLoadAssignment).resources.get('other'),
    'an untouched assignment is the same object',
  );
  assert.equal(after.get(TypeUrl.Listener), before.get(TypeUrl.Listener), 'listeners untouched');
  assert.equal(f.cache.snapshot('n2'), after, 'nodes of one group share one overlaid snapshot (bytes encoded once)');
});

test('by cluster and locality, and by load balancing labels: only the endpoints that match', async () => {
  const f = await setup();
  const n = f.connect('n1');
  const byZone = await create(f, { endpoints: { cluster: 'app', locality: { zone: 'a' } } });
  assert.deepEqual(n.app(), { [BACKEND_A]: 'DRAINING', [BACKEND_B]: '' });
  await f.drains.cancel(byZone.id);
  await create(f, { endpoints: { metadata: { version: 'v2' } } });
  assert.deepEqual(n.app(), { [BACKEND_A]: '', [BACKEND_B]: 'DRAINING' });
});

test('the same drains give the same bytes: from a fresh parse of the config, with the drains listed in either order', () => {
  const marks = [
    { drainId: 'drn_1', target: { addresses: [BACKEND_A] }, remove: false },
    { drainId: 'drn_2', target: { addresses: [BACKEND_B] }, remove: true },
  ];
  const versions = [0, 1].map((i) => {
    const base = groupSnapshots(parsedConfig(ENDPOINTS_CONFIG))({
      id: 'x',
      cluster: 'edge',
      metadata: {},
      locality: { region: '', zone: '', subZone: '' },
      userAgentName: 'envoy',
      userAgentVersion: '1.40.0',
    })!;
    const ordered = i === 0 ? marks : [...marks].reverse();
    return applyEndpointMarks(base, ordered).get(TypeUrl.ClusterLoadAssignment).resources.get('app')!.version;
  });
  assert.equal(versions[0], versions[1]);
});

test('progress: the node waits for its EDS ACK, then for the request in flight; no request and no connection left completes the drain', async () => {
  const f = await setup();
  const n = f.connect('n1');
  const drain = await create(f, { endpoints: { addresses: [BACKEND_B] }, deadlineSeconds: 60 });
  const node = () => f.drains.get(drain.id)!.phases[0]!.nodes[0]!;
  f.advance(1_000);
  n.report({ [BACKEND_B]: { requests: 0, connections: 0 } });
  await f.drains.tick();
  assert.equal(node().state, 'pushed', 'counts before the ACK do not count');

  n.ackEds();
  f.advance(1_000);
  n.report({ [BACKEND_A]: { requests: 3, connections: 2 }, [BACKEND_B]: { requests: 1, connections: 1 } });
  await f.drains.tick();
  assert.equal(node().state, 'acked');
  assert.deepEqual(node().endpoints, [{ cluster: 'app', address: BACKEND_B, requests: 1, connections: 1 }]);
  assert.equal(f.drains.get(drain.id)!.state, 'running', 'a request in flight holds the drain');

  f.advance(1_000);
  n.report({ [BACKEND_B]: { requests: 0, connections: 1 } });
  await f.drains.tick();
  assert.equal(node().state, 'acked', 'an open connection holds it too (threshold 0)');

  f.advance(1_000);
  n.report({ [BACKEND_B]: { requests: 0, connections: 0 } });
  await f.drains.tick();
  assert.equal(node().state, 'drained');
  assert.equal(f.drains.get(drain.id)!.state, 'completed');
  assert.deepEqual(n.app(), { [BACKEND_A]: '', [BACKEND_B]: 'DRAINING' }, 'a completed drain keeps the endpoint DRAINING');
});

test('with remove, the completed drain leaves the endpoint out; cancel restores the bytes the node had before', async () => {
  const f = await setup();
  const n = f.connect('n1');
  const original = n.edsVersion();
  const drain = await create(f, { endpoints: { addresses: [BACKEND_B], remove: true } });
  assert.deepEqual(n.app(), { [BACKEND_A]: '', [BACKEND_B]: 'DRAINING' }, 'DRAINING first');
  n.ackEds();
  f.advance(1_000);
  n.report({});
  await f.drains.tick();
  assert.equal(f.drains.get(drain.id)!.state, 'completed');
  assert.deepEqual(n.app(), { [BACKEND_A]: '' }, 'then left out');
  await f.drains.cancel(drain.id);
  assert.deepEqual(n.app(), BOTH_SERVING);
  assert.equal(n.edsVersion(), original);
});

test('no host counts within the deadline: the node times out, saying where counts come from', async () => {
  const f = await setup();
  const n = f.connect('n1');
  const drain = await create(f, { endpoints: { addresses: [BACKEND_B] }, deadlineSeconds: 5 });
  n.ackEds();
  f.advance(6_000);
  await f.drains.tick();
  const done = f.drains.get(drain.id)!;
  assert.equal(done.state, 'timed_out');
  assert.match(done.phases[0]!.nodes[0]!.error ?? '', /admin \/clusters/);
});

test('past the deadline with only idle connections left, the reason says what closes them; with a request left, it does not', async () => {
  const f = await setup();
  const [idle, busy] = [f.connect('n1'), f.connect('n2')];
  const drain = await create(f, { endpoints: { addresses: [BACKEND_B] }, deadlineSeconds: 5 });
  idle.ackEds();
  busy.ackEds();
  f.advance(6_000);
  idle.report({ [BACKEND_B]: { requests: 0, connections: 1 } });
  busy.report({ [BACKEND_B]: { requests: 1, connections: 1 } });
  await f.drains.tick();
  const done = f.drains.get(drain.id)!;
  assert.equal(done.state, 'timed_out');
  const reason = (id: string) => done.phases[0]!.nodes.find((n) => n.nodeId === id)!.error ?? '';
  assert.match(
    reason('n1'),
    /^still in use after 5s: app 10\.0\.0\.2:8080 \(0 request\(s\), 1 connection\(s\)\); idle pooled connections only: .*idle_timeout/,
  );
  assert.match(reason('n2'), /^still in use after 5s: app 10\.0\.0\.2:8080 \(1 request\(s\), 1 connection\(s\)\)$/);
});

test('restart on the same file store: a node that (re)connects gets the endpoint DRAINING, also one the drain never listed; cancel after the restart restores it', async () => {
  const f = await setup();
  const n = f.connect('n1');
  const original = n.edsVersion();
  const drain = await create(f, { endpoints: { addresses: [BACKEND_B] } });
  const drainedVersion = n.edsVersion();

  const g = await f.restart();
  const back = g.connect('n1');
  const late = g.connect('n-late');
  assert.equal(back.edsVersion(), drainedVersion, 'the same bytes after the restart');
  assert.deepEqual(late.app(), { [BACKEND_A]: '', [BACKEND_B]: 'DRAINING' });
  assert.equal(g.drains.get(drain.id)!.state, 'running');

  await g.drains.cancel(drain.id);
  assert.deepEqual(back.app(), BOTH_SERVING);
  assert.deepEqual(late.app(), BOTH_SERVING);
  assert.equal(back.edsVersion(), original);

  const h = await g.restart();
  assert.deepEqual(h.connect('n1').app(), BOTH_SERVING, 'cancelled stays cancelled after another restart');
});

test('another replica on the same store judges the EDS ACK of a node it does not serve: the same drains give it the same version', async () => {
  const f = await setup();
  const n = f.connect('n1');
  await create(f, { endpoints: { addresses: [BACKEND_B] } });
  const other = await f.restart();
  const status = f.nodes.get('n1');
  assert.equal(other.desired.syncElsewhere(status, TypeUrl.ClusterLoadAssignment)?.ackedAt, undefined, 'not ACKed yet');
  n.ackEds();
  assert.notEqual(other.desired.syncElsewhere(status, TypeUrl.ClusterLoadAssignment)?.ackedAt, undefined);
});
