/**
 * Several drainplane replicas behind one etcd (Debian's etcd-server, on loopback): drains and
 * config shared, the leader killed mid-drain, etcd restarted, one replica partitioned away.
 * Run with `npm run test:ha`; without an etcd binary it prints one skip line.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { demoConfig } from '../support/fleet-configs.js';
import { etcdInstalled, NO_ETCD, TestEtcd } from '../support/etcd.js';
import { Replica } from '../support/replicas.js';
import { openEventStream } from '../support/event-stream.js';
import { FakeEnvoyAdmin } from '../support/fake-envoy-admin.js';
import { SimNode } from '../support/sim-node.js';
import { waitUntil } from '../support/wait.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import {
  batchSizes,
  CONFIG,
  drainOn,
  leaderOf,
  LEASE_SECONDS,
  MovingNode,
  nodeStates,
  seesNodes,
  startDrain,
  startReplicas,
  untilCompleted,
} from './fleet.js';

const WITH_SECOND_INGRESS = demoConfig({
  ingress: [
    { name: 'ingress_http', port: 10000 },
    { name: 'ingress_b', port: 10001 },
  ],
});

describe('replicas sharing state through etcd', { skip: etcdInstalled() ? false : NO_ETCD, timeout: 600_000 }, () => {
  let etcd: TestEtcd;
  let replicas: Replica[] = [];
  let nodes: MovingNode[] = [];
  let proxy: TcpProxy | undefined;

  /** Node i on replica i mod 3; its gauges go to the next replica (a metrics stream may land anywhere) unless `ownMetrics`. */
  const connectSpread = async (count: number, prefix: string, ownMetrics = false): Promise<MovingNode[]> => {
    const spread: MovingNode[] = [];
    for (let i = 0; i < count; i++) {
      const n = new MovingNode(`${prefix}-node-${i}`);
      await n.connect(replicas[i % replicas.length]!, replicas[(i + (ownMetrics ? 0 : 1)) % replicas.length]);
      spread.push(n);
    }
    nodes.push(...spread);
    return spread;
  };

  before(async () => {
    etcd = await TestEtcd.start();
  });
  afterEach(async () => {
    for (const n of nodes) n.close();
    nodes = [];
    await Promise.all(replicas.map((r) => r.stop()));
    replicas = [];
    await proxy?.close();
    proxy = undefined;
  });
  after(() => etcd?.close());

  test('a drain started on one replica completes on the nodes of all three; a config change on one reaches all', async () => {
    replicas = await startReplicas(3, '/t1/', () => etcd.endpoint);
    const console0 = await openEventStream(`${replicas[0]!.apiUrl}/v1/fleet/events`);
    const spread = await connectSpread(6, 't1');
    for (const r of replicas) await waitUntil(`${r.id} to see all 6 nodes`, seesNodes(r, 6), 30_000);
    const fleetEvents = () => console0.events.filter((e) => e.event === 'fleet');
    await waitUntil(
      "r0's console to be told of the nodes that connected to r1 and r2",
      () => {
        const changed = new Set(fleetEvents().flatMap((e) => e.data.changedNodes as string[]));
        return spread.every((n) => changed.has(n.id)) && fleetEvents().at(-1)!.data.summary.nodes.total === 6;
      },
      30_000,
    );
    await console0.close();
    const listed = (await replicas[0]!.api('GET', '/v1/nodes')).body.nodes as { id: string; replica: string }[];
    assert.deepEqual(
      Object.fromEntries(listed.map((n) => [n.id, n.replica])),
      Object.fromEntries(spread.map((n, i) => [n.id, `r${i % 3}`])),
      'every replica lists every node with the replica holding its stream',
    );

    for (const n of spread) n.reportWhenDrained();
    const drain = await startDrain(replicas[1]!, { selector: { cluster: 'test-cluster' }, scope: 'ingress', batch: { size: 2 } });
    assert.equal(drain.phases[0]!.nodes.length, 6, 'the drain took the nodes of every replica');
    await untilCompleted(replicas[2]!, drain.id, 'the drain to complete, as replica r2 sees it', 60_000);
    const done = (await drainOn(replicas[0]!, drain.id))!;
    assert.equal(done.state, 'completed');
    assert.deepEqual(new Set(Object.values(nodeStates(done))), new Set(['drained']));
    assert.deepEqual([...batchSizes(done).values()], [2, 2, 2], 'three batches of two, each started once');
    for (const n of spread) assert.deepEqual(n.listeners(), ['egress_http'], `${n.id} lost only its ingress listener`);

    const put = await fetch(`${replicas[2]!.apiUrl}/v1/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml' },
      body: WITH_SECOND_INGRESS,
    });
    assert.equal(put.status, 200, await put.text());
    for (const n of spread) {
      await n.node.waitForLds((r) => r.resources.some((x) => x.name === 'ingress_b'), 'with ingress_b', 20_000);
      assert.deepEqual(n.listeners().sort(), ['egress_http', 'ingress_b'], `${n.id}: the new listener, and the drained one still gone`);
    }
    const versions = (await replicas[0]!.api('GET', '/v1/config/versions')).body.versions as { version: number; origin: string; replica: string }[];
    assert.deepEqual(
      versions.map((v) => [v.version, v.origin, v.replica]),
      [
        [1, 'start', 'r0'],
        [2, 'api', 'r2'],
      ],
    );
    for (const r of replicas) assert.equal((await r.api('GET', '/v1/config')).body.version, 2, `${r.id} runs version 2`);

    // A replica started now runs the stored version 2, not its file (the bytes of version 1)...
    const late = await Replica.start({ id: 'r3', configYaml: CONFIG, etcd: etcd.endpoint, prefix: '/t1/', leaseSeconds: LEASE_SECONDS });
    replicas.push(late);
    assert.equal((await late.api('GET', '/v1/config')).body.version, 2);
    // ...and its file written again with the same bytes is no change.
    await writeFile(late.configFile, CONFIG);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await late.api('GET', '/v1/config/versions')).body.versions.length, 2);
    assert.equal((await late.api('GET', '/v1/config')).body.version, 2);
    // A new file on one replica (a ConfigMap change) is the next version on all of them.
    await writeFile(replicas[1]!.configFile, demoConfig({ listenerTag: 'from-the-file' }));
    for (const r of replicas) {
      await waitUntil(`${r.id} to run version 3`, async () => (await r.api('GET', '/v1/config')).body.version === 3, 30_000);
    }
    const third = (await replicas[2]!.api('GET', '/v1/config/versions/3')).body;
    assert.deepEqual([third.origin, third.replica], ['watch', 'r1']);
  });

  test('the leader is killed during an admin call: the next leader makes the call again, and the drain completes', async () => {
    replicas = await startReplicas(3, '/t6/', () => etcd.endpoint);
    const [r0, r1, r2] = replicas as [Replica, Replica, Replica];
    await waitUntil('r1 to see r0 lead', async () => (await r1.store())?.leader === 'r0', 30_000);
    const admin = await FakeEnvoyAdmin.start();
    // The node's stream is on r1, so it stays connected when r0 dies.
    const sim = SimNode.connect(r1.xdsAddress, 't6-admin', { metadata: { admin_address: admin.address } });
    try {
      await sim.waitForLds(() => true, 'at all', 20_000);
      await waitUntil('r0 to see the node', async () => (await r0.api('GET', '/v1/nodes/t6-admin')).body.connected === true, 30_000);
      admin.hang('/healthcheck/fail');
      // The leader dies the moment its call arrives, so the call's own timeout (2 s) cannot end it
      // first on a slow machine: the call stays unanswered, and the next leader must make it again.
      admin.onNextRequest('/healthcheck/fail', () => {
        r0.cli.child.kill('SIGKILL');
        admin.unhang('/healthcheck/fail');
      });
      // Started on the leader; it persists the drain before it calls, and may die before it answers.
      const started = await r0
        .api('POST', '/v1/drains', { selector: { ids: ['t6-admin'] }, scope: 'ingress', method: 'healthcheck-fail', measure: 'ack' })
        .catch(() => undefined);
      await r0.cli.exited;
      assert.equal(admin.requestsTo('/healthcheck/fail').length, 1, 'the killed leader made the first call');
      const drain: { id: string } = await waitUntil('the drain on r1', async () =>
        started?.status === 201 ? started.body : (await r1.api('GET', '/v1/drains')).body.drains[0],
      );
      await waitUntil('a surviving replica to lead', async () => (await leaderOf([r1, r2])) !== undefined, 30_000);
      await untilCompleted(r1, drain.id, 'the admin drain to complete after the takeover', 60_000);
      assert.equal(admin.requestsTo('/healthcheck/fail').length, 2, 'called once more, by the new leader, and only once');
      assert.equal(admin.healthCheckFailed, true);
    } finally {
      sim.close();
      await admin.close();
    }
  });

  test('the leader is killed mid-drain: another replica leads within the lease, and the drain completes without double steps', async () => {
    replicas = await startReplicas(3, '/t2/', () => etcd.endpoint);
    const [r0, r1, r2] = replicas as [Replica, Replica, Replica];
    await waitUntil('r1 to see r0 lead', async () => (await r1.store())?.leader === 'r0', 30_000);
    // Gauges go to the node's own replica, so that a node of the killed replica moves them with its xDS stream.
    const spread = await connectSpread(6, 't2', true);
    await waitUntil('r1 to see all 6 nodes', seesNodes(r1, 6), 30_000);
    for (const n of spread) n.reportWhenDrained();
    const drain = await startDrain(r1, { selector: { cluster: 'test-cluster' }, scope: 'ingress', batch: { size: 1 } });
    await waitUntil(
      'two nodes drained',
      async () => Object.values(nodeStates((await drainOn(r1, drain.id))!)).filter((s) => s === 'drained').length >= 2,
      60_000,
    );

    const killedAt = Date.now();
    await r0.kill();
    // Its Envoys reconnect through the Service to another replica.
    const orphans = spread.filter((_, i) => i % 3 === 0);
    await Promise.all(orphans.map((n, i) => n.connect(i % 2 === 0 ? r1 : r2, i % 2 === 0 ? r1 : r2)));
    for (const n of orphans) n.reportWhenDrained();
    let leader: Replica | undefined;
    await waitUntil('a surviving replica to lead', async () => (leader = await leaderOf([r1, r2])) !== undefined, 30_000);
    const takeoverMs = Date.now() - killedAt;
    console.log(`leader takeover after SIGKILL of the leader: ${takeoverMs} ms (lease ${LEASE_SECONDS} s; ${leader!.id} leads)`);

    await untilCompleted(r2, drain.id, 'the drain to complete after the takeover', 90_000);
    const done = (await drainOn(r1, drain.id))!;
    assert.deepEqual(new Set(Object.values(nodeStates(done))), new Set(['drained']));
    const sizes = batchSizes(done);
    assert.equal(sizes.size, 6, 'six batches of one');
    assert.ok(
      [...sizes.values()].every((n) => n === 1),
      `a batch was started twice: ${JSON.stringify([...sizes])}`,
    );
    for (const n of spread) assert.equal(n.cameBack('ingress_http'), false, `${n.id} never got its drained listener back`);
    console.log(`drain ${drain.id}: 6 nodes on 3 replicas, leader killed after 2 were drained, completed by ${leader!.id}`);
  });

  test('etcd restarted with its data: replicas keep serving, refuse changes with 503 meanwhile, and lose nothing', async () => {
    replicas = await startReplicas(3, '/t3/', () => etcd.endpoint);
    const spread = await connectSpread(3, 't3');
    await waitUntil('r0 to see all 3 nodes', seesNodes(replicas[0]!, 3), 30_000);
    const put = await fetch(`${replicas[1]!.apiUrl}/v1/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml' },
      body: WITH_SECOND_INGRESS,
    });
    assert.equal(put.status, 200);
    const drain = await startDrain(replicas[0]!, { selector: { cluster: 'test-cluster' }, scope: { listeners: ['ingress_http'] } });
    for (const n of spread) await n.node.waitForLds((r) => !r.resources.some((x) => x.name === 'ingress_http'), 'drained', 20_000);

    await etcd.stop();
    for (const r of replicas) {
      await waitUntil(`${r.id} to notice etcd is gone`, async () => (await r.store())?.available === false, 30_000);
      const refused = await r.api('POST', '/v1/drains', { selector: { cluster: 'test-cluster' }, scope: 'egress' });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error, 'store-unavailable');
      assert.match(refused.body.message, /etcd at .* does not answer/);
      assert.equal((await r.api('GET', `/v1/drains/${drain.id}`)).body.state, 'running', 'reads answer from the last known state');
    }
    // A node connecting meanwhile is served the last known state: its drained listener stays out.
    const late = new MovingNode('t3-late');
    nodes.push(late);
    await late.connect(replicas[2]!);
    assert.deepEqual(late.listeners().sort(), ['egress_http', 'ingress_b']);
    for (const n of spread) assert.deepEqual(n.listeners().sort(), ['egress_http', 'ingress_b'], `${n.id} kept its state`);

    await etcd.restart();
    for (const r of replicas) await waitUntil(`${r.id} to be back`, async () => (await r.store())?.available === true, 30_000);
    const second = await startDrain(replicas[1]!, { selector: { ids: ['t3-node-0'] }, scope: 'egress', measure: 'ack' });
    await untilCompleted(replicas[2]!, second.id, 'the egress drain to complete', 30_000);
    for (const n of [...spread, late]) n.reportWhenDrained();
    await untilCompleted(replicas[1]!, drain.id, 'the first drain to complete, with the node that joined while etcd was down', 60_000);
    assert.deepEqual(Object.keys(nodeStates((await drainOn(replicas[0]!, drain.id))!)).sort(), [...spread.map((n) => n.id), 't3-late'].sort());
    const versions = (await replicas[2]!.api('GET', '/v1/config/versions')).body.versions as { version: number }[];
    assert.deepEqual(
      versions.map((v) => v.version),
      [1, 2],
      'both config versions survived',
    );
    assert.equal((await replicas[0]!.api('GET', '/v1/drains')).body.drains.length, 2);
  });

  test('a replica cut off from etcd keeps serving its nodes, refuses changes, and catches up when the partition heals', async () => {
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: etcd.clientPort });
    // r0 (the leader, started first) reaches etcd through the proxy; the others directly.
    replicas = await startReplicas(3, '/t4/', (i) => (i === 0 ? proxy!.endpoint : etcd.endpoint));
    const [r0, r1, r2] = replicas as [Replica, Replica, Replica];
    // Each node's gauges go to its own replica: r0's node cannot be judged while r0 is cut off.
    const spread = await connectSpread(3, 't4', true);
    await waitUntil('r1 to see all 3 nodes', seesNodes(r1, 3), 30_000);
    const drain = await startDrain(r1, { selector: { cluster: 'test-cluster' }, scope: 'ingress' });
    for (const n of spread) await n.node.waitForLds((r) => !r.resources.some((x) => x.name === 'ingress_http'), 'drained', 20_000);

    const cutAt = Date.now();
    proxy.cut();
    await waitUntil('r0 to notice', async () => (await r0.store())?.available === false, 30_000);
    const refused = await r0.api('POST', `/v1/drains/${drain.id}/cancel`);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error, 'store-unavailable');
    await waitUntil('r1 or r2 to lead', async () => (await leaderOf([r1, r2])) !== undefined, 30_000);
    console.log(`leadership moved off the partitioned leader after ${Date.now() - cutAt} ms (lease ${LEASE_SECONDS} s)`);
    assert.equal((await r0.store())?.leading, false, 'the cut-off replica does not act as leader');

    // The other side goes on: a config change, and the drain progresses for their nodes.
    const put = await fetch(`${r2.apiUrl}/v1/config`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: WITH_SECOND_INGRESS });
    assert.equal(put.status, 200);
    for (const n of spread) n.reportWhenDrained();
    await waitUntil(
      'the nodes of r1 and r2 to be drained',
      async () => {
        const states = nodeStates((await drainOn(r1, drain.id))!);
        return states['t4-node-1'] === 'drained' && states['t4-node-2'] === 'drained';
      },
      30_000,
    );
    assert.notEqual((await drainOn(r1, drain.id))!.state, 'completed', "r0's node cannot be judged while r0 is cut off");
    assert.deepEqual(spread[0]!.listeners(), ['egress_http'], "r0's node keeps the state r0 last knew");

    proxy.heal();
    await waitUntil('r0 to be back', async () => (await r0.store())?.available === true, 30_000);
    await spread[0]!.node.waitForLds((r) => r.resources.some((x) => x.name === 'ingress_b'), 'the config stored during the partition', 20_000);
    await untilCompleted(r0, drain.id, 'the drain to complete with the node of r0', 60_000);
    assert.equal((await r0.api('GET', '/v1/config')).body.version, 2);
  });

  test('a replica stopped with SIGTERM hands leadership over at once, without waiting for its lease', async () => {
    const LONG_LEASE = 20;
    const start = (id: string) => Replica.start({ id, configYaml: CONFIG, etcd: etcd.endpoint, prefix: '/t5/', leaseSeconds: LONG_LEASE });
    replicas = [await start('r0')];
    await waitUntil('r0 to lead', async () => (await replicas[0]!.store())?.leading === true, 30_000);
    replicas.push(await start('r1'));
    const stoppedAt = Date.now();
    replicas[0]!.cli.child.kill('SIGTERM');
    await waitUntil('r1 to lead', async () => (await replicas[1]!.store())?.leading === true, LONG_LEASE * 1000);
    const handoverMs = Date.now() - stoppedAt;
    console.log(`leader handover after SIGTERM: ${handoverMs} ms (lease ${LONG_LEASE} s)`);
    assert.ok(handoverMs < (LONG_LEASE * 1000) / 2, `r1 waited for the lease to run out (${handoverMs} ms)`);
  });
});
