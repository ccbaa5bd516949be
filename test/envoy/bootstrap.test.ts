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
