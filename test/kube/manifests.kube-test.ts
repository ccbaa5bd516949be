/**
 * The shipped manifests (deploy/kubernetes/*.yaml) deploy unedited on a real API server: each
 * file passes a server-side dry run (every object validated and admitted, nothing stored), then
 * is applied, and the API server stored every field as written (defaults may be added, nothing
 * written may be dropped or changed). Run with `npm run test:kube`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { skipWithoutKube, startKubeCluster, type KubeCluster } from '../support/kube-cluster.js';
import { writtenFieldsMissing } from './stored-fields.js';

const DEPLOY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../deploy/kubernetes');
const FILES = readdirSync(DEPLOY)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
/** ha.yaml's namespace (its header, and backend.yaml's API address name it); the files set none. */
const NAMESPACE = 'drainplane';

interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly template?: { readonly spec?: PodSpec } };
}
interface PodSpec {
  readonly terminationGracePeriodSeconds?: number;
  readonly containers: { name: string; lifecycle?: unknown; readinessProbe?: unknown }[];
  readonly initContainers?: { name: string; restartPolicy?: string }[];
  readonly serviceAccountName?: string;
}

const objectsOf = (file: string): KubeObject[] => parseAllDocuments(readFileSync(path.join(DEPLOY, file), 'utf8')).map((d) => d.toJS() as KubeObject);

/** How `kubectl -o name` names an object: `deployment.apps/edge`, `configmap/edge-drainplane`. */
const kubectlName = (o: KubeObject): string => {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
};
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe('the manifests in deploy/kubernetes', { skip: skipWithoutKube(), timeout: 240_000 }, () => {
  let cluster: KubeCluster;

  before(async () => {
    cluster = await startKubeCluster();
    await cluster.kubectl(['create', 'namespace', NAMESPACE]);
  });
  after(async () => {
    await cluster?.stop();
  });

  test('the files found include the documented ones', () => {
    for (const documented of ['backend.yaml', 'deployment.yaml', 'ha.yaml']) assert.ok(FILES.includes(documented), documented);
  });

  for (const file of FILES) {
    const kubectlFile = (...args: string[]): Promise<string> =>
      cluster.kubectl([...args, `--filename=${path.join(DEPLOY, file)}`, `--namespace=${NAMESPACE}`]);

    test(`${file}: the API server accepts every object in a server-side dry run, and stores none`, async () => {
      const accepted = await kubectlFile('apply', '--dry-run=server', '--output=name');
      assert.deepEqual(lines(accepted).sort(), objectsOf(file).map(kubectlName).sort());
      assert.deepEqual(lines(await kubectlFile('get', '--ignore-not-found', '--output=name')), []);
    });

    test(`${file}: applied, every object is stored as written`, async () => {
      await kubectlFile('apply');
      // One object is printed as itself, more as a List.
      const got = JSON.parse(await kubectlFile('get', '--output=json')) as KubeObject | { kind: 'List'; items: KubeObject[] };
      const stored = 'items' in got ? got.items : [got];
      const written = objectsOf(file);
      assert.deepEqual(stored.map(kubectlName), written.map(kubectlName));
      written.forEach((w, i) => assert.deepEqual(writtenFieldsMissing(w, stored[i]), [], `${kubectlName(w)} as stored differs from ${file}`));
    });
  }

  // Spot checks of what the drain depends on, read back from the API server.
  const podSpec = async (deployment: string): Promise<PodSpec> => {
    const out = await cluster.kubectl(['get', 'deployment', deployment, `--namespace=${NAMESPACE}`, '--output=json']);
    const spec = (JSON.parse(out) as KubeObject).spec?.template?.spec;
    assert.ok(spec, `deployment ${deployment} has a pod template`);
    return spec;
  };

  test('each Deployment keeps its grace period, preStop hook and native sidecar', async () => {
    const edge = await podSpec('edge');
    assert.equal(edge.terminationGracePeriodSeconds, 30);
    assert.deepEqual(edge.containers[0]?.lifecycle, { preStop: { exec: { command: ['drainplane', 'prestop'] } } });

    const app = await podSpec('app');
    assert.equal(app.terminationGracePeriodSeconds, 45);
    assert.deepEqual(
      app.initContainers?.map((c) => [c.name, c.restartPolicy]),
      [['drain-hook', 'Always']],
    );
    assert.deepEqual(app.containers[0]?.lifecycle, { preStop: { httpGet: { path: '/v1/prestop', port: 9904, scheme: 'HTTP' } } });

    assert.equal((await podSpec('drainplane')).terminationGracePeriodSeconds, 15);
  });

  /** What the API server's authorizer says a service account of the manifests may do. */
  const canI = async (account: string, verb: string, resource: string, namespace = NAMESPACE): Promise<boolean> => {
    const answer = await cluster
      .kubectl(['auth', 'can-i', verb, resource, `--as=system:serviceaccount:${NAMESPACE}:${account}`, `--namespace=${namespace}`])
      // "no" is exit status 1 with nothing on stderr; any other failure is an error.
      .catch((err: Error) => (/exited with 1: \s*$/.test(err.message) ? 'no' : Promise.reject(err)));
    return answer.trim() === 'yes';
  };

  test('RBAC: each pod runs as a service account that may do exactly what drainplane needs', async () => {
    assert.equal((await podSpec('drainplane')).serviceAccountName, 'drainplane');
    assert.equal((await podSpec('edge')).serviceAccountName, 'edge');
    const rights = async (account: string, checks: readonly [string, string][]): Promise<string[]> =>
      (await Promise.all(checks.map(async ([verb, resource]) => ((await canI(account, verb, resource)) ? `${verb} ${resource}` : undefined)))).filter(
        (r): r is string => r !== undefined,
      );
    const asked: [string, string][] = [
      ...['get', 'list', 'watch', 'create', 'update', 'delete'].flatMap((verb): [string, string][] => [
        [verb, 'endpointslices.discovery.k8s.io'],
        [verb, 'pods'],
      ]),
      ['list', 'secrets'],
      ['list', 'services'],
    ];
    // The replicas list and watch EndpointSlices (serviceEndpoints); drainplane run its own pod.
    // That these suffice is tested by running drainplane with these accounts' tokens.
    assert.deepEqual(await rights('drainplane', asked), ['list endpointslices.discovery.k8s.io', 'watch endpointslices.discovery.k8s.io']);
    assert.deepEqual(await rights('edge', asked), ['list pods', 'watch pods']);
    assert.equal(await canI('drainplane', 'list', 'endpointslices.discovery.k8s.io', 'default'), false, 'in its own namespace only');
    assert.equal(await canI('edge', 'watch', 'pods', 'default'), false, 'in its own namespace only');
  });
});
