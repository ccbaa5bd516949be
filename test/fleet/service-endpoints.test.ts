/**
 * Assignments from Kubernetes EndpointSlices, as the domain makes them (the watch itself runs
 * against a real API server in test/kube/): what Envoy is sent for each endpoint condition,
 * zones as localities, ports, byte-identical output for the same endpoints, the config's
 * `serviceEndpoints`, and nodes pushed EDS alone when a Service changes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import { parseConfig } from '../../src/fleet/config.js';
import { DesiredState } from '../../src/fleet/desired-state/desired-state.js';
import { configHasTarget } from '../../src/fleet/endpoints/catalog.js';
import { assignmentJson } from '../../src/fleet/service-endpoints/assignment.js';
import type { EndpointSliceData, SliceEndpoint } from '../../src/fleet/service-endpoints/endpoint-slice.js';
import { ServiceAssignments } from '../../src/fleet/service-endpoints/service-assignments.js';
import { messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { parsedConfig } from '../support/desired-state.js';
import { edsCluster, serviceGroup } from '../support/fleet-configs.js';
import { nodeIdentity, streamInfo } from '../support/stream-info.js';

const REF = { clusterName: 'backend', namespace: 'shop', service: 'backend', port: 'http' };

const endpoint = (address: string, conditions: SliceEndpoint['conditions'], zone?: string): SliceEndpoint => ({
  addresses: [address],
  conditions,
  ...(zone && { zone }),
});

function slice(name: string, endpoints: SliceEndpoint[], ports = [{ name: 'http', port: 8080, protocol: 'TCP' }]): EndpointSliceData {
  return { name, addressType: 'IPv4', endpoints, ports };
}

const READY = { ready: true, serving: true, terminating: false };
const TERMINATING = { ready: false, serving: true, terminating: true };
const GONE = { ready: false, serving: false, terminating: true };
const STARTING = { ready: false, serving: false, terminating: false };

/** `zone/HOST:PORT` -> health status, from the assignment's JSON; 'pending' when there is none. */
function health(json: Record<string, unknown> | undefined): Record<string, string> | 'pending' {
  if (json === undefined) return 'pending';
  const out: Record<string, string> = {};
  for (const locality of json['endpoints'] as { locality?: { zone: string }; lb_endpoints: Record<string, unknown>[] }[]) {
    for (const lb of locality.lb_endpoints) {
      const socket = (lb['endpoint'] as { address: { socket_address: { address: string; port_value: number } } }).address.socket_address;
      out[`${locality.locality?.zone ?? ''}/${socket.address}:${socket.port_value}`] = lb['health_status'] as string;
    }
  }
  return out;
}

