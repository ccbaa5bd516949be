/**
 * GET /v1/drains/:id/summary?q=PART: the node rows of each phase restricted to the nodes whose id
 * contains PART (any case), waiting nodes too, with the count of matches per phase.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';
import { nodeIdentity, streamInfo } from '../support/stream-info.js';

interface Summary {
  phases: { name: string; total: number; matches: number | null; nodes: { nodeId: string; state: string }[]; nodesOmitted: number }[];
}

describe('searching a drain summary', { timeout: 30_000 }, () => {
  let d: TestDaemon;
  let id: string;
  const { api, drain } = drainApi(() => d.apiUrl);

  before(async () => {
    d = await startTestDaemon(demoConfig({ cluster: 'big' }));
    for (let i = 0; i < 200; i++) {
      const node = `big-${String(i).padStart(3, '0')}`;
      d.daemon.nodes.events.streamOpened!(streamInfo(node, { node: nodeIdentity(node, 'big') }));
    }
    ({ id } = await drain({ selector: { cluster: 'big' }, scope: 'all', batch: { size: 50 }, deadlineSeconds: 600 }));
  });
  after(() => d?.close());

  test('without q, every phase says no search (matches null)', async () => {
    const { status, body } = await api('GET', `/v1/drains/${id}/summary?nodes=5`);
    assert.equal(status, 200);
    for (const p of (body as Summary).phases) assert.equal(p.matches, null);
  });

  test('q restricts the rows to matching ids in every phase, waiting nodes too, and counts them', async () => {
    const { status, body } = await api('GET', `/v1/drains/${id}/summary?q=BIG-19`);
    assert.equal(status, 200);
    const phases = (body as Summary).phases;
    assert.ok(phases.length >= 1);
    for (const p of phases) {
      assert.equal(p.total, 200, 'counts stay those of the whole phase');
      assert.equal(p.matches, 10);
      assert.deepEqual(
        p.nodes.map((n) => n.nodeId).sort(),
        Array.from({ length: 10 }, (_, i) => `big-19${i}`),
      );
      assert.ok(p.nodes.some((n) => n.state === 'waiting'));
      assert.equal(p.nodesOmitted, 0);
    }
  });

  test('matches beyond `nodes` are counted as omitted', async () => {
    const { body } = await api('GET', `/v1/drains/${id}/summary?q=big-1&nodes=5`);
    const p = (body as Summary).phases[0]!;
    assert.equal(p.matches, 100);
    assert.equal(p.nodes.length, 5);
    assert.equal(p.nodesOmitted, 95);
  });

  test('a search longer than 200 characters is refused', async () => {
    const { status } = await api('GET', `/v1/drains/${id}/summary?q=${'x'.repeat(201)}`);
    assert.equal(status, 400);
  });
});
