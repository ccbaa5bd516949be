/**
 * A node's open connections in the API, from its Envoy's gauge reports: now, by listener name
 * (GET /v1/nodes and /v1/nodes/:id), and over the last minutes (/v1/nodes/:id/connections).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { demoConfig } from '../support/fleet-configs.js';
import { simDrainFixture } from '../support/sim-drain-fixture.js';
import { waitUntil } from '../support/wait.js';

const INGRESS = '127.0.0.1_10000';
const EGRESS = '127.0.0.1_15001';

describe("a node's connections", { timeout: 30_000 }, () => {
  const fx = simDrainFixture(demoConfig());
  const { api } = fx;

  test('by listener now, in the node and in the list, and over time', async () => {
    const n = await fx.connect('conn-a');
    const silent = await fx.connect('conn-quiet');
    assert.equal((await api('GET', '/v1/nodes/conn-a')).body.connections, null, 'nothing reported yet');

    n.reportConnections({ [INGRESS]: 3, [EGRESS]: 1 });
    await waitUntil('the report', async () => (await api('GET', '/v1/nodes/conn-a')).body.connections !== null);
    const node = (await api('GET', '/v1/nodes/conn-a')).body;
    assert.equal(node.connections.total, 4);
    assert.deepEqual(node.connections.listeners, { ingress_http: 3, egress_http: 1 });
    assert.ok(Date.parse(node.connections.at) > 0);
    const listed = (await api('GET', '/v1/nodes')).body.nodes;
    const byId = new Map(listed.map((x: { id: string; connections: unknown }) => [x.id, x.connections]));
    assert.deepEqual((byId.get('conn-a') as { total: number }).total, 4);
    assert.equal(byId.get(silent.id), null);

    n.reportConnections({ [INGRESS]: 0, [EGRESS]: 1 });
    await waitUntil('the second report', async () => (await api('GET', '/v1/nodes/conn-a')).body.connections.total === 1);
    const history = (await api('GET', '/v1/nodes/conn-a/connections')).body;
    assert.equal(history.node, 'conn-a');
    assert.deepEqual(
      history.samples.map((s: [number, number]) => s[1]),
      [4, 1],
    );
    assert.ok(history.samples[0][0] <= history.samples[1][0]);
    assert.equal((await api('GET', '/v1/nodes/nobody/connections')).status, 404);
  });
});