describe('assignments from EndpointSlices', () => {
  test('ready endpoints are HEALTHY, terminating ones still serving DRAINING, the others left out; zones are localities', () => {
    const json = assignmentJson(REF, [
      slice('backend-a', [
        endpoint('10.1.0.2', READY, 'z1'),
        endpoint('10.1.0.3', TERMINATING, 'z2'),
        endpoint('10.1.0.4', GONE, 'z1'),
        endpoint('10.1.0.5', STARTING, 'z1'),
        // Unset conditions mean ready (the API says so).
        endpoint('10.1.0.6', null, 'z2'),
      ]),
    ]);
    assert.equal(json?.['cluster_name'], 'backend');
    assert.deepEqual(health(json), { 'z1/10.1.0.2:8080': 'HEALTHY', 'z2/10.1.0.3:8080': 'DRAINING', 'z2/10.1.0.6:8080': 'HEALTHY' });
    assert.deepEqual(
      (json?.['endpoints'] as { locality: unknown }[]).map((l) => l.locality),
      [{ zone: 'z1' }, { zone: 'z2' }],
    );
  });

  test('the port: by Service port name, by the endpoints port number, or the only one; TCP only; FQDN slices ignored', () => {
    const twoPorts = [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9090, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ];
    const slices = [slice('s', [endpoint('10.1.0.2', READY)], twoPorts)];
    assert.deepEqual(health(assignmentJson({ ...REF, port: 'metrics' }, slices)), { '/10.1.0.2:9090': 'HEALTHY' });
    assert.deepEqual(health(assignmentJson({ ...REF, port: 8080 }, slices)), { '/10.1.0.2:8080': 'HEALTHY' });
    // A port the slices do not have (UDP here, or a name mistyped): pending, never an empty assignment.
    assert.equal(health(assignmentJson({ ...REF, port: 'dns' }, slices)), 'pending', 'a UDP port is not served');
    assert.equal(health(assignmentJson({ ...REF, port: 'htp' }, slices)), 'pending');
    assert.deepEqual(health(assignmentJson({ ...REF, port: 'http' }, [slice('s', [], twoPorts)])), {}, 'no endpoints at all: an empty assignment');
    const { port: _unset, ...noPort } = REF;
    assert.equal(health(assignmentJson(noPort, slices)), 'pending', 'no port named, and the Service has several');
    assert.deepEqual(health(assignmentJson(noPort, [slice('s', [endpoint('10.1.0.2', READY)], [{ name: '', port: 80, protocol: 'TCP' }])])), {
      '/10.1.0.2:80': 'HEALTHY',
    });
    assert.deepEqual(health(assignmentJson(REF, [{ ...slice('s', [endpoint('db.example.com', READY)]), addressType: 'FQDN' }])), {});
  });

  test('an endpoint in two slices (moved by the controller) is sent once, serving if either says so', () => {
    const json = assignmentJson(REF, [slice('a', [endpoint('10.1.0.2', TERMINATING)]), slice('b', [endpoint('10.1.0.2', READY)])]);
    assert.deepEqual(health(json), { '/10.1.0.2:8080': 'HEALTHY' });
  });

  test('the same endpoints give the same bytes whatever the order of slices and endpoints', () => {
    const a = slice('a', [endpoint('10.1.0.9', READY, 'z2'), endpoint('10.1.0.2', READY, 'z1')]);
    const b = slice('b', [endpoint('10.1.0.5', TERMINATING, 'z1'), endpoint('10.1.0.10', READY, 'z1')]);
    const reversed = [
      { ...b, endpoints: [...b.endpoints].reverse() },
      { ...a, endpoints: [...a.endpoints].reverse() },
    ];
    const [one, two] = [[a, b], reversed].map((slices) => {
      const services = new ServiceAssignments();
      services.setSlices('shop', 'backend', slices);
      return services.resolve([REF]).resources[0]!;
    });
    assert.deepEqual(Buffer.from(one!.bytes), Buffer.from(two!.bytes));
    assert.equal(one!.version, two!.version);
  });
});

const CONFIG = `groups:${serviceGroup({ name: 'edge', match: '{ cluster: edge }' })}
  - name: other
    match: { cluster: other }
    clusters:${edsCluster('static')}
    endpoints:
      - cluster_name: static
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 10.9.0.1, port_value: 80 } } } }] }]
`;

describe('serviceEndpoints in the config', () => {
  test('an EDS cluster may take its assignment from a Service', () => {
    const config = parsedConfig(CONFIG);
    assert.deepEqual(config.groups[0]!.serviceEndpoints, [{ clusterName: 'backend', namespace: 'shop', service: 'backend', port: 'http' }]);
  });

  test('each mistake is an error at its field, with its line', () => {
    const bad = CONFIG.replace(
      '- { clusterName: backend, namespace: shop, service: backend, port: http }',
      `- { clusterName: backend, namespace: Shop, service: backend, port: 70000, selector: x }
      - { clusterName: backend, namespace: shop, service: backend_2 }`,
    );
    const parsed = parseConfig(bad, 'fleet.yaml');
    assert.ok(!parsed.ok);
    const lineOf = (text: string): number => bad.split('\n').findIndex((l) => l.includes(text)) + 1;
    const [first, second] = [lineOf('namespace: Shop'), lineOf('service: backend_2')];
    assert.deepEqual(
      parsed.errors.map((e) => `${e.line}: ${e.path}`),
      [
        `${first}: groups[0].serviceEndpoints[0].selector`,
        `${first}: groups[0].serviceEndpoints[0].namespace`,
        `${first}: groups[0].serviceEndpoints[0].port`,
        `${second}: groups[0].serviceEndpoints[1].service`,
      ],
    );
  });

  test('a name served from both endpoints and a Service is refused', () => {
    const both = CONFIG.replace(
      '      - { clusterName: backend, namespace: shop, service: backend, port: http }\n',
      `      - { clusterName: backend, namespace: shop, service: backend, port: http }
    endpoints:
      - cluster_name: backend
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 10.9.0.1, port_value: 80 } } } }] }]
`,
    );
    const parsed = parseConfig(both, 'fleet.yaml');
    assert.ok(!parsed.ok);
    assert.match(
      parsed.errors.map((e) => `${e.path}: ${e.message}`).join('\n'),
      /serviceEndpoints\[0\]\.clusterName: "backend" is also in this group's endpoints/,
    );
  });
});

