/**
 * The test cluster behaves as the product relies on it: the real EndpointSlice controller lists
 * a ready pod of a Service with its address and port, and a pod being deleted as not ready but
 * still serving and terminating, the state a drain starts from. Run with `npm run test:kube`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { skipWithoutKube, startKubeCluster, type KubeCluster } from '../support/kube-cluster.js';
import { waitUntil } from '../support/wait.js';

const NAMESPACE = 'shop';
/** A private address: EndpointSlices refuse loopback ones. */
const POD_IP = '10.244.1.7';

interface SliceEndpoint {
  readonly addresses: string[];
  readonly conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  readonly nodeName?: string;
  readonly targetRef?: { kind: string; name: string };
}
interface Slice {
  readonly endpoints?: SliceEndpoint[];
  readonly ports?: { name?: string; port?: number; protocol?: string }[];
}

const manifests = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NAMESPACE} }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NAMESPACE} }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

const pod = `
apiVersion: v1
kind: Pod
metadata: { name: web-0, namespace: ${NAMESPACE}, labels: { app: web } }
spec:
  nodeName: node-a
  containers:
    - name: web
      image: registry.example/web:1
      ports: [{ name: http, containerPort: 8080 }]
`;

describe('the test Kubernetes cluster', { skip: skipWithoutKube(), timeout: 240_000 }, () => {
  let cluster: KubeCluster;

  before(async () => {
    cluster = await startKubeCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  /** A POST to the API server as a client other than kubectl would make it. */
  const post = (apiPath: string, body: object): Promise<{ status: number; json: unknown }> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${cluster.server}${apiPath}`,
        {
          method: 'POST',
          ca: readFileSync(cluster.caFile),
          headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
          timeout: 10_000,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
        },
      );
      req.once('error', reject).once('timeout', () => req.destroy(new Error('timed out')));
      req.end(JSON.stringify(body));
    });

  test('`server`, `caFile` and `token` reach the API server as an admin, over verified TLS', async () => {
    assert.match(cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const review = await post('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    assert.equal(review.status, 201);
    const user = (review.json as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    assert.equal(user.username, 'admin');
    assert.ok(user.groups.includes('system:masters'), `groups: ${user.groups.join(', ')}`);
  });

  /** The endpoints of the Service's slices, once some slice has any. */
  const endpointsOfWeb = async (): Promise<{ endpoints: SliceEndpoint[]; slices: Slice[] } | undefined> => {
    const out = await cluster.kubectl([
      'get',
      'endpointslices',
      `--namespace=${NAMESPACE}`,
      '--selector=kubernetes.io/service-name=web',
      '-o',
      'json',
    ]);
    const slices = (JSON.parse(out) as { items: Slice[] }).items;
    const endpoints = slices.flatMap((s) => s.endpoints ?? []);
    return endpoints.length > 0 ? { endpoints, slices } : undefined;
  };

  test('a ready pod is in its Service’s EndpointSlice, and turns terminating when deleted', async () => {
    await cluster.apply(manifests);
    await cluster.createNode('node-a');
    // The API server refuses pods until the ServiceAccount controller made the namespace's account.
    await waitUntil('the default ServiceAccount of the namespace', () => cluster.apply(pod), 20_000, { intervalMs: 200 });
    await cluster.readyPod(NAMESPACE, 'web-0', POD_IP);

    const ready = await waitUntil('the pod in an EndpointSlice of web', endpointsOfWeb, 20_000, { intervalMs: 200 });
    assert.deepEqual(
      ready.endpoints.map((e) => ({ addresses: e.addresses, conditions: e.conditions, nodeName: e.nodeName, pod: e.targetRef?.name })),
      [{ addresses: [POD_IP], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a', pod: 'web-0' }],
    );
    assert.deepEqual(
      ready.slices.flatMap((s) => s.ports ?? []),
      [{ name: 'http', port: 8080, protocol: 'TCP' }],
    );

    // No kubelet confirms the deletion: the pod stays terminating, as during a real grace period.
    await cluster.kubectl(['delete', 'pod', 'web-0', `--namespace=${NAMESPACE}`, '--wait=false']);
    const terminating = await waitUntil(
      'the endpoint to turn terminating',
      async () => {
        const now = await endpointsOfWeb();
        return now?.endpoints.every((e) => e.conditions.terminating === true) ? now.endpoints : undefined;
      },
      15_000,
      { intervalMs: 200 },
    );
    assert.deepEqual(
      terminating.map((e) => ({ addresses: e.addresses, conditions: e.conditions })),
      [{ addresses: [POD_IP], conditions: { ready: false, serving: true, terminating: true } }],
    );
  });
});
