/**
 * The preview's blast radius: what a drain would take before it starts, as the console's
 * confirm step shows it: its share of the fleet, of each cluster and zone it touches, the
 * connections open on its nodes, and the nodes it could not measure.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { demoGroup } from '../support/fleet-configs.js';
import { simDrainFixture } from '../support/sim-drain-fixture.js';
import { waitUntil } from '../support/wait.js';

const CONFIG = `groups:${demoGroup({ name: 'edge', cluster: 'edge' })}${demoGroup({ name: 'mesh', cluster: 'mesh' })}`;

describe('the blast radius of a drain preview', { timeout: 30_000 }, () => {
  const fx = simDrainFixture(CONFIG);
  const { api } = fx;

  test('shares of the fleet, clusters and zones; connections now; nodes that cannot be measured', async () => {
    const a = await fx.connect('edge-a', { cluster: 'edge', locality: { region: 'eu', zone: 'eu-1' } });
    await fx.connect('edge-b', { cluster: 'edge', locality: { region: 'eu', zone: 'eu-2' } });
    await fx.connect('edge-c', { cluster: 'edge', locality: { region: 'eu', zone: 'eu-1' } });
    await fx.connect('mesh-a', { cluster: 'mesh', locality: { region: 'eu', zone: 'eu-1' } });
    a.reportConnections({ '127.0.0.1_10000': 5, '127.0.0.1_15001': 2 });
    await waitUntil('the report', async () => (await api('GET', '/v1/nodes/edge-a')).body.connections !== null);

    const preview = await api('POST', '/v1/drains/preview', { selector: { ids: ['edge-a', 'edge-b'] }, scope: 'ingress', method: 'remove' });
    assert.equal(preview.status, 200);
    const { radius } = preview.body;
    assert.deepEqual(radius.fleet, { matched: 2, total: 4 });
    assert.deepEqual(radius.clusters, [{ cluster: 'edge', matched: 2, total: 3 }]);
    assert.deepEqual(radius.zones, [
      { region: 'eu', zone: 'eu-1', matched: 1, total: 3 },
      { region: 'eu', zone: 'eu-2', matched: 1, total: 1 },
    ]);
    assert.deepEqual(radius.connections, { open: 7, unknown: 1 });
    assert.deepEqual(radius.unmeasurable, { count: 1, nodes: ['edge-b'] }, 'no gauge report and no admin address');

    // Measured by the ACK alone: nothing to measure, so no node is unmeasurable.
    const byAck = await api('POST', '/v1/drains/preview', { selector: { ids: ['edge-b'] }, scope: 'ingress', method: 'remove', measure: 'ack' });
    assert.deepEqual(byAck.body.radius.unmeasurable, { count: 0, nodes: [] });
  });
});