describe('a Service that changes', () => {
  test('is pending until listed, then only the nodes of the groups that take it are pushed, EDS alone', () => {
    const cache = new SnapshotCache();
    const services = new ServiceAssignments();
    const desired = new DesiredState({ cache, config: parsedConfig(CONFIG), services });
    desired.events.streamOpened(streamInfo('edge-1', { node: nodeIdentity('edge-1', 'edge') }));
    desired.events.streamOpened(streamInfo('other-1', { node: nodeIdentity('other-1', 'other') }));
    const eds = (id: string) => cache.snapshot(id)!.get(TypeUrl.ClusterLoadAssignment);
    assert.deepEqual([...eds('edge-1').resources.keys()], []);
    assert.deepEqual([...eds('edge-1').pending], ['backend'], 'not listed yet: pending, not absent');
    const before = { edge: cache.snapshot('edge-1')!, other: cache.snapshot('other-1')! };

    services.setSlices('shop', 'backend', [slice('backend-x', [endpoint('10.1.0.2', READY, 'z1')])]);
    assert.equal(desired.serviceChanged('shop', 'backend'), 1, 'one node takes the Service');
    const after = cache.snapshot('edge-1')!;
    assert.deepEqual([...after.get(TypeUrl.ClusterLoadAssignment).pending], []);
    for (const t of [TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.RouteConfiguration, TypeUrl.Secret]) {
      assert.equal(after.get(t), before.edge.get(t), `${t} is the same object: not pushed`);
    }
    assert.equal(cache.snapshot('other-1'), before.other, 'a node of another group keeps its snapshot');
    const protos = envoyProtos();
    const sent = messageToJson(
      protos,
      protos.type('envoy.config.endpoint.v3.ClusterLoadAssignment'),
      after.get(TypeUrl.ClusterLoadAssignment).resources.get('backend')!.bytes,
    );
    assert.deepEqual(health(sent), { 'z1/10.1.0.2:8080': 'HEALTHY' });

    services.setSlices('shop', 'backend', [slice('backend-x', [endpoint('10.1.0.2', TERMINATING, 'z1')])]);
    desired.serviceChanged('shop', 'backend');
    const draining = messageToJson(
      protos,
      protos.type('envoy.config.endpoint.v3.ClusterLoadAssignment'),
      eds('edge-1').resources.get('backend')!.bytes,
    );
    assert.deepEqual(health(draining), { 'z1/10.1.0.2:8080': 'DRAINING' });
  });
});

test("an upstream drain finds a Service's endpoints in the running config (the prestop hook of a backend pod)", () => {
  const services = new ServiceAssignments();
  const desired = new DesiredState({ cache: new SnapshotCache(), config: parsedConfig(CONFIG), services });
  const target = { addresses: ['10.1.0.2:8080'] };
  assert.equal(configHasTarget(desired.config, target), false, 'not listed yet');
  services.setSlices('shop', 'backend', [slice('backend-x', [endpoint('10.1.0.2', READY, 'z1')])]);
  desired.serviceChanged('shop', 'backend');
  assert.equal(configHasTarget(desired.config, target), true);
  assert.equal(configHasTarget(desired.config, { addresses: ['10.1.0.9:8080'] }), false);
});
