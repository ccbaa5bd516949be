import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { decodeDeltaRequest, decodeSotwRequest } from '../../src/xds/requests.js';

const protos = envoyProtos();

function encoded(typeName: string, json: unknown): Buffer {
  const result = encodeJson(protos, protos.type(typeName), json);
  assert.ok(result.ok, JSON.stringify(result));
  return Buffer.from(result.value);
}

const ENVOY_NODE = {
  id: 'web-1',
  cluster: 'web',
  metadata: { app: 'shop', ports: [80, 443], labels: { tier: 'front' } },
  locality: { region: 'eu', zone: 'eu-1a', sub_zone: 'rack-7' },
  user_agent_name: 'envoy',
  user_agent_build_version: { version: { major_number: 1, minor_number: 40, patch: 0 } },
  client_features: ['envoy.lb.does_not_support_overprovisioning'],
  extensions: [{ name: 'envoy.filters.http.router', category: 'envoy.filters.http' }],
};

test('a SotW request gives its fields, and its node as Envoy sent it, build version included', () => {
  const request = decodeSotwRequest(
    encoded('envoy.service.discovery.v3.DiscoveryRequest', {
      version_info: 'v1',
      node: ENVOY_NODE,
      resource_names: ['b', 'a'],
      type_url: TypeUrl.ClusterLoadAssignment,
      response_nonce: 'n1',
    }),
  );
  assert.deepEqual(
    [request.typeUrl, request.versionInfo, request.resourceNames, request.responseNonce, request.errorDetail, request.resourceCount],
    [TypeUrl.ClusterLoadAssignment, 'v1', ['b', 'a'], 'n1', undefined, 2],
  );
  const read = request.node!.read(64 * 1024);
  assert.deepEqual(read.identity, {
    id: 'web-1',
    cluster: 'web',
    metadata: { app: 'shop', labels: { tier: 'front' }, ports: [80, 443] },
    locality: { region: 'eu', zone: 'eu-1a', subZone: 'rack-7' },
    userAgentName: 'envoy',
    userAgentVersion: '1.40.0',
  });
  assert.ok(read.bytes > 0);
});

test('a Delta NACK gives its error, subscriptions and initial versions; a node sent as a plain version string keeps it', () => {
  const request = decodeDeltaRequest(
    encoded('envoy.service.discovery.v3.DeltaDiscoveryRequest', {
      node: { id: 'grpc-1', user_agent_name: 'gRPC Go', user_agent_version: '1.70.0' },
      type_url: TypeUrl.Listener,
      resource_names_subscribe: ['x'],
      resource_names_unsubscribe: ['y', 'z'],
      initial_resource_versions: { x: 'abc' },
      response_nonce: 'n2',
      error_detail: { code: 3, message: 'bad listener' },
    }),
  );
  assert.deepEqual(
    [request.subscribe, request.unsubscribe, request.initialResourceVersions, request.errorDetail, request.resourceCount],
    [['x'], ['y', 'z'], { x: 'abc' }, { code: 3, message: 'bad listener' }, 4],
  );
  const { identity } = request.node!.read(1024);
  assert.deepEqual(
    [identity.id, identity.cluster, identity.userAgentName, identity.userAgentVersion, identity.metadata],
    ['grpc-1', '', 'gRPC Go', '1.70.0', {}],
  );
  // Without a node (later requests may leave it out), and an ACK without error_detail.
  const ack = decodeDeltaRequest(encoded('envoy.service.discovery.v3.DeltaDiscoveryRequest', { type_url: TypeUrl.Listener, response_nonce: 'n3' }));
  assert.equal(ack.node, undefined);
  assert.equal(ack.errorDetail, undefined);
});

test('a node field too long is refused when the node is read, naming the field', () => {
  const request = decodeSotwRequest(encoded('envoy.service.discovery.v3.DiscoveryRequest', { node: { id: 'n', cluster: 'c'.repeat(1025) } }));
  assert.throws(() => request.node!.read(1024), /node\.cluster has 1025 characters/);
});
