/**
 * An endpoint drain across replicas sharing one etcd, as the Envoys see it: the backend DRAINING
 * in the EDS of nodes served by every replica, held while their Envoys (admin /clusters) still
 * have a request open to it, judged by the leader and carried on by the next one when it dies,
 * and served again everywhere after a cancel on any replica. Run with `npm run test:ha`.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { EndpointProgress } from '../../src/fleet/drain/model.js';
import { EdsNode, type AdsFlavour } from '../support/eds-node.js';
import { etcdInstalled, NO_ETCD, TestEtcd } from '../support/etcd.js';
import { FakeEnvoyAdmin, type HostActivity } from '../support/fake-envoy-admin.js';
import type { Replica } from '../support/replicas.js';
import { LoadReportClient } from '../support/load-report-client.js';
import { waitUntil } from '../support/wait.js';
import { drainOn, leaderOf, nodeStates, seesNodes, startDrain, startReplicas, untilCompleted } from './fleet.js';

/** The backend demoConfig puts in both its clusters, app and upstream. */
const BACKEND = '127.0.0.1:8080';
const CLUSTERS = ['app', 'upstream'];
const ONE_REQUEST: HostActivity = { requests: 1, connections: 1 };
const IDLE: HostActivity = { requests: 0, connections: 0 };

