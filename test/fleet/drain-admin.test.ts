import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import { apiRequest } from '../support/api-request.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { FakeEnvoyAdmin } from '../support/fake-envoy-admin.js';
import { demoConfig } from '../support/fleet-configs.js';
import { drainRecord } from '../support/drain-record.js';
import { SimNode } from '../support/sim-node.js';

describe('drains through the Envoy admin API (node metadata admin_address)', { timeout: 30_000 }, () => {
  let d: TestDaemon;
  const sims: SimNode[] = [];
  const admins: FakeEnvoyAdmin[] = [];

  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${d.apiUrl}${path}`, apiRequest('POST', body));
    return { status: res.status, body: (await res.json()) as Drain & { message: string } };
  };
  const nodeWithAdmin = async (id: string, version = '1.34.1') => {
    const admin = await FakeEnvoyAdmin.start({ version });
    admins.push(admin);
    const sim = SimNode.connect(d.xdsAddress, id, { metadata: { admin_address: admin.address } });
    sims.push(sim);
    await sim.waitForLds((r) => r.resources.length === 2, 'with both listeners');
    return { admin, sim };
  };

  before(async () => {
    d = await startTestDaemon(demoConfig());
  });
  after(async () => {
    sims.forEach((s) => s.close());
    await Promise.all(admins.map((a) => a.close()));
    await d.close();
  });

  test('healthcheck-fail: POSTs /healthcheck/fail, waits for the admin /stats gauges to reach 0, and cancel POSTs /healthcheck/ok', async () => {
    const { admin, sim } = await nodeWithAdmin('hc-1');
    admin.gauges.set('listener.127.0.0.1_10000.downstream_cx_active', 4);
    admin.gauges.set('listener.admin.downstream_cx_active', 1);
    const created = await post('/v1/drains', { selector: { ids: ['hc-1'] }, scope: 'ingress', method: 'healthcheck-fail' });
    assert.equal(created.status, 201, created.body.message);
    await waitUntil('/healthcheck/fail', () => admin.requestsTo('/healthcheck/fail').length === 1);
    assert.equal(admin.requestsTo('/healthcheck/fail')[0]!.method, 'POST');
    await waitUntil(
      '4 connections read from /stats',
      () => d.daemon.drains.get(created.body.id)!.phases[0]!.nodes[0]!.listeners[0]!.connections === 4,
      5000,
    );
    admin.gauges.set('listener.127.0.0.1_10000.downstream_cx_active', 0);
    await waitUntil('completed', () => d.daemon.drains.get(created.body.id)!.state === 'completed', 5000);
    assert.equal(sim.lds.length, 1, 'no LDS change for an admin drain');
    const cancelled = await post(`/v1/drains/${created.body.id}/cancel`);
    assert.equal(cancelled.body.state, 'cancelled');
    assert.equal(admin.requestsTo('/healthcheck/ok').length, 1);
  });

  test('drain-listeners needs confirm, and asks for graceful inbound-only drains', async () => {
    const { admin } = await nodeWithAdmin('dl-1');
    const refused = await post('/v1/drains', { selector: { ids: ['dl-1'] }, scope: 'ingress', method: 'drain-listeners' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /confirm/);
    const created = await post('/v1/drains', { selector: { ids: ['dl-1'] }, scope: 'ingress', method: 'drain-listeners', confirm: true });
    assert.equal(created.status, 201, created.body.message);
    await waitUntil('/drain_listeners', () => admin.requestsTo('/drain_listeners').length === 1);
    const call = admin.requestsTo('/drain_listeners')[0]!;
    assert.equal(call.method, 'POST');
    assert.deepEqual(Object.keys(call.query).sort(), ['graceful', 'inboundonly']);
  });

  test('drain-listeners on an Envoy older than 1.34 fails the node instead of draining egress too', async () => {
    const { admin } = await nodeWithAdmin('old-1', '1.33.2');
    const created = await post('/v1/drains', { selector: { ids: ['old-1'] }, scope: 'ingress', method: 'drain-listeners', confirm: true });
    await waitUntil('failed', () => d.daemon.drains.get(created.body.id)!.state === 'failed', 5000);
    assert.match(d.daemon.drains.get(created.body.id)!.phases[0]!.nodes[0]!.error!, /1\.33\.2/);
    assert.equal(admin.requestsTo('/drain_listeners').length, 0);
  });

  test('a node whose admin call failed fails at the next step, and a retry calls it again', async () => {
    const { admin } = await nodeWithAdmin('flaky-1');
    admin.gauges.set('listener.127.0.0.1_10000.downstream_cx_active', 0);
    admin.respond('/healthcheck/fail', 503, 'upstream overloaded');
    const created = await post('/v1/drains', { selector: { ids: ['flaky-1'] }, scope: 'ingress', method: 'healthcheck-fail' });
    assert.equal(created.status, 201, created.body.message);
    const node = () => d.daemon.drains.get(created.body.id)!.phases[0]!.nodes[0]!;
    await waitUntil('the node failed', () => node().state === 'failed', 5000);
    assert.match(node().error!, /healthcheckFail failed: .*503/);
    admin.respond('/healthcheck/fail', 200, 'OK\n');
    const retried = await post(`/v1/drains/${created.body.id}/nodes/flaky-1/retry`);
    assert.equal(retried.status, 200, retried.body.message);
    // The failure of the first call does not outlive it: the second call drains the node.
    await waitUntil('the node drained', () => node().state === 'drained', 5000);
    assert.equal(admin.requestsTo('/healthcheck/fail').length, 2);
    assert.equal(d.daemon.drains.get(created.body.id)!.state, 'completed');
  });

  test('an admin method on a node without a known admin address is a 400 naming the node', async () => {
    const sim = SimNode.connect(d.xdsAddress, 'no-admin');
    sims.push(sim);
    await sim.waitForLds(() => true, 'at all');
    const res = await post('/v1/drains', { selector: { ids: ['no-admin'] }, scope: 'ingress', method: 'healthcheck-fail' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /no-admin: its admin address is unknown/);
  });

  test('a node that joins a running admin drain late gets its call too', async () => {
    const early = await nodeWithAdmin('late-a');
    const created = await post('/v1/drains', { selector: { ids: ['late-a', 'late-b'] }, scope: 'ingress', method: 'healthcheck-fail' });
    assert.equal(created.status, 201, created.body.message);
    await waitUntil('the first node called', () => early.admin.requestsTo('/healthcheck/fail').length === 1);
    const late = await nodeWithAdmin('late-b');
    await waitUntil('the late node called', () => late.admin.requestsTo('/healthcheck/fail').length === 1, 5000);
    assert.equal(early.admin.requestsTo('/healthcheck/fail').length, 1, 'the first node is not called again');
  });

  test('a remote admin address is refused unless the config allows remote admin access', async () => {
    const sim = SimNode.connect(d.xdsAddress, 'remote-admin', { metadata: { admin_address: '192.0.2.10:9901' } });
    sims.push(sim);
    await sim.waitForLds(() => true, 'at all');
    const res = await post('/v1/drains', { selector: { ids: ['remote-admin'] }, scope: 'ingress', method: 'healthcheck-fail' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /remote-admin: .*loopback/);
  });
});

test(
  'a drainplane that starts with an admin drain waiting on a call it did not make (killed during it) makes the call again',
  { timeout: 30_000 },
  async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-admin-restart-'));
    const admin = await FakeEnvoyAdmin.start({ version: '1.34.1' });
    let d: TestDaemon | undefined;
    let sim: SimNode | undefined;
    try {
      // The state a kill leaves right after the drain was saved and before its call was answered.
      const at = '2026-01-01T00:00:00.000Z';
      const stored = drainRecord('drn_restarted', {
        spec: { ...drainRecord('x').spec, selector: { ids: ['hc-restart'] }, method: 'healthcheck-fail', deadlineSeconds: 3600 },
        phases: [
          {
            name: 'ingress',
            state: 'running',
            startedAt: at,
            finishedAt: null,
            nodes: [
              {
                nodeId: 'hc-restart',
                state: 'pushed',
                batch: 1,
                startedAt: at,
                finishedAt: null,
                listeners: [{ name: 'ingress_http', connections: null }],
                error: null,
              },
            ],
          },
        ],
      });
      const stateDir = path.join(dir, 'state');
      await mkdir(stateDir);
      await writeFile(path.join(stateDir, 'drains.json'), `${JSON.stringify({ format: 1, drains: [stored] })}\n`);
      d = await startTestDaemon(demoConfig(), { stateDir });
      const started = d;
      sim = SimNode.connect(d.xdsAddress, 'hc-restart', { metadata: { admin_address: admin.address } });
      await waitUntil('/healthcheck/fail called again', () => admin.requestsTo('/healthcheck/fail').length === 1, 5000);
      await waitUntil('the drain to complete', () => started.daemon.drains.get('drn_restarted')?.state === 'completed', 5000);
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(admin.requestsTo('/healthcheck/fail').length, 1, 'called once, not on every tick');
    } finally {
      sim?.close();
      await d?.close();
      await admin.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
