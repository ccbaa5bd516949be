/**
 * EDS from a real cluster: drainplane watches a Service's EndpointSlices, written by the real
 * EndpointSlice controller, and serves them to SotW and Delta nodes. A pod being deleted is
 * DRAINING in every node as soon as the controller marks it terminating, before any kubelet
 * would stop it; a pod gone leaves; a new one joins; a drainplane restart sends nodes nothing
 * they must drop. Run with `npm run test:kube`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { EdsNode, type Endpoints } from '../support/eds-node.js';
import { serviceGroup } from '../support/fleet-configs.js';
import { skipWithoutKube, startKubeCluster, type KubeCluster } from '../support/kube-cluster.js';
import { shippedAccount } from './manifest-rbac.js';
import { backendPod, node, SHOP } from './shop.js';

const A = '10.244.1.7:8080';
const B = '10.244.2.7:8080';
const C = '10.244.1.8:8080';
const D = '10.244.2.8:8080';

const objects = SHOP + node('node-a', 'z1') + node('node-b', 'z2');

const config = (kubeconfig: string): string =>
  `kubernetes: { kubeconfig: ${kubeconfig} }\ngroups:${serviceGroup({ name: 'edge', match: '{ cluster: edge }' })}`;

describe('EDS from a Service in a real cluster', { skip: skipWithoutKube(), timeout: 300_000 }, () => {
  let cluster: KubeCluster;
  let d: TestDaemon;
  let kubeconfig: string;
  const nodes: EdsNode[] = [];

  before(async () => {
    cluster = await startKubeCluster();
    await cluster.apply(objects);
    await cluster.apply(backendPod('backend-0', 'node-a') + backendPod('backend-1', 'node-b'));
    await cluster.readyPod('shop', 'backend-0', A.split(':')[0]!);
    await cluster.readyPod('shop', 'backend-1', B.split(':')[0]!);
    // drainplane's own account, as ha.yaml makes it, with its Role in the Service's namespace.
    kubeconfig = await shippedAccount(cluster, { file: 'ha.yaml', namespace: 'drainplane', name: 'drainplane', roleNamespace: 'shop' });
    d = await startTestDaemon(config(kubeconfig));
    for (const flavour of ['sotw', 'delta'] as const)
      nodes.push(EdsNode.connect(d.xdsAddress, `edge-${flavour}`, { flavour, cluster: 'edge', clusters: ['backend'] }));
  });
  after(async () => {
    for (const n of nodes) n.close();
    await d?.close();
    await cluster?.stop();
  });

  const every = async (check: (e: Endpoints) => boolean, what: string): Promise<void> => {
    await Promise.all(nodes.map((n) => n.waitFor('backend', check, what, 30_000)));
  };
  const same = (want: Endpoints) => (e: Endpoints) => JSON.stringify(e) === JSON.stringify(want);

  test('ready pods are HEALTHY endpoints', async () => {
    await every(same({ [A]: 'HEALTHY', [B]: 'HEALTHY' }), 'both pods');
  });

  test('a pod being deleted is DRAINING everywhere, then leaves once gone; a new pod joins', async () => {
    const deleted = Date.now();
    await cluster.kubectl(['delete', 'pod', '-n', 'shop', 'backend-1', '--wait=false']);
    await every(same({ [A]: 'HEALTHY', [B]: 'DRAINING' }), 'the deleted pod draining');
    console.log(`pod deletion to DRAINING in every node: ${Date.now() - deleted} ms`);
    for (const n of nodes)
      assert.ok(!n.history('backend').some((e) => !(B in e)), `${n.id}: the terminating endpoint was never dropped before it was gone`);

    await cluster.kubectl(['delete', 'pod', '-n', 'shop', 'backend-1', '--grace-period=0', '--force']);
    await every(same({ [A]: 'HEALTHY' }), 'the gone pod left');

    await cluster.apply(backendPod('backend-2', 'node-a'));
    await cluster.readyPod('shop', 'backend-2', C.split(':')[0]!);
    await every(same({ [A]: 'HEALTHY', [C]: 'HEALTHY' }), 'the new pod');
  });

  test('a drainplane restart: nodes reconnect and are sent nothing they would have to drop', async () => {
    const before = nodes.map((n) => n.history('backend').length);
    await d.close();
    d = await startTestDaemon(config(kubeconfig));
    for (const n of nodes) n.moveTo(d.xdsAddress);
    await new Promise((r) => setTimeout(r, 1000));
    nodes.forEach((n, i) => {
      for (const e of n.history('backend').slice(before[i])) assert.deepEqual(e, { [A]: 'HEALTHY', [C]: 'HEALTHY' }, n.id);
    });
    // The restarted one follows the cluster too.
    await cluster.kubectl(['delete', 'pod', '-n', 'shop', 'backend-2', '--wait=false']);
    await every(same({ [A]: 'HEALTHY', [C]: 'DRAINING' }), 'the deleted pod draining, after the restart');
  });

  test('the API server restarts: the watch comes back on its own, and what changed meanwhile is served', async () => {
    const restarts = d.daemon.metrics.registry.getSingleMetric('drainplane_kube_watch_restarts_total');
    const before = (await restarts?.get())?.values[0]?.value ?? 0;
    await cluster.restartApiServer(2000);
    await cluster.apply(backendPod('backend-3', 'node-b'));
    await cluster.readyPod('shop', 'backend-3', D.split(':')[0]!);
    await every((e) => e[D] === 'HEALTHY' && e[A] === 'HEALTHY', 'the pod made after the restart');
    assert.ok(((await restarts?.get())?.values[0]?.value ?? 0) > before, 'the broken watch was counted and started again');
  });

  test("an upstream drain by address (a backend's preStop hook) takes a Service's endpoint, and its cancel gives it back", async () => {
    const post = (p: string, body?: object) =>
      fetch(`${d.apiUrl}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body && { body: JSON.stringify(body) }) });
    const created = await post('/v1/drains', { endpoints: { addresses: [A] }, deadlineSeconds: 60 });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    await every((e) => e[A] === 'DRAINING', `${A} draining`);
    assert.equal((await post(`/v1/drains/${id}/cancel`)).status, 200);
    await every((e) => e[A] === 'HEALTHY', `${A} serving again`);
  });
});
