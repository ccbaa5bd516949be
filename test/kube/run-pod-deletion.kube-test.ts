/**
 * `drainplane run` watching its own pod on a real API server: deleting the pod starts the drain
 * at once (readiness 503, Envoy's health failed, the ingress listener modified), with no preStop
 * hook and no signal, as the kubelet would only run those after; the kubelet's SIGTERM that
 * follows joins that drain rather than starting another, and the pod exits 0 with its Envoy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipWithoutKube, startKubeCluster, type KubeCluster } from '../support/kube-cluster.js';
import { waitUntil } from '../support/wait.js';
import { withRealEnvoy, type RealEnvoy } from '../e2e-envoy/envoy-binary.js';
import { PodSite, START_TIMEOUT_MS } from '../e2e-envoy/pod.js';
import { shippedAccount } from './manifest-rbac.js';

const objects = `
apiVersion: v1
kind: Namespace
metadata: { name: edge }
---
apiVersion: v1
kind: Node
metadata: { name: node-a }
---
apiVersion: v1
kind: Pod
metadata: { name: edge-0, namespace: edge }
spec:
  nodeName: node-a
  containers: [{ name: envoy, image: registry.example/drainplane-envoy:1 }]
`;

withRealEnvoy('drainplane run and its pod', (envoy) => register(envoy));

function register(envoy: RealEnvoy): void {
  describe(`drainplane run watching its pod (${envoy.version})`, { skip: skipWithoutKube(), timeout: 240_000 }, () => {
    let cluster: KubeCluster;
    let site: PodSite;

    before(async () => {
      cluster = await startKubeCluster();
      await cluster.apply(objects);
      // The pod's account as deployment.yaml makes it.
      const kubeconfig = await shippedAccount(cluster, { file: 'deployment.yaml', namespace: 'edge', name: 'edge', roleNamespace: 'edge' });
      site = await PodSite.create({ envoyBin: envoy.bin, adsApi: 'GRPC', kubeconfig });
    });
    after(async () => {
      await site?.close();
      await cluster?.stop();
    });

    test("the pod's deletion starts the drain; the kubelet's SIGTERM joins it", async () => {
      const pod = site.start(['--grace-period', '20', '--propagation-delay', '3', '--pod-name', 'edge-0', '--pod-namespace', 'edge']);
      await pod.proc.waitForLog((l) => l['event'] === 'pod_watch', START_TIMEOUT_MS);
      await waitUntil('readiness 200', async () => (await pod.readyz('api')) === 200, START_TIMEOUT_MS);

      const deleted = Date.now();
      await cluster.kubectl(['delete', 'pod', '-n', 'edge', 'edge-0', '--wait=false']);
      const started = await pod.proc.waitForLog((l) => l['event'] === 'shutdown_phase' && l['phase'] === 'shutdown', 10_000);
      console.log(`pod deletion to the drain's start: ${Date.now() - deleted} ms`);
      assert.match(String(started['msg']), /^pod-deleted: /);
      await waitUntil('readiness 503', async () => (await pod.readyz('api')) === 503, 3_000);
      await waitUntil("Envoy's /ready to turn DRAINING (/healthcheck/fail)", async () => (await pod.admin('/ready')).status === 503, 3_000);
      assert.ok(pod.running, 'the drain only: Envoy keeps running until SIGTERM');

      pod.signal('SIGTERM');
      await pod.proc.waitForLog((l) => l['event'] === 'shutdown_joined' && l['trigger'] === 'SIGTERM', 5_000);
      assert.equal(await pod.exited, 0);
      assert.equal(pod.logs.filter((l) => l['event'] === 'shutdown_phase' && l['phase'] === 'shutdown').length, 1, 'one drain, not two');
      assert.ok(pod.phases().includes('ingress'), `the drain went on to remove ingress: ${pod.phases().join(', ')}`);
    });
  });
}
