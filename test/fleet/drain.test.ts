import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';
import { SimNode } from '../support/sim-node.js';

const INGRESS = '127.0.0.1_10000';
const EGRESS = '127.0.0.1_15001';

describe('fleet drains over LDS', { timeout: 60_000 }, () => {
  let d: TestDaemon;
  let nodes: SimNode[] = [];

  const { api, drain } = drainApi(() => d.apiUrl);
  const current = async (id: string): Promise<Drain> => (await api('GET', `/v1/drains/${id}`)).body as Drain;
  const waitForState = async (id: string, state: Drain['state'], timeoutMs = 5_000): Promise<Drain> => {
    await waitUntil(`drain ${id} to be ${state}`, () => d.daemon.drains.get(id)?.state === state, timeoutMs);
    return current(id);
  };
  const connect = async (id: string, options = {}): Promise<SimNode> => {
    const n = SimNode.connect(d.xdsAddress, id, options);
    nodes.push(n);
    await n.waitForLds((r) => r.resources.length === 2, 'with both listeners');
    return n;
  };

  before(async () => {
    d = await startTestDaemon(demoConfig());
  });
  afterEach(async () => {
    for (const n of nodes) n.close();
    nodes = [];
    for (const dr of d.daemon.drains.list()) if (dr.state !== 'cancelled') await d.daemon.drains.cancel(dr.id);
  });
  after(() => d.close());

  test('an ingress drain removes exactly the ingress listeners, and completes when their connections reach 0', async () => {
    const n = await connect('ingress-1');
    const egressBefore = n.lds.at(-1)!.resources.find((r) => r.name === 'egress_http')!.bytes;
    const created = await drain({ selector: { ids: ['ingress-1'] }, scope: 'ingress', method: 'remove' });
    assert.equal(created.state, 'running');
    const drained = await n.waitForLds((r) => r.resources.length === 1, 'without ingress');
    assert.deepEqual(
      drained.resources.map((r) => r.name),
      ['egress_http'],
    );
    assert.deepEqual(drained.resources[0]!.bytes, egressBefore, 'egress bytes untouched');

    await waitUntil('the drain to see the ACK', () => d.daemon.drains.get(created.id)!.phases[0]!.nodes[0]!.state === 'acked');
    n.reportConnections({ [INGRESS]: 3, [EGRESS]: 5 });
    await waitUntil('3 connections measured', () => d.daemon.drains.get(created.id)!.phases[0]!.nodes[0]!.listeners[0]!.connections === 3);
    assert.equal(d.daemon.drains.get(created.id)!.state, 'running');
    n.reportConnections({ [INGRESS]: 0, [EGRESS]: 5 });
    const done = await waitForState(created.id, 'completed');
    assert.equal(done.phases[0]!.nodes[0]!.state, 'drained');
    const status = (await api('GET', '/v1/nodes/ingress-1')).body;
    assert.deepEqual(status.listeners, [
      { name: 'ingress_http', role: 'ingress', drainType: 'DEFAULT', state: 'gone', drain: { id: created.id, action: 'remove' } },
      { name: 'egress_http', role: 'egress', drainType: 'MODIFY_ONLY', state: 'serving', drain: null },
    ]);
    const openapi = (await api('GET', '/openapi.json')).body;
    assert.ok(openapi.paths['/v1/drains'].post, 'the drain API is in the OpenAPI document');
  });

  test('a modify drain keeps every listener name, changes only the ingress one, and completes once Envoy drains no listener', async () => {
    const n = await connect('modify-1');
    const before = new Map(n.lds.at(-1)!.resources.map((r) => [r.name, r.bytes]));
    const created = await drain({ selector: { ids: ['modify-1'] }, scope: 'ingress', method: 'modify' });
    const modified = await n.waitForLds((r) => r.version_info !== n.lds[0]!.version_info, 'modified');
    assert.deepEqual(
      modified.resources.map((r) => r.name),
      ['egress_http', 'ingress_http'],
    );
    const after = new Map(modified.resources.map((r) => [r.name, r.bytes]));
    assert.deepEqual(after.get('egress_http'), before.get('egress_http'));
    assert.notDeepEqual(after.get('ingress_http'), before.get('ingress_http'));
    const ingress = modified.resources.find((r) => r.name === 'ingress_http')!.message as any;
    assert.deepEqual(ingress.metadata.filter_metadata['drainplane.drain'].fields.drain.stringValue, created.id);
    // Envoy ACKs while the new version warms; the old one drains until Envoy's drain time ends.
    await waitUntil('the ACK', () => d.daemon.drains.get(created.id)!.phases[0]!.nodes[0]!.state === 'acked');
    n.reportListenerVersions({ warming: 0, draining: 1 });
    await new Promise((resolve) => setTimeout(resolve, 600)); // a couple of ticks
    assert.equal(d.daemon.drains.get(created.id)!.phases[0]!.nodes[0]!.state, 'acked', 'not drained while Envoy drains the old version');
    n.reportListenerVersions({ warming: 0, draining: 0 });
    const done = await waitForState(created.id, 'completed');
    assert.equal(done.phases[0]!.nodes[0]!.listeners[0]!.connections, null, "the old version's connections are unknown, not 0");
  });

  test('scope all drains ingress first, and egress only once ingress is drained', async () => {
    const n = await connect('all-1');
    const created = await drain({ selector: { ids: ['all-1'] }, scope: 'all', method: 'remove' });
    await n.waitForLds((r) => r.resources.length === 1, 'without ingress');
    assert.deepEqual(n.listeners(), ['egress_http']);
    assert.equal((await current(created.id)).phases[1]!.state, 'pending');
    await waitUntil('ingress ACKed', () => d.daemon.drains.get(created.id)!.phases[0]!.nodes[0]!.state === 'acked');
    n.reportConnections({ [INGRESS]: 0, [EGRESS]: 2 });
    await n.waitForLds((r) => r.resources.length === 0, 'without egress');
    await waitUntil('egress ACKed', () => d.daemon.drains.get(created.id)!.phases[1]!.nodes[0]!.state === 'acked');
    n.reportConnections({ [EGRESS]: 0 });
    const done = await waitForState(created.id, 'completed');
    assert.deepEqual(
      done.phases.map((p) => p.name),
      ['ingress', 'egress'],
    );
    assert.ok(Date.parse(done.phases[1]!.startedAt!) >= Date.parse(done.phases[0]!.finishedAt!));
  });

  test('egress waits for an explicit advance when asked to', async () => {
    const n = await connect('advance-1');
    const created = await drain({ selector: { ids: ['advance-1'] }, scope: 'all', egress: { after: 'advance' }, measure: 'connections' });
    await n.waitForLds((r) => r.resources.length === 1, 'without ingress');
    n.reportConnections({ [INGRESS]: 0 });
    await waitUntil('ingress done', () => d.daemon.drains.get(created.id)!.phases[0]!.state === 'done');
    assert.equal(d.daemon.drains.get(created.id)!.phases[1]!.state, 'pending');
    assert.equal((await api('POST', `/v1/drains/${created.id}/advance`)).status, 200);
    await n.waitForLds((r) => r.resources.length === 0, 'without egress');
    assert.equal((await api('POST', `/v1/drains/${created.id}/advance`)).status, 409);
  });

  test('cancel restores the removed listeners', async () => {
    const n = await connect('cancel-1');
    const full = n.lds.at(-1)!;
    const created = await drain({ selector: { ids: ['cancel-1'] }, scope: 'all' });
    await n.waitForLds((r) => r.resources.length === 1, 'without ingress');
    const res = await api('POST', `/v1/drains/${created.id}/cancel`);
    assert.equal(res.body.state, 'cancelled');
    const restored = await n.waitForLds((r) => r.resources.length === 2 && r !== full, 'with both listeners again');
    assert.equal(restored.version_info, full.version_info, 'the very same listener set as before the drain');
  });

  test('batches: never more than the batch size drains at once; the next batch waits for the previous', async () => {
    const ids = ['batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5'];
    const sims = await Promise.all(ids.map((id) => connect(id, { metadata: { pool: 'batched' } })));
    const created = await drain({ selector: { metadata: { pool: 'batched' } }, scope: 'ingress', batch: { size: 2 } });
    const phase = () => d.daemon.drains.get(created.id)!.phases[0]!;
    const active = () => phase().nodes.filter((x) => x.state === 'pushed' || x.state === 'acked').length;
    let maxActive = 0;
    const drainedSeen = new Set<string>();
    await waitUntil(
      'every batch to finish',
      () => {
        maxActive = Math.max(maxActive, active());
        for (const node of phase().nodes) {
          const sim = sims.find((s) => s.id === node.nodeId)!;
          if (node.state === 'acked' && !drainedSeen.has(node.nodeId)) {
            drainedSeen.add(node.nodeId);
            sim.reportConnections({ [INGRESS]: 0 });
          }
        }
        return phase().state === 'done';
      },
      15_000,
    );
    assert.equal(maxActive <= 2, true, `at most 2 at once, saw ${maxActive}`);
    assert.deepEqual(
      phase()
        .nodes.map((x) => x.batch)
        .sort(),
      [1, 1, 2, 2, 3],
    );
    await waitForState(created.id, 'completed');
  });

  test('a node that reconnects mid-drain is sent the drained set, never the full one', async () => {
    const n = await connect('reconnect-1');
    const created = await drain({ selector: { ids: ['reconnect-1'] }, scope: 'ingress' });
    await n.waitForLds((r) => r.resources.length === 1, 'without ingress');
    n.close();
    const again = SimNode.connect(d.xdsAddress, 'reconnect-1');
    nodes.push(again);
    const first = await again.waitForLds(() => true, 'at all');
    assert.deepEqual(
      first.resources.map((r) => r.name),
      ['egress_http'],
    );
    assert.equal(d.daemon.drains.get(created.id)!.state, 'running');
  });

  test('a node that connects while a drain selecting it runs joins it at once', async () => {
    const lateGroup = demoConfig({ cluster: 'late-joiners' }).replace('groups:\n', '').replace('name: demo', 'name: late');
    await d.rewrite(demoConfig() + lateGroup);
    try {
      const created = await drain({ selector: { cluster: 'late-joiners' }, scope: 'ingress' });
      assert.match(created.warnings.join(' '), /no connected node matches/);
      const late = SimNode.connect(d.xdsAddress, 'late-1', { cluster: 'late-joiners' });
      nodes.push(late);
      const first = await late.waitForLds(() => true, 'at all');
      assert.deepEqual(
        first.resources.map((r) => r.name),
        ['egress_http'],
        'its very first listener set is drained',
      );
      assert.deepEqual(
        d.daemon.drains.get(created.id)!.phases[0]!.nodes.map((x) => x.nodeId),
        ['late-1'],
      );
    } finally {
      await d.rewrite(demoConfig());
    }
  });

  test('stuck connections time the drain out at its deadline, naming the node and listener', async () => {
    const n = await connect('stuck-1');
    // The deadline leaves room for the ACK and the report to land first on a busy machine.
    const created = await drain({ selector: { ids: ['stuck-1'] }, scope: 'ingress', deadlineSeconds: 3 });
    await n.waitForLds((r) => r.resources.length === 1, 'without ingress');
    await waitUntil('ACK seen', () => d.daemon.drains.get(created.id)!.phases[0]!.nodes[0]!.state === 'acked');
    n.reportConnections({ [INGRESS]: 7 });
    const done = await waitForState(created.id, 'timed_out', 10_000);
    const node = done.phases[0]!.nodes[0]!;
    assert.equal(node.state, 'timed_out');
    assert.match(node.error!, /ingress_http \(7 connections\)/);
  });

  test("a NACK of the drained listeners fails that node with Envoy's error text", async () => {
    const n = await connect('nack-1', {
      reject: (r: { resources: unknown[] }) => (r.resources.length === 1 ? 'Error adding/updating listener(s): bad thing' : undefined),
    });
    const created = await drain({ selector: { ids: ['nack-1'] }, scope: 'ingress' });
    const done = await waitForState(created.id, 'failed');
    assert.match(done.phases[0]!.nodes[0]!.error!, /bad thing/);
    const node = (await api('GET', '/v1/nodes/nack-1')).body;
    assert.match(node.types.lds.lastNack.message, /bad thing/);
    void n;
  });

  test('bad drain requests get a 400 naming the field; nothing is drained', async () => {
    const n = await connect('bad-1');
    const cases: [unknown, RegExp][] = [
      [{ selector: {}, scope: 'ingress' }, /selector/],
      [{ selector: { ids: ['bad-1'] }, scope: 'sideways' }, /scope: must be one of "ingress", "egress", "all"/],
      [{ selector: { ids: ['bad-1'] }, scope: 'ingress', deadlineSeconds: 0 }, /deadlineSeconds/],
      [{ selector: { ids: ['bad-1'] }, scope: 'ingress', method: 'explode' }, /method: must be one of/],
      [{ selector: { zone: 'a' }, scope: 'ingress' }, /selector\.zone: unknown field/],
      [{ selector: { ids: ['bad-1'] }, scope: { listeners: ['nope'] } }, /scope.listeners.*nope/],
      [{ selector: { ids: ['bad-1'] }, scope: 'ingress', method: 'drain-listeners' }, /confirm|admin/],
      [{ selector: { ids: ['bad-1'] }, scope: 'ingress', batch: { percent: 150 } }, /batch.percent/],
    ];
    for (const [body, message] of cases) {
      const res = await api('POST', '/v1/drains', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.message, message, JSON.stringify(res.body));
    }
    assert.equal(d.daemon.drains.list().filter((x) => x.state === 'running').length, 0);
    assert.equal(n.lds.length, 1);
  });

  test('progress is streamed as server-sent events until the drain ends', async () => {
    const n = await connect('sse-1');
    const created = await drain({ selector: { ids: ['sse-1'] }, scope: 'ingress', method: 'modify' });
    const res = await fetch(`${d.apiUrl}/v1/drains/${created.id}/events`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    await waitUntil('the ACK', () => d.daemon.drains.get(created.id)!.phases[0]!.nodes[0]!.state === 'acked');
    n.reportListenerVersions({ warming: 0, draining: 0 });
    const text = await res.text(); // ends when the drain does
    const events = text.split('\n\n').filter((e) => e.startsWith('event: drain'));
    const states = events.map((e) => (JSON.parse(e.slice(e.indexOf('data: ') + 6)) as Drain).state);
    assert.equal(states.at(-1), 'completed');
  });
});
