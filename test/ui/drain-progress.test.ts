/**
 * How a drain's progress reads, in a real browser, each drain opened cold from its address:
 * nodes that timed out or failed are counted as such (no green "done" phase, no full bar for a
 * failed drain); the batches not started yet are listed (batch 2 of 3); a pending phase shows no
 * rows of waiting nodes; once a later phase runs it comes first and the finished one is folded.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ConsolePages, haveChromium, launchChromium, NO_CHROMIUM, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet } from '../support/sim-fleet.js';
import { SimNode } from '../support/sim-node.js';
import { waitUntil } from '../support/wait.js';

const ARTIFACTS = path.resolve('test-artifacts/ui');
const EDGE = ['edge-1', 'edge-2', 'edge-3'];

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe("a drain's progress", { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let nacking: SimNode;
  let browser: Browser;
  const { api, drain } = drainApi(() => d.apiUrl);

  const pages = new ConsolePages(
    () => browser,
    () => d.apiUrl,
  );
  const { problems } = pages;
  const open = (hash: string): Promise<Page> => pages.open(hash);

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    d = await startTestDaemon(`groups:${demoGroup({ name: 'edge', cluster: 'edge' })}${demoGroup({ name: 'mixed', cluster: 'mixed' })}`);
    fleet = await DrainingFleet.connect(
      d.xdsAddress,
      [
        // Held until the test has seen batches 2 and 3 not started: a slow page must not miss them.
        ...EDGE.map((id) => ({ id, cluster: 'edge', holds: true })),
        { id: 'mixed-ok', cluster: 'mixed' },
        { id: 'mixed-held-1', cluster: 'mixed', holds: true },
        { id: 'mixed-held-2', cluster: 'mixed', holds: true },
      ],
      { connections: 3, stepMs: 300 },
    );
    // Rejects the listener set without its ingress listener: its drain fails on it.
    nacking = SimNode.connect(d.xdsAddress, 'mixed-nack', {
      cluster: 'mixed',
      reject: (res) => (res.resources.some((r) => r.name === 'ingress_http') ? undefined : 'listener rejected by this Envoy'),
    });
    await nacking.waitForLds((r) => r.resources.length === 2, 'with both listeners');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    nacking?.close();
    await d?.close();
  });

  test('nodes that timed out or failed are counted as such: no green "done", no full bar', async () => {
    const { id } = await drain({ selector: { cluster: 'mixed' }, scope: 'ingress', deadlineSeconds: 2 });
    await waitUntil('the mixed drain to end', () => d.daemon.drains.get(id)?.state !== 'running', 20_000);
    const ended = d.daemon.drains.get(id)!.state;
    assert.ok(ended === 'failed' || ended === 'timed_out', ended);
    const page = await open(`#/drains/${id}`);
    const phase = page.locator('#drain-detail .phase');
    await waitForText(phase, '1 of 4 nodes drained · 2 timed out · 1 failed');
    assert.equal(await phase.locator('h3 [data-state="done"]').count(), 0, 'not a green "done"');
    assert.equal(await phase.locator('h3 [data-state="failed"]').count(), 1, 'the phase reads failed');
    const bar = page.locator(`#drain-list progress[aria-label^="${id}"]`);
    assert.equal(await bar.getAttribute('value'), '1', 'the bar counts the drained node only');
    await waitForText(page.locator('#drain-list tr.selected'), '1/4 drained');
    await page.screenshot({ path: path.join(ARTIFACTS, 'drain-failed.png'), fullPage: true });
  });

  test('planned batches are listed, a pending phase has no waiting rows, and the running phase comes first', async () => {
    const { id } = await drain({
      selector: { cluster: 'edge' },
      scope: 'all',
      egress: { after: 'advance' },
      batch: { size: 1 },
      deadlineSeconds: 300,
    });
    const page = await open(`#/drains/${id}`);
    const detail = page.locator('#drain-detail');
    const ingress = detail.locator('.phase[data-phase="ingress"]');
    const egress = detail.locator('.phase[data-phase="egress"]');
    await waitForText(ingress.locator('.batches'), /Batch 1 of 3.*Batch 2 of 3.*not started.*Batch 3 of 3.*not started/);
    await waitForText(egress, '3 nodes waiting for the phase');
    assert.equal(await egress.locator('tbody tr').count(), 0, 'no rows of waiting nodes');
    for (const node of EDGE) fleet.hold(node, false);

    await waitUntil('the ingress phase to finish', () => d.daemon.drains.get(id)?.phases[0]?.state === 'done', 30_000);
    // The application still calls out: the egress phase stays running while the pages are read
    // (with no egress connection it would be over within a tick, before a page could show it).
    for (const node of EDGE) fleet.callOut(node, true);
    await waitUntil(
      'every edge node to report its egress connections',
      async () => {
        const views = await Promise.all(
          EDGE.map(async (n) => (await api('GET', `/v1/nodes/${n}`)).body as { connections?: { listeners?: Record<string, number | null> } | null }),
        );
        return views.every((v) => (v.connections?.listeners?.['egress_http'] ?? 0) > 0);
      },
      10_000,
    );
    assert.equal((await api('POST', `/v1/drains/${id}/advance`)).status, 200);
    for (const shown of [page, await open(`#/drains/${id}`)]) {
      const phases = shown.locator('#drain-detail .phase');
      await waitForText(phases.first(), 'egress phase');
      await shown.locator('#drain-detail .phase[data-phase="egress"] [data-state="running"]').first().waitFor();
      assert.deepEqual(await phases.evaluateAll((els) => els.map((e) => e.getAttribute('data-phase'))), ['egress', 'ingress']);
      const folded = shown.locator('#drain-detail details.phase[data-phase="ingress"]');
      assert.equal(await folded.getAttribute('open'), null, 'the finished phase is folded');
      await waitForText(folded.locator('summary'), '3 of 3 nodes drained');
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'drain-phases.png'), fullPage: true });
  });

  test('the pages logged no error', () => {
    assert.deepEqual(problems, []);
  });
});
