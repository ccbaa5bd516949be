import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeIdentity } from '../../src/cache/node.js';
import { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import { sharedTypeSnapshot, type Snapshot, TypeSnapshot } from '../../src/cache/snapshot.js';
import { parseConfig, type FleetConfig } from '../../src/fleet/config.js';
import { DesiredState } from '../../src/fleet/desired-state/desired-state.js';
import { EncodedResource } from '../../src/resource/encoded-resource.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { demoConfig } from '../support/fleet-configs.js';

const node = (id: string, cluster = 'test-cluster'): NodeIdentity => ({
  id,
  cluster,
  metadata: {},
  locality: { region: '', zone: '', subZone: '' },
  userAgentName: 'envoy',
  userAgentVersion: '1.34.0',
});

const listener = (name: string, bytes: number[]) => new EncodedResource(TypeUrl.Listener, name, Uint8Array.from(bytes));

function config(yaml: string): FleetConfig {
  const parsed = parseConfig(yaml, 'test.yaml');
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  return parsed.config;
}

/** The desired state of these configs, and a node served on one stream as the xDS server does it. */
function served(yaml: string) {
  const cache = new SnapshotCache();
  const desired = new DesiredState({ cache, config: config(yaml) });
  let streamId = 0;
  const serve = (n: NodeIdentity, onSnapshot: (s: Snapshot) => void): (() => void) => {
    const info = { streamId: ++streamId, node: n, protocol: 'sotw' as const, aggregated: true, peer: 'test' };
    desired.events.streamOpened(info);
    const unwatch = cache.watch(n.id, onSnapshot);
    return () => {
      desired.events.streamClosed(info);
      unwatch();
    };
  };
  return { cache, desired, serve };
}

describe('snapshots', () => {
  test('a type version depends on names and bytes, not on order', () => {
    const a = new TypeSnapshot(TypeUrl.Listener, [listener('a', [1]), listener('b', [2])]);
    const b = new TypeSnapshot(TypeUrl.Listener, [listener('b', [2]), listener('a', [1])]);
    const c = new TypeSnapshot(TypeUrl.Listener, [listener('a', [1]), listener('b', [3])]);
    assert.equal(a.version, b.version);
    assert.notEqual(a.version, c.version);
    assert.deepEqual(
      a.sorted.map((r) => r.name),
      ['a', 'b'],
    );
  });

  test('two resources of one name in a snapshot are refused', () => {
    assert.throws(() => new TypeSnapshot(TypeUrl.Listener, [listener('a', [1]), listener('a', [2])]), /duplicate/);
  });

  test('nodes of one group share one snapshot, and so the same encoded bytes', () => {
    const { serve } = served(demoConfig());
    const seen: Snapshot[] = [];
    serve(node('a'), (s) => seen.push(s));
    serve(node('b'), (s) => seen.push(s));
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1]);
  });

  test('a reloaded config hands out the type snapshots it left unchanged as the same objects (streams skip them, bytes are kept)', () => {
    const { desired, serve } = served(demoConfig());
    const seen: Snapshot[] = [];
    serve(node('demo-node'), (s) => seen.push(s));
    desired.setConfig(config(demoConfig().replace('port_value: 10000', 'port_value: 10001')));
    assert.equal(seen.length, 2);
    const [before, after] = seen as [Snapshot, Snapshot];
    assert.notEqual(after.get(TypeUrl.Listener), before.get(TypeUrl.Listener));
    for (const t of [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration]) assert.equal(after.get(t), before.get(t), t);
    // Equal content built on its own is the same object; other content is not.
    assert.equal(sharedTypeSnapshot(TypeUrl.Listener, [listener('a', [1])]), sharedTypeSnapshot(TypeUrl.Listener, [listener('a', [1])]));
    assert.notEqual(sharedTypeSnapshot(TypeUrl.Listener, [listener('a', [1])]), sharedTypeSnapshot(TypeUrl.Listener, [listener('a', [2])]));
  });

  test('a new config notifies only nodes whose snapshot changed', () => {
    const two = `${demoConfig()}  - name: other\n    match: { cluster: other }\n    listeners: []\n`;
    const { desired, serve } = served(two);
    const calls: string[] = [];
    serve(node('demo-node'), () => calls.push('demo-node'));
    serve(node('other-node', 'other'), () => calls.push('other-node'));
    calls.length = 0;
    desired.setConfig(config(two.replace('port_value: 10000', 'port_value: 10001')));
    assert.deepEqual(calls, ['demo-node']);
    desired.setConfig(config(two.replace('port_value: 10000', 'port_value: 10001')));
    assert.deepEqual(calls, ['demo-node'], 'an equal config notifies nobody');
  });

  test('a node whose desired state becomes unknown keeps what it has, and is not sent an empty state', () => {
    const { cache, desired, serve } = served(demoConfig());
    const calls: Snapshot[] = [];
    serve(node('n'), (s) => calls.push(s));
    desired.setConfig(config(demoConfig({ cluster: 'someone-else' })));
    assert.equal(calls.length, 1);
    assert.equal(cache.snapshot('n'), calls[0]);
  });

  test('a node is forgotten when its last stream goes', () => {
    const { cache, serve } = served(demoConfig());
    const stop1 = serve(node('n'), () => {});
    const stop2 = serve(node('n'), () => {});
    stop1();
    assert.equal([...cache.nodeIds()].length, 1);
    stop2();
    assert.equal([...cache.nodeIds()].length, 0);
  });
});