describe('an endpoint drain across replicas', { skip: etcdInstalled() ? false : NO_ETCD, timeout: 300_000 }, () => {
  let etcd: TestEtcd;
  let replicas: Replica[] = [];
  let nodes: EdsNode[] = [];
  let admins: FakeEnvoyAdmin[] = [];

  /** An Envoy subscribed to both clusters' EDS whose admin API (its host counts) is `admin`. */
  const envoy = (on: Replica, id: string, flavour: AdsFlavour, admin: FakeEnvoyAdmin): EdsNode => {
    const n = EdsNode.connect(on.xdsAddress, id, { flavour, clusters: CLUSTERS, metadata: { admin_address: admin.address } });
    nodes.push(n);
    return n;
  };
  const waitUntilLeader = async (all: Replica[]): Promise<Replica | undefined> => {
    let leader: Replica | undefined;
    await waitUntil('a replica to lead', async () => (leader = await leaderOf(all)) !== undefined, 30_000);
    return leader;
  };
  const endpointsOn = async (r: Replica, id: string): Promise<(EndpointProgress[] | undefined)[]> =>
    (await drainOn(r, id))!.phases.flatMap((p) => p.nodes.map((n) => n.endpoints));

  before(async () => {
    etcd = await TestEtcd.start();
  });
  afterEach(async () => {
    for (const n of nodes) n.close();
    nodes = [];
    await Promise.all(replicas.map((r) => r.stop()));
    replicas = [];
    await Promise.all(admins.map((a) => a.close()));
    admins = [];
  });
  after(() => etcd?.close());

  test('started on one replica, it marks the backend DRAINING on every node, outlives the leader, completes, and a cancel on any replica restores it', async () => {
    replicas = await startReplicas(3, '/e1/', () => etcd.endpoint);
    const [r0, r1, r2] = replicas as [Replica, Replica, Replica];
    // Every Envoy has one request open to the backend in the app cluster, none in upstream.
    admins = await Promise.all(replicas.map(() => FakeEnvoyAdmin.start()));
    for (const a of admins) {
      a.setHost('app', BACKEND, ONE_REQUEST);
      a.setHost('upstream', BACKEND, IDLE);
    }
    // Node i on replica i; the one on r1 speaks Delta.
    const [n0, n1, n2] = replicas.map((r, i) => envoy(r, `e1-node-${i}`, i === 1 ? 'delta' : 'sotw', admins[i]!)) as [EdsNode, EdsNode, EdsNode];
    for (const n of nodes) await n.waitFor('app', (e) => e[BACKEND] === '', 'serving the backend');
    await waitUntil('r1 to see the nodes of every replica', seesNodes(r1, 3), 30_000);

    const drain = await startDrain(r1, { endpoints: { cluster: 'app', addresses: [BACKEND] }, deadlineSeconds: 120 });
    assert.deepEqual(
      drain.phases.map((p) => p.name),
      ['endpoints'],
    );
    assert.deepEqual(Object.keys(nodeStates(drain)).sort(), [n0.id, n1.id, n2.id], 'the nodes of all three replicas');
    for (const n of nodes) {
      await n.waitFor('app', (e) => e[BACKEND] === 'DRAINING', `${BACKEND} DRAINING`);
      assert.equal(n.endpoints('upstream')?.[BACKEND], '', `${n.id}: the same backend in the upstream cluster is not drained`);
    }

    // r0 leads, and only the leader reads host counts: every node ACKed, held by its open request.
    const held: EndpointProgress = { cluster: 'app', address: BACKEND, ...ONE_REQUEST };
    for (const r of replicas) {
      await waitUntil(
        `${r.id} to show every node held by the request it has open to the backend`,
        async () => (await endpointsOn(r, drain.id)).every((e) => JSON.stringify(e) === JSON.stringify([held])),
        30_000,
        { explain: async () => JSON.stringify((await drainOn(r, drain.id))?.phases) },
      );
      const seen = (await drainOn(r, drain.id))!;
      assert.equal(seen.state, 'running');
      assert.deepEqual(new Set(Object.values(nodeStates(seen))), new Set(['acked']));
    }

    await r0.kill();
    // Its Envoy reconnects to another replica, saying which EDS version it has.
    n0.moveTo(r2.xdsAddress);
    let leader: Replica | undefined;
    await waitUntil('a surviving replica to lead', async () => (leader = await leaderOf([r1, r2])) !== undefined, 30_000);
    await waitUntil(`${n0.id} to be connected to r2`, async () => (await r2.api('GET', `/v1/nodes/${n0.id}`)).body.replica === 'r2', 30_000);
    assert.equal((await drainOn(r2, drain.id))!.state, 'running', 'nothing judged the open requests away');

    const readsBefore = admins.map((a) => a.requestsTo('/clusters').length);
    for (const a of admins) a.setHost('app', BACKEND, IDLE);
    await untilCompleted(r2, drain.id, `the drain to complete under ${leader!.id}`, 60_000);
    const done = (await drainOn(r1, drain.id))!;
    assert.deepEqual(new Set(Object.values(nodeStates(done))), new Set(['drained']));
    assert.deepEqual(
      await endpointsOn(r1, drain.id),
      [0, 1, 2].map(() => [{ cluster: 'app', address: BACKEND, ...IDLE }]),
    );
    admins.forEach((a, i) => assert.ok(a.requestsTo('/clusters').length > readsBefore[i]!, `the new leader read node ${i}'s host counts`));

    // Completed, the mark stays: on every node, on the one that moved, and on an Envoy new to the fleet.
    for (const n of nodes) assert.equal(n.endpoints('app')![BACKEND], 'DRAINING', `${n.id} still has the backend DRAINING`);
    const sinceDrained = n0.history('app').slice(n0.history('app').findIndex((e) => e[BACKEND] === 'DRAINING'));
    assert.ok(
      sinceDrained.every((e) => e[BACKEND] === 'DRAINING'),
      `${n0.id} was never sent the backend serving again: ${JSON.stringify(n0.history('app'))}`,
    );
    const late = envoy(r1, 'e1-late', 'delta', admins[1]!);
    await late.waitFor('app', () => true, 'at all');
    assert.deepEqual(
      late.history('app').map((e) => e[BACKEND]),
      ['DRAINING'],
      'a new Envoy is never sent the backend serving',
    );

    // Cancelled on the replica that does not lead: the backend serves again on every node.
    const follower = leader === r1 ? r2 : r1;
    const cancelled = await follower.api('POST', `/v1/drains/${drain.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    for (const n of nodes) await n.waitFor('app', (e) => e[BACKEND] === '', 'serving the backend again');
    for (const r of [r1, r2]) assert.equal((await drainOn(r, drain.id))!.state, 'cancelled', `${r.id} has it cancelled`);
  });

  test("load reports that reach a replica other than the leader (and than the node's ADS stream) hold and end the drain", async () => {
    replicas = await startReplicas(3, '/e2/', () => etcd.endpoint);
    const [r0, r1, r2] = replicas as [Replica, Replica, Replica];
    const leader = (await waitUntilLeader(replicas))!;
    // ADS on one follower, load reports on the other: neither is the leader that judges.
    const [adsOn, lrsOn] = replicas.filter((r) => r !== leader) as [Replica, Replica];
    const node = EdsNode.connect(adsOn.xdsAddress, 'e2-node', { flavour: 'sotw', clusters: CLUSTERS, metadata: {}, envoyVersion: '1.40.0' });
    nodes.push(node);
    await node.waitFor('app', (e) => e[BACKEND] === '', 'serving the backend');
    const lrs = await LoadReportClient.open(lrsOn.xdsAddress, node.id);
    try {
      assert.deepEqual(lrs.answers[0], {
        send_all_clusters: true,
        report_endpoint_granularity: true,
        load_reporting_interval: { seconds: 1, nanos: 0 },
      });
      // Reports count for nodes connected to the fleet, on whichever replica.
      const drain = await startDrain(r1, { endpoints: { cluster: 'app', addresses: [BACKEND] }, deadlineSeconds: 120 });
      await node.waitFor('app', (e) => e[BACKEND] === 'DRAINING', `${BACKEND} DRAINING`);
      const held = { cluster: 'app', address: BACKEND, requests: 1, connections: null };
      const reporting = setInterval(() => lrs.report('app', { [BACKEND]: 1 }), 200);
      try {
        await waitUntil(
          `${leader.id} to see the request in progress the node reported to ${lrsOn.id}`,
          async () => JSON.stringify((await endpointsOn(leader, drain.id))[0]) === JSON.stringify([held]),
          30_000,
          { explain: async () => JSON.stringify((await drainOn(leader, drain.id))?.phases) },
        );
      } finally {
        clearInterval(reporting);
      }
      assert.equal((await drainOn(r0, drain.id))!.state, 'running');
      const idle = setInterval(() => lrs.report('app', {}), 200);
      try {
        await untilCompleted(r2, drain.id, 'the drain to complete once the reports show nothing in progress', 30_000);
      } finally {
        clearInterval(idle);
      }
      assert.deepEqual(await endpointsOn(r1, drain.id), [[{ cluster: 'app', address: BACKEND, requests: 0, connections: null }]]);
    } finally {
      lrs.close();
    }
  });
});
