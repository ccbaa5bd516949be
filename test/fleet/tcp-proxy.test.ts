/**
 * TCP proxy listeners: recognised in the config, and sent with TcpProxy `check_drain_close: true`
 * to Envoy 1.39 and later (what the file leaves unset), as written to every other node. The
 * bytes are the same on every load, and shared by every node of a group and version class.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeIdentity } from '../../src/cache/node.js';
import { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import type { Snapshot } from '../../src/cache/snapshot.js';
import { DesiredState } from '../../src/fleet/desired-state/desired-state.js';
import { overlaysOf, applyOverlay } from '../../src/fleet/drain/overlay.js';
import type { Drain } from '../../src/fleet/drain/model.js';
import { messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { parsedConfig } from '../support/desired-state.js';
import { demoConfig } from '../support/fleet-configs.js';
import { TCP_EGRESS, TCP_INGRESS, tcpProxyConfig } from '../support/tcp-proxy-config.js';

type Json = Record<string, any>;

const OPTIONS = { cluster: 'tcp', ingressPort: 15432, egressPort: 15433, upstreamPort: 15434 };

function node(id: string, userAgentName: string, userAgentVersion: string): NodeIdentity {
  return { id, cluster: 'tcp', metadata: {}, locality: { region: '', zone: '', subZone: '' }, userAgentName, userAgentVersion };
}

/** The snapshots these nodes are sent, served as the xDS server serves them. */
function snapshotsOf(yaml: string, nodes: readonly NodeIdentity[]): Snapshot[] {
  const cache = new SnapshotCache();
  const desired = new DesiredState({ cache, config: parsedConfig(yaml) });
  nodes.forEach((n, i) => desired.events.streamOpened({ streamId: i + 1, node: n, protocol: 'sotw', aggregated: true, peer: 'test' }));
  return nodes.map((n) => desired.snapshot(n.id)!);
}

function tcpProxyOf(snapshot: Snapshot, listener: string): Json {
  const protos = envoyProtos();
  const resource = snapshot.get(TypeUrl.Listener).resources.get(listener)!;
  const json = messageToJson(protos, protos.type('envoy.config.listener.v3.Listener'), resource.bytes) as Json;
  return json['filter_chains'][0]['filters'][0]['typed_config'];
}

describe('TCP proxy listeners', () => {
  test('are recognised by their tcp_proxy filter, with what the file set check_drain_close to', () => {
    const tcp = parsedConfig(tcpProxyConfig({ ...OPTIONS, checkDrainClose: { [TCP_EGRESS]: false } })).groups[0]!.listeners;
    assert.deepEqual(
      tcp.map((l) => [l.name, l.role, l.tcpProxy]),
      [
        [TCP_INGRESS, 'ingress', { filters: 1, drainCloseOff: 0 }],
        [TCP_EGRESS, 'egress', { filters: 1, drainCloseOff: 1 }],
      ],
    );
    const http = parsedConfig(demoConfig()).groups[0]!.listeners;
    assert.deepEqual(
      http.map((l) => [l.name, l.tcpProxy]),
      [
        ['ingress_http', null],
        ['egress_http', null],
      ],
    );
  });

  test('Envoy 1.39 and later are sent check_drain_close: true; older Envoys, unknown versions and other clients get the listener as written', () => {
    const nodes = [
      node('e140', 'envoy', '1.40.0'),
      node('e139', 'envoy', '1.39.0'),
      node('e138', 'envoy', '1.38.3'),
      node('e139dev', 'envoy', '1.39.0-dev'),
      node('unknown', 'envoy', ''),
      node('grpc', 'grpc-node-js', '1.40.0'),
    ];
    const snapshots = snapshotsOf(tcpProxyConfig(OPTIONS), nodes);
    assert.deepEqual(
      snapshots.map((s, i) => [nodes[i]!.id, tcpProxyOf(s, TCP_INGRESS)['check_drain_close'], tcpProxyOf(s, TCP_EGRESS)['check_drain_close']]),
      [
        ['e140', true, true],
        ['e139', true, true],
        ['e138', undefined, undefined],
        // A build before the 1.39 release may predate the field.
        ['e139dev', undefined, undefined],
        ['unknown', undefined, undefined],
        ['grpc', undefined, undefined],
      ],
    );
    // One snapshot per version class: nodes of a class share its objects, and so its bytes.
    assert.equal(snapshots[0], snapshots[1]);
    assert.equal(snapshots[2], snapshots[5]);
    assert.notEqual(snapshots[0]!.get(TypeUrl.Listener).version, snapshots[2]!.get(TypeUrl.Listener).version);
    // Clusters are the same for every version.
    assert.equal(snapshots[0]!.get(TypeUrl.Cluster), snapshots[2]!.get(TypeUrl.Cluster));
  });

  test("the file's own check_drain_close wins, false included", () => {
    const yaml = tcpProxyConfig({ ...OPTIONS, checkDrainClose: { [TCP_INGRESS]: false, [TCP_EGRESS]: true } });
    const [newer, older] = snapshotsOf(yaml, [node('e140', 'envoy', '1.40.0'), node('e138', 'envoy', '1.38.3')]);
    assert.equal(tcpProxyOf(newer!, TCP_INGRESS)['check_drain_close'], false);
    assert.equal(tcpProxyOf(newer!, TCP_EGRESS)['check_drain_close'], true);
    // Nothing is left for drainplane to set: both classes get the very same listeners.
    assert.equal(newer!.get(TypeUrl.Listener), older!.get(TypeUrl.Listener));
  });

  test('a config without TCP proxy listeners gives every Envoy version the same snapshot', () => {
    const [newer, older] = snapshotsOf(demoConfig(), [
      { ...node('e140', 'envoy', '1.40.0'), cluster: 'test-cluster' },
      { ...node('e136', 'envoy', '1.36.2'), cluster: 'test-cluster' },
    ]);
    assert.ok(newer);
    assert.equal(newer, older);
  });

  test('the same bytes on every load, and a modify drain keeps the field on the listener it marks', () => {
    const e140 = node('e140', 'envoy', '1.40.0');
    const [first] = snapshotsOf(tcpProxyConfig(OPTIONS), [e140]);
    const [second] = snapshotsOf(tcpProxyConfig(OPTIONS), [e140]);
    assert.deepEqual(first!.versions(), second!.versions());
    assert.deepEqual(
      Buffer.from(first!.get(TypeUrl.Listener).resources.get(TCP_INGRESS)!.bytes),
      Buffer.from(second!.get(TypeUrl.Listener).resources.get(TCP_INGRESS)!.bytes),
    );

    const drain = {
      id: 'drn_tcp',
      state: 'running',
      spec: { method: 'modify', scope: 'ingress' },
      phases: [{ name: 'ingress', nodes: [{ nodeId: 'e140', state: 'pushed', listeners: [{ name: TCP_INGRESS, connections: null }] }] }],
    } as unknown as Drain;
    const overlaid = applyOverlay(first!, overlaysOf([drain], new Set(['e140'])).get('e140'));
    assert.notEqual(overlaid.get(TypeUrl.Listener).version, first!.get(TypeUrl.Listener).version, 'the drain changed the listener');
    assert.equal(tcpProxyOf(overlaid, TCP_INGRESS)['check_drain_close'], true, 'and the TCP proxy still checks drain close');
  });
});
