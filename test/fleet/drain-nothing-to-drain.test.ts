/**
 * Fleet drains over nodes that have no listener in the drain's scope: each such node finishes
 * its phase at once, with a note saying why, and is never pushed; a drain with nothing to drain
 * on any node is stored as completed when it is created. Two groups: `full` nodes have ingress
 * and egress listeners, `edge` nodes only ingress (the shape of deploy/kubernetes).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import { waitUntil } from '../support/wait.js';
import { demoGroup } from '../support/fleet-configs.js';
import type { SimNode } from '../support/sim-node.js';
import { simDrainFixture } from '../support/sim-drain-fixture.js';

const EGRESS = '127.0.0.1_15001';
const CONFIG = `groups:${demoGroup({ name: 'full', cluster: 'full' })}${demoGroup({ name: 'edge', cluster: 'edge', egress: [] })}`;

describe('drains with nothing to drain on some nodes', { timeout: 60_000 }, () => {
  const fx = simDrainFixture(CONFIG);
  const { api, drain } = fx;
  const connect = (id: string, cluster: 'full' | 'edge'): Promise<SimNode> => fx.connect(id, { cluster }, cluster === 'full' ? 2 : 1);
  const entries = (drain: Drain, phase = 0) => drain.phases[phase]!.nodes.map((n) => [n.nodeId, n.state, n.listeners.map((l) => l.name), n.note]);

  test('an egress drain of nodes without egress listeners completes when it is created, and pushes nothing', async () => {
    const n = await connect('edge-1', 'edge');
    const pushes = n.lds.length;
    const created = await drain({ selector: { cluster: 'edge' }, scope: 'egress', method: 'remove', deadlineSeconds: 600 });
    assert.equal(created.state, 'completed', 'not running until its 600 s deadline');
    assert.equal(created.phases[0]!.state, 'done');
    assert.deepEqual(entries(created), [['edge-1', 'drained', [], 'nothing to drain: no egress listener (traffic_direction OUTBOUND) on this node']]);
    assert.equal((await api('GET', `/v1/drains/${created.id}`)).body.state, 'completed', 'and stored so');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(n.lds.length, pushes, 'the node was sent nothing');
    const status = (await api('GET', '/v1/nodes/edge-1')).body;
    assert.deepEqual(
      status.listeners.map((l: { state: string }) => l.state),
      ['serving'],
    );
  });

  test('a drain over nodes with and without the listeners: those without finish at once, the others drain, and a preview counts only them', async () => {
    const full = await connect('full-1', 'full');
    await connect('edge-2', 'edge');
    const request = { selector: { ids: ['full-1', 'edge-2'] }, scope: { listeners: ['egress_http'] }, method: 'remove', batch: { size: 1 } };
    const preview = (await api('POST', '/v1/drains/preview', request)).body;
    assert.deepEqual(
      preview.phases.map((p: { nodes: number; batches: number }) => [p.nodes, p.batches]),
      [[1, 1]],
    );

    const created = await drain(request);
    assert.equal(created.state, 'running');
    assert.deepEqual(
      entries(created).sort(),
      [
        ['edge-2', 'drained', [], 'nothing to drain: no listener named egress_http on this node'],
        ['full-1', 'pushed', ['egress_http'], undefined],
      ],
      'a node with nothing to drain takes no place in a batch',
    );
    await full.waitForLds((r) => r.resources.length === 1, 'without egress');
    await waitUntil('the ACK', () => fx.d.daemon.drains.get(created.id)!.phases[0]!.nodes.some((n) => n.nodeId === 'full-1' && n.state === 'acked'));
    full.reportConnections({ [EGRESS]: 0 });
    await waitUntil('the drain to complete', () => fx.d.daemon.drains.get(created.id)!.state === 'completed');
  });

  test('a node with nothing to drain that connects later joins a drain waiting for nodes, which then completes', async () => {
    const created = await drain({ selector: { cluster: 'edge' }, scope: 'egress', method: 'remove' });
    assert.equal(created.state, 'running', 'no node yet: it waits for nodes to join');
    await connect('edge-3', 'edge');
    await waitUntil('the drain to complete', () => fx.d.daemon.drains.get(created.id)!.state === 'completed');
    assert.deepEqual(entries(fx.d.daemon.drains.get(created.id)!), [
      ['edge-3', 'drained', [], 'nothing to drain: no egress listener (traffic_direction OUTBOUND) on this node'],
    ]);
  });

  test('scope all over a node without egress: the egress phase completes at once once ingress is drained', async () => {
    const n = await connect('edge-4', 'edge');
    const created = await drain({ selector: { ids: ['edge-4'] }, scope: 'all', method: 'remove', measure: 'ack' });
    await n.waitForLds((r) => r.resources.length === 0, 'without ingress');
    await waitUntil('the drain to complete', () => fx.d.daemon.drains.get(created.id)!.state === 'completed');
    const done = fx.d.daemon.drains.get(created.id)!;
    assert.deepEqual(entries(done, 1), [
      ['edge-4', 'drained', [], 'nothing to drain: no egress listener (traffic_direction OUTBOUND or unset) on this node'],
    ]);
  });
});
