import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { storeOptions } from '../../src/cli/store-flags.js';
import { parseConfig } from '../../src/fleet/config.js';
import { checkConstraints } from '../../src/resource/constraints.js';
import { encodeJson, messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';

const MANIFEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../deploy/kubernetes/ha.yaml');

test('deploy/kubernetes/ha.yaml: 3 replicas on etcd behind one Service that is the ADS cluster, with keepalive and a short reconnect back-off', async () => {
  const docs = YAML.parseAllDocuments(await readFile(MANIFEST, 'utf8')).map((d) => d.toJS() as Record<string, any>);
  const byKind = (kind: string) => docs.find((d) => d['kind'] === kind)!;
  const data = byKind('ConfigMap')['data'];
  const parsed = parseConfig(data['drainplane.yaml'], 'drainplane.yaml');
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));

  const protos = envoyProtos();
  const Bootstrap = protos.type('envoy.config.bootstrap.v3.Bootstrap');
  const encoded = encodeJson(protos, Bootstrap, YAML.parse(data['envoy-bootstrap.yaml']), 'bootstrap');
  assert.ok(encoded.ok, JSON.stringify(!encoded.ok && encoded.errors));
  assert.deepEqual(checkConstraints(protos, Bootstrap, encoded.value), []);
  const bootstrap = messageToJson(protos, Bootstrap, encoded.value) as any;
  const ads = bootstrap.dynamic_resources.ads_config.grpc_services[0].envoy_grpc;
  assert.deepEqual(ads.retry_policy.retry_back_off, { base_interval: '0.500s', max_interval: '5s' });
  const cluster = bootstrap.static_resources.clusters.find((c: { name: string }) => c.name === ads.cluster_name);
  const h2 =
    cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config.http2_protocol_options;
  assert.deepEqual(h2.connection_keepalive, { interval: '15s', timeout: '5s' });
  assert.deepEqual(
    bootstrap.cluster_manager.load_stats_config.grpc_services[0].envoy_grpc.cluster_name,
    ads.cluster_name,
    'load reports (endpoint drains) go to drainplane too',
  );

  const service = byKind('Service');
  const xdsPort = service['spec']['ports'].find((p: { name: string }) => p.name === 'grpc-xds').port;
  const endpoint = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
  assert.equal(endpoint.address, `${service['metadata']['name']}.drainplane.svc.cluster.local`);
  assert.equal(endpoint.port_value, xdsPort);

  const deployment = byKind('Deployment');
  assert.equal(deployment['spec']['replicas'], 3);
  const args: string[] = deployment['spec']['template']['spec']['containers'][0]['args'];
  const flags = Object.fromEntries(args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split(/=(.*)/s).slice(0, 2)));
  const store = storeOptions(flags, '.drainplane');
  assert.match(store.url, /^etcd:\/\/.+,.+,.+$/, 'three etcd members');
  assert.deepEqual(Object.keys(store.tls ?? {}).sort(), ['ca', 'cert', 'key']);
  assert.equal(store.replica, '$(POD_NAME)', 'each replica named after its pod');
  assert.equal(byKind('PodDisruptionBudget')['spec']['minAvailable'], 2);
});
