/**
 * A drain holds at most MAX_DRAIN_NODES nodes: node ids cost an xDS client nothing to invent,
 * and every id its selector takes would otherwise join the drain and its stored record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_DRAIN_NODES } from '../../src/fleet/drain/request-limits.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';
import { captureLogs } from '../support/log-capture.js';
import { SimNode } from '../support/sim-node.js';
import { nodeIdentity, streamInfo } from '../support/stream-info.js';

describe('a drain with as many nodes as a drain may hold', { timeout: 120_000 }, () => {
  const logs = captureLogs();
  let d: TestDaemon;
  const { api } = drainApi(() => d.apiUrl);
  /** Streams as the xDS server reports them: this many nodes without as many gRPC streams. */
  const register = (count: number, prefix: string): void => {
    for (let i = 0; i < count; i++)
      d.daemon.nodes.events.streamOpened!(streamInfo(`${prefix}-${i}`, { node: nodeIdentity(`${prefix}-${i}`, 'edge') }));
  };

  before(async () => {
    d = await startTestDaemon(demoConfig({ cluster: 'edge' }), { logger: logs.logger });
  });
  after(() => d.close());

  test('more connected nodes than that: the drain is refused, naming the selector and the bound', async () => {
    register(MAX_DRAIN_NODES + 1, 'many');
    const res = await api('POST', '/v1/drains', { selector: { cluster: 'edge' }, scope: 'ingress' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors, [
      {
        field: 'selector',
        message: `matches ${MAX_DRAIN_NODES + 1} connected nodes; a drain holds at most ${MAX_DRAIN_NODES} (split it by cluster or locality)`,
      },
    ]);
    assert.equal(d.daemon.drains.list().length, 0, 'nothing created');
  });

  test('once full, a node its selector takes is served its listeners, not drained, and the log says so once', async () => {
    const held = d.daemon.nodes.list().filter((n) => n.identity.id.startsWith('many-'));
    const dropped = held[0]!;
    d.daemon.nodes.events.streamClosed!(streamInfo(dropped.identity.id, { streamId: dropped.streams[0]!.id, node: dropped.identity }));
    const res = await api('POST', '/v1/drains', { selector: { cluster: 'edge' }, scope: 'ingress' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.id as string;
    assert.equal(d.daemon.drains.get(id)!.phases[0]!.nodes.length, MAX_DRAIN_NODES);

    const late = [SimNode.connect(d.xdsAddress, 'late-1', { cluster: 'edge' }), SimNode.connect(d.xdsAddress, 'late-2', { cluster: 'edge' })];
    try {
      for (const n of late) await n.waitForLds((r) => r.resources.length === 2, 'both listeners: not drained');
      assert.equal(d.daemon.drains.get(id)!.phases[0]!.nodes.length, MAX_DRAIN_NODES, 'the drain did not grow');
      const warnings = logs.withEvent('drain_full');
      assert.equal(warnings.length, 1);
      assert.match(String(warnings[0]!['msg']), new RegExp(`drain ${id} holds ${MAX_DRAIN_NODES} nodes, as many as a drain may: node late-1 `));
    } finally {
      for (const n of late) n.close();
      await d.daemon.drains.cancel(id);
    }
  });
});
