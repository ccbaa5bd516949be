import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { checkConstraints } from '../../src/resource/constraints.js';
import { encodeJson, messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';

const ENVOY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../envoy');

interface TlsCluster {
  name: string;
  transport_socket: {
    typed_config: {
      '@type': string;
      common_tls_context: {
        alpn_protocols: string[];
        tls_certificates: { certificate_chain: { filename: string }; private_key: { filename: string } }[];
        validation_context: {
          trusted_ca: { filename: string };
          match_typed_subject_alt_names: { san_type: string; matcher: { exact: string } }[];
        };
      };
    };
  };
}

test('envoy/bootstrap-mtls.yaml is a valid Bootstrap whose xDS cluster presents a client certificate and checks the server', async () => {
  const protos = envoyProtos();
  const Bootstrap = protos.type('envoy.config.bootstrap.v3.Bootstrap');
  const encoded = encodeJson(protos, Bootstrap, YAML.parse(await readFile(path.join(ENVOY_DIR, 'bootstrap-mtls.yaml'), 'utf8')), 'bootstrap');
  assert.ok(encoded.ok, JSON.stringify(!encoded.ok && encoded.errors));
  assert.deepEqual(checkConstraints(protos, Bootstrap, encoded.value), []);
  const b = messageToJson(protos, Bootstrap, encoded.value) as {
    node: { id: string };
    dynamic_resources: { ads_config: { grpc_services: { envoy_grpc: { cluster_name: string } }[] } };
    static_resources: { clusters: TlsCluster[]; listeners?: unknown[] };
  };
  assert.equal(b.static_resources.listeners, undefined, 'listeners must come over LDS to be drainable');
  const xdsCluster = b.static_resources.clusters.find((c) => c.name === b.dynamic_resources.ads_config.grpc_services[0]!.envoy_grpc.cluster_name)!;
  const tls = xdsCluster.transport_socket.typed_config;
  assert.equal(tls['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
  assert.deepEqual(tls.common_tls_context.alpn_protocols, ['h2']);
  const [identity] = tls.common_tls_context.tls_certificates;
  assert.ok(identity!.certificate_chain.filename.endsWith(`${b.node.id}.crt`), "the client certificate is the node's own");
  assert.ok(identity!.private_key.filename);
  const validation = tls.common_tls_context.validation_context;
  assert.ok(validation.trusted_ca.filename);
  assert.deepEqual(validation.match_typed_subject_alt_names, [{ san_type: 'DNS', matcher: { exact: 'localhost' } }]);
});
