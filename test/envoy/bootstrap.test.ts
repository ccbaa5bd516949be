import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { encodeJson, messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';

const ENVOY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../envoy');

test('envoy/bootstrap.yaml is a valid Envoy v3 Bootstrap with no static listeners and a loopback admin', async () => {
  const protos = envoyProtos();
  const Bootstrap = protos.type('envoy.config.bootstrap.v3.Bootstrap');
  const json: unknown = YAML.parse(await readFile(path.join(ENVOY_DIR, 'bootstrap.yaml'), 'utf8'));
  const encoded = encodeJson(protos, Bootstrap, json, 'bootstrap');
  assert.ok(encoded.ok, JSON.stringify(!encoded.ok && encoded.errors));
  const b = messageToJson(protos, Bootstrap, encoded.value) as {
    static_resources: { listeners?: unknown[] };
    admin: { address: { socket_address: { address: string } } };
    dynamic_resources: { lds_config: { ads?: object }; cds_config: { ads?: object } };
    node: { cluster: string };
  };
  assert.equal(b.static_resources.listeners, undefined, 'listeners must come over LDS to be drainable');
  assert.equal(b.admin.address.socket_address.address, '127.0.0.1');
  assert.ok(b.dynamic_resources.lds_config.ads && b.dynamic_resources.cds_config.ads);
  assert.equal(b.node.cluster, 'demo');
});

test('deploy/kubernetes: the config and bootstrap in the ConfigMap are valid, and the grace period agrees with the plan', async () => {
  const { parseConfig } = await import('../../src/fleet/config.js');
  const { checkConstraints } = await import('../../src/resource/constraints.js');
  const { planShutdown } = await import('../../src/supervisor/shutdown-plan.js');
  const text = await readFile(path.join(ENVOY_DIR, '../deploy/kubernetes/deployment.yaml'), 'utf8');
  const docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as Record<string, any>);
  const configMap = docs.find((d) => d['kind'] === 'ConfigMap')!;
  const parsed = parseConfig(configMap['data']['drainplane.yaml'], 'drainplane.yaml');
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));

  const protos = envoyProtos();
  const Bootstrap = protos.type('envoy.config.bootstrap.v3.Bootstrap');
  const encoded = encodeJson(protos, Bootstrap, YAML.parse(configMap['data']['bootstrap.yaml']), 'bootstrap');
  assert.ok(encoded.ok, JSON.stringify(!encoded.ok && encoded.errors));
  assert.deepEqual(checkConstraints(protos, Bootstrap, encoded.value), []);

  const pod = docs.find((d) => d['kind'] === 'Deployment')!['spec']['template']['spec'];
  const env = Object.fromEntries(pod.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));
  assert.equal(Number(env['TERMINATION_GRACE_PERIOD_SECONDS']), pod.terminationGracePeriodSeconds);
  const plan = planShutdown({ graceSeconds: pod.terminationGracePeriodSeconds, propagationSeconds: Number(env['DRAINPLANE_PROPAGATION_DELAY']) });
  assert.deepEqual(plan.warnings, []);
  assert.deepEqual(pod.containers[0].lifecycle.preStop.exec.command, ['drainplane', 'prestop']);
});
