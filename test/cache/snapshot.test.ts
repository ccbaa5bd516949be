import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeIdentity } from '../../src/cache/node.js';
import { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import { Snapshot, TypeSnapshot } from '../../src/cache/snapshot.js';
import { parseConfig } from '../../src/fleet/config.js';
import { configResolver } from '../../src/fleet/snapshot-builder.js';
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

function resolver(yaml: string) {
  const parsed = parseConfig(yaml, 'test.yaml');
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  return configResolver(parsed.config);
}

describe('snapshots', () => {
  test('a type version depends on names and bytes, not on order', () => {
    const a = new TypeSnapshot(TypeUrl.Listener, [listener('a', [1]), listener('b', [2])]);
    const b = new TypeSnapshot(TypeUrl.Listener, [listener('b', [2]), listener('a', [1])]);
    const c = new TypeSnapshot(TypeUrl.Listener, [listener('a', [1]), listener('b', [3])]);
    assert.equal(a.version, b.version);
    assert.notEqual(a.version, c.version);
    assert.deepEqual(a.sorted.map((r) => r.name), ['a', 'b']);
  });

  test('two resources of one name in a snapshot are refused', () => {
    assert.throws(() => new TypeSnapshot(TypeUrl.Listener, [listener('a', [1]), listener('a', [2])]), /duplicate/);
  });

  test('nodes of one group share one snapshot, and so the same encoded bytes', () => {
    const cache = new SnapshotCache(resolver(demoConfig()));
    const seen: Snapshot[] = [];
    cache.watch(node('a'), (s) => seen.push(s));
    cache.watch(node('b'), (s) => seen.push(s));
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1]);
  });

  test('refresh notifies only nodes whose snapshot changed', () => {
    const two = `${demoConfig()}  - name: other\n    match: { cluster: other }\n    listeners: []\n`;
    const cache = new SnapshotCache(resolver(two));
    const calls: string[] = [];
    cache.watch(node('demo-node'), () => calls.push('demo-node'));
    cache.watch(node('other-node', 'other'), () => calls.push('other-node'));
    calls.length = 0;
    cache.setResolver(resolver(two.replace('port_value: 10000', 'port_value: 10001')));
    assert.deepEqual(calls, ['demo-node']);
    cache.setResolver(resolver(two.replace('port_value: 10000', 'port_value: 10001')));
    assert.deepEqual(calls, ['demo-node'], 'an equal config notifies nobody');
  });

  test('a node whose desired state becomes unknown keeps what it has, and is not sent an empty state', () => {
    const cache = new SnapshotCache(resolver(demoConfig()));
    const calls: Snapshot[] = [];
    cache.watch(node('n'), (s) => calls.push(s));
    cache.setResolver(() => undefined);
    assert.equal(calls.length, 1);
    assert.equal(cache.snapshot('n'), calls[0]);
  });

  test('a node is forgotten when its last watcher goes', () => {
    const cache = new SnapshotCache(resolver(demoConfig()));
    const stop1 = cache.watch(node('n'), () => {});
    const stop2 = cache.watch(node('n'), () => {});
    stop1();
    assert.equal(cache.nodes().length, 1);
    stop2();
    assert.equal(cache.nodes().length, 0);
  });
});
