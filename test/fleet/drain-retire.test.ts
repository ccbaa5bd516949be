/**
 * Drains kept as history: a restart that retires some stored drains (what `drainplane run` does
 * with its earlier shutdowns) serves their nodes as if those drains had never acted, keeps them
 * listed with the reason, ends the one that was still running, and leaves every other drain
 * acting as before.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import { startTestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { demoConfig } from '../support/fleet-configs.js';
import { SimNode } from '../support/sim-node.js';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test('retired drains stop acting and stay listed; a running one is ended; the others still act', { timeout: 30_000 }, async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'drainplane-retire-'));
  cleanup.push(() => rm(stateDir, { recursive: true, force: true }));

  const first = await startTestDaemon(demoConfig(), { stateDir });
  const node = SimNode.connect(first.xdsAddress, 'envoy-r');
  await node.waitForLds((r) => r.resources.length === 2, 'with both listeners');
  const created = async (scope: 'ingress' | 'egress', method: 'remove' | 'modify', shutdown: boolean): Promise<Drain> => {
    const result = await first.daemon.drains.create(
      { selector: { ids: ['envoy-r'] }, scope, method, deadlineSeconds: 60 },
      shutdown ? { origin: 'shutdown' } : {},
    );
    assert.ok('drain' in result, JSON.stringify(result));
    return result.drain;
  };
  const modified = await created('ingress', 'modify', true);
  // A modify drain completes once Envoy, after the ACK, drains no listener version any more.
  await waitUntil('the modify drain to be ACKed', () => first.daemon.drains.get(modified.id)!.phases[0]!.nodes[0]!.state === 'acked');
  node.reportListenerVersions({ warming: 0, draining: 0 });
  await waitUntil('the modify drain to complete', () => first.daemon.drains.get(modified.id)!.state === 'completed');
  const removed = await created('ingress', 'remove', true); // its connections are never reported: it runs
  const api = await created('egress', 'remove', false);
  await node.waitForLds((r) => r.resources.length === 0, 'with no listener');
  node.close();
  await first.close();

  const second = await startTestDaemon(demoConfig(), {
    stateDir,
    retireOnStart: { which: (d) => d.origin === 'shutdown', reason: 'test restart' },
  });
  cleanup.push(() => second.close());
  const fresh = SimNode.connect(second.xdsAddress, 'envoy-r', { versionInfo: '' });
  cleanup.push(() => fresh.close());
  const firstResponse = await fresh.waitForLds(() => true, 'at all');
  assert.deepEqual(
    firstResponse.resources.map((r) => r.name),
    ['ingress_http'],
    'the shutdown drains no longer act; the API drain still does',
  );

  const drains = new Map(second.daemon.drains.list().map((d) => [d.id, d]));
  assert.deepEqual([drains.get(modified.id)!.state, drains.get(modified.id)!.retired?.reason], ['completed', 'test restart']);
  assert.deepEqual([drains.get(removed.id)!.state, drains.get(removed.id)!.retired?.reason], ['cancelled', 'test restart']);
  assert.ok(drains.get(removed.id)!.finishedAt, 'the running drain has ended');
  assert.deepEqual([drains.get(api.id)!.state, drains.get(api.id)!.retired], ['running', undefined]);
  const listed = (await (await fetch(`${second.apiUrl}/v1/drains/${removed.id}`)).json()) as Drain;
  assert.deepEqual([listed.origin, listed.retired?.reason], ['shutdown', 'test restart'], 'shown by the API');
});
