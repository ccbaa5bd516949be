/**
 * `kubernetes.fleetPods` on a real API server: when Kubernetes marks a fleet pod for deletion,
 * drainplane drains its node (id: the pod's name) at once, as `drainplane run` would on shutdown;
 * once, however many updates the pod gets; not when a running drain already holds the node; and
 * never for a pod outside the selector.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoGroup } from '../support/fleet-configs.js';
import { skipWithoutKube, startKubeCluster, type KubeCluster } from '../support/kube-cluster.js';
import { SimNode } from '../support/sim-node.js';
import { waitUntil } from '../support/wait.js';
import { node } from './shop.js';

const pod = (name: string, labels: string): string => `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: edge, labels: { ${labels} } }
spec:
  nodeName: node-a
  containers: [{ name: envoy, image: registry.example/envoy:1 }]
`;

describe('fleet pods marked for deletion are drained', { skip: skipWithoutKube(), timeout: 240_000 }, () => {
  let cluster: KubeCluster;
  let d: TestDaemon;
  const sims = new Map<string, SimNode>();

  before(async () => {
    cluster = await startKubeCluster();
    await cluster.apply(
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: edge }\n${node('node-a')}${pod('edge-0', 'app: edge')}${pod('edge-1', 'app: edge')}${pod('other-0', 'app: other')}`,
    );
    d = await startTestDaemon(
      `kubernetes: { kubeconfig: ${cluster.kubeconfig}, fleetPods: { namespace: edge, selector: app=edge, deadlineSeconds: 30 } }\ngroups:${demoGroup({ name: 'edge', cluster: 'edge' })}`,
    );
    for (const id of ['edge-0', 'edge-1', 'other-0']) {
      const sim = SimNode.connect(d.xdsAddress, id, { cluster: 'edge' });
      sims.set(id, sim);
      await sim.waitForLds((r) => r.resources.length === 2, 'both listeners');
    }
  });
  after(async () => {
    for (const s of sims.values()) s.close();
    await d?.close();
    await cluster?.stop();
  });

  const drainsOf = (id: string): Drain[] => d.daemon.drains.list().filter((x) => x.phases.some((p) => p.nodes.some((n) => n.nodeId === id)));

  test("a fleet pod's deletion drains its node at once, once", async () => {
    const deleted = Date.now();
    await cluster.kubectl(['delete', 'pod', '-n', 'edge', 'edge-0', '--wait=false']);
    await waitUntil('a drain of edge-0', () => drainsOf('edge-0').length > 0, 10_000, { intervalMs: 10 });
    console.log(`pod deletion to its node's drain: ${Date.now() - deleted} ms`);
    const [drain] = drainsOf('edge-0');
    assert.equal(drain!.origin, 'pod-deleted');
    assert.deepEqual(drain!.spec.selector, { ids: ['edge-0'] });
    await sims.get('edge-0')!.waitForLds((r) => !r.resources.some((l) => l.name === 'ingress_http'), 'its ingress listener removed');
    assert.deepEqual(sims.get('edge-1')!.listeners().sort(), ['egress_http', 'ingress_http'], 'the other pods keep serving');
    // The pod's later updates (another deletion request, say) are the same deletion.
    await cluster.kubectl(['delete', 'pod', '-n', 'edge', 'edge-0', '--wait=false']);
    await cluster.kubectl(['label', 'pod', '-n', 'edge', 'edge-0', 'seen=again']);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(drainsOf('edge-0').length, 1);
  });

  test('a node a running drain already holds is left to it; a pod outside the selector is not drained', async () => {
    const res = await fetch(`${d.apiUrl}/v1/drains`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ selector: { ids: ['edge-1'] }, scope: 'all', egress: { after: 'advance' }, deadlineSeconds: 300 }),
    });
    assert.equal(res.status, 201);
    await cluster.kubectl(['delete', 'pod', '-n', 'edge', 'edge-1', '--wait=false']);
    await cluster.kubectl(['delete', 'pod', '-n', 'edge', 'other-0', '--wait=false']);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(
      drainsOf('edge-1').map((x) => x.origin ?? 'api'),
      ['api'],
    );
    assert.deepEqual(drainsOf('other-0'), []);
  });
});
