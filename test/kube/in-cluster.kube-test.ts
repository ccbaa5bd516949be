/**
 * drainplane in a pod, as Kubernetes runs it: no kubeconfig, the API server named by
 * KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, and the pod's service account token and
 * CA at /var/run/secrets/kubernetes.io/serviceaccount (placed there in a private mount namespace
 * of the test's drainplane process only; the account is ha.yaml's). It serves the Service's
 * endpoints to a node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveArgs, startCli, type CliProcess } from '../support/cli.js';
import { EdsNode } from '../support/eds-node.js';
import { serviceGroup } from '../support/fleet-configs.js';
import { skipWithoutKube, startKubeCluster, type KubeCluster } from '../support/kube-cluster.js';
import { grantShippedAccount } from './manifest-rbac.js';
import { backendPod, node, SHOP } from './shop.js';

const POD_IP = '10.244.3.7';

/** A private mount namespace needs root and util-linux's unshare. */
function skipWithoutUnshare(): string | false {
  const works = process.getuid?.() === 0 && spawnSync('unshare', ['--mount', 'true']).status === 0;
  return works || process.env['CI'] === 'true' ? false : 'skipped: a private mount namespace needs root and unshare (util-linux)';
}

describe('drainplane in a pod: the service account, no kubeconfig', { skip: skipWithoutKube() || skipWithoutUnshare(), timeout: 240_000 }, () => {
  let cluster: KubeCluster;
  let dir: string;
  let serve: CliProcess | undefined;
  let eds: EdsNode | undefined;

  before(async () => {
    cluster = await startKubeCluster();
    await cluster.apply(SHOP + node('node-a') + backendPod('backend-0', 'node-a'));
    await cluster.readyPod('shop', 'backend-0', POD_IP);
    const account = { file: 'ha.yaml', namespace: 'drainplane', name: 'drainplane', roleNamespace: 'shop' };
    await grantShippedAccount(cluster, account);
    dir = await mkdtemp(path.join(tmpdir(), 'drainplane-in-cluster-'));
    // What the kubelet mounts into a pod of that account.
    const mounted = path.join(dir, 'serviceaccount');
    await mkdir(mounted);
    await writeFile(path.join(mounted, 'token'), await cluster.serviceAccountToken(account.namespace, account.name));
    await copyFile(cluster.caFile, path.join(mounted, 'ca.crt'));
    await writeFile(path.join(mounted, 'namespace'), account.namespace);
    await writeFile(path.join(dir, 'drainplane.yaml'), `groups:${serviceGroup({ name: 'edge', match: '{ cluster: edge }' })}`);
  });
  after(async () => {
    eds?.close();
    serve?.child.kill('SIGKILL');
    await serve?.exited;
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("the pod's service account reaches the API server and the Service's endpoints are served", async () => {
    const api = new URL(cluster.server);
    // A private mount namespace: a fresh /run holds the account's files where a pod has them.
    const podView = [
      'mount -t tmpfs tmpfs /run',
      'mkdir -p /run/secrets/kubernetes.io',
      `ln -s ${path.join(dir, 'serviceaccount')} /run/secrets/kubernetes.io/serviceaccount`,
      'exec "$@"',
    ].join(' && ');
    serve = startCli(
      serveArgs(path.join(dir, 'drainplane.yaml'), path.join(dir, 'state')),
      { KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port, KUBECONFIG: '' },
      ['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', podView, 'sh'],
    );
    const started = await serve.waitForLog((l) => l['event'] === 'started', 60_000);
    assert.equal(serve.logs.filter((l) => l['event'] === 'kube_watch_failed' || l['event'] === 'kube_config_failed').length, 0);
    eds = EdsNode.connect(`127.0.0.1:${started['xdsPort'] as number}`, 'edge-1', { cluster: 'edge', clusters: ['backend'] });
    await eds.waitFor('backend', (e) => e[`${POD_IP}:8080`] === 'HEALTHY', 'the pod HEALTHY', 30_000);
  });
});
