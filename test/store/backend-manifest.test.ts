import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const DEPLOY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../deploy/kubernetes');

async function docs(file: string): Promise<Record<string, any>[]> {
  return YAML.parseAllDocuments(await readFile(path.join(DEPLOY, file), 'utf8')).map((d) => d.toJS() as Record<string, any>);
}

test("deploy/kubernetes/backend.yaml: the app's httpGet preStop reaches the drain-hook sidecar, which drains the pod's own endpoint through ha.yaml's API within the grace period", async () => {
  const [deployment] = await docs('backend.yaml');
  const pod = deployment!['spec']['template']['spec'];
  const hook = pod['initContainers'].find((c: { name: string }) => c.name === 'drain-hook');
  assert.equal(hook.restartPolicy, 'Always', 'a native sidecar: up before the app, stopped after it');
  const args: string[] = hook.args;
  assert.equal(args[0], 'prestop-hook');
  const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  assert.equal(flag('endpoint'), '$(POD_IP):8080');
  assert.deepEqual(hook.env.find((e: { name: string }) => e.name === 'POD_IP').valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });

  const app = pod['containers'].find((c: { name: string }) => c.name === 'app');
  assert.ok(
    app.ports.some((p: { containerPort: number }) => p.containerPort === 8080),
    'the endpoint is the app port',
  );
  assert.deepEqual(app.lifecycle.preStop.httpGet, { path: '/v1/prestop', port: Number(flag('port')) });
  assert.ok(pod['terminationGracePeriodSeconds'] > Number(flag('deadline')), 'the drain ends before the kubelet kills the pod');

  const service = (await docs('ha.yaml')).find((d) => d['kind'] === 'Service')!;
  const apiPort = service['spec']['ports'].find((p: { name: string }) => p.name === 'api').port;
  assert.equal(flag('api'), `http://${service['metadata']['name']}.drainplane.svc.cluster.local:${apiPort}`);
});
