/**
 * The node registry keeps nodes that left within bounds in number and in bytes, forgetting the
 * first to leave first: node ids cost nothing to invent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeRegistry } from '../../src/fleet/registry.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { streamInfo } from '../support/stream-info.js';

/** A node that connects, perhaps NACKs, and leaves. */
function visit(registry: NodeRegistry, id: string, nodeBytes = 1000, nack = ''): void {
  const s = streamInfo(id, { nodeBytes });
  registry.events.streamOpened!(s);
  if (nack) registry.events.nacked!(s, { typeUrl: TypeUrl.Listener, version: 'v', nonce: 'n', code: 13, message: nack, at: new Date() });
  registry.events.streamClosed!(s);
}

test('nodes that left beyond the count bound are forgotten, the first to leave first', () => {
  const registry = new NodeRegistry({ maxDisconnectedNodes: 5, maxDisconnectedNodeBytes: 1 << 30 });
  for (let i = 0; i < 8; i++) visit(registry, `n${i}`);
  assert.deepEqual(
    registry.list().map((n) => n.identity.id),
    ['n3', 'n4', 'n5', 'n6', 'n7'],
  );
});

test('nodes that left are kept within the bound in bytes, NACK messages counted', () => {
  const registry = new NodeRegistry({ maxDisconnectedNodes: 10_000, maxDisconnectedNodeBytes: 100_000 });
  for (let i = 0; i < 50; i++) visit(registry, `small-${i}`, 500);
  assert.equal(registry.list().length, 50, 'within the bound, all are kept');
  // Each of these takes some 10 KB more, in its identity or in its last NACK.
  for (let i = 0; i < 5; i++) visit(registry, `big-${i}`, 10_000);
  for (let i = 0; i < 5; i++) visit(registry, `nack-${i}`, 1000, 'e'.repeat(10_000));
  assert.ok(registry.disconnectedBytes <= 100_000, `${registry.disconnectedBytes} bytes`);
  const ids = registry.list().map((n) => n.identity.id);
  assert.deepEqual(
    ids.filter((id) => id.startsWith('nack')),
    ['nack-0', 'nack-1', 'nack-2', 'nack-3', 'nack-4'],
  );
  assert.ok(ids.includes('big-4'), ids.join());
  assert.ok(!ids.some((id) => id.startsWith('small')) && !ids.includes('big-0'), ids.join());
});

test('a node that comes back is no longer counted among those that left', () => {
  const registry = new NodeRegistry({ maxDisconnectedNodes: 2, maxDisconnectedNodeBytes: 1 << 30 });
  visit(registry, 'a');
  const back = streamInfo('a', { nodeBytes: 1000 });
  registry.events.streamOpened!(back);
  visit(registry, 'b');
  visit(registry, 'c');
  visit(registry, 'd');
  assert.equal(registry.get('a')?.connected, true, 'a connected node is never forgotten');
  assert.deepEqual(
    registry
      .list()
      .filter((n) => !n.connected)
      .map((n) => n.identity.id),
    ['c', 'd'],
  );
});
