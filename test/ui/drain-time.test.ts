/**
 * How long a running drain can still take, in a real browser: each running batch and the drain
 * say how long at most is left, by the deadlines of its nodes and the batches still to come (an
 * upper bound, worded as one), and one chart shows the drain's connections falling. A paused
 * drain claims no time left. With UPDATE_DOCS_SCREENSHOT=1 the batched drain is also saved to
 * docs/drain-batched.png.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { haveChromium, launchChromium, NO_CHROMIUM, openConsole, pageProblems, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet } from '../support/sim-fleet.js';

const ARTIFACTS = path.resolve('test-artifacts/ui');

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe("a drain's time left", { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let browser: Browser;
  const { api, drain } = drainApi(() => d.apiUrl);

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    d = await startTestDaemon(`groups:${demoGroup({ name: 'edge', cluster: 'edge' })}`);
    fleet = await DrainingFleet.connect(
      d.xdsAddress,
      [{ id: 'edge-1', cluster: 'edge' }, ...['edge-2', 'edge-3', 'edge-4', 'edge-5'].map((id) => ({ id, cluster: 'edge', holds: true }))],
      { connections: 6, stepMs: 250 },
    );
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    await d?.close();
  });

  test('each running batch and the drain say how long at most is left; one chart of its connections', async () => {
    const { id } = await drain({ selector: { cluster: 'edge' }, scope: 'ingress', batch: { size: 2 }, deadlineSeconds: 120 });
    const page = await openConsole(browser, d.apiUrl, `#/drains/${id}`);
    const problems = pageProblems(page, d.apiUrl);
    const detail = page.locator('#drain-detail');
    // Batch 1 (edge-1 drains, edge-2 holds) runs up to its 2 min deadline; batches 2 and 3 up to 2 min each.
    await waitForText(detail.locator('.batches li').first(), /at most 2 min left/);
    await waitForText(detail.locator('.time-left'), /at most about 6 min left, by the deadlines/);
    const chart = detail.locator('.drain-chart svg');
    await chart.waitFor();
    await waitForText(detail.locator('.drain-chart'), /connections/);
    assert.match((await chart.getAttribute('aria-label')) ?? '', /connections from \d+ to \d+/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'drain-batched.png'), fullPage: true });
    if (process.env['UPDATE_DOCS_SCREENSHOT'] === '1')
      await copyFile(path.join(ARTIFACTS, 'drain-batched.png'), path.resolve('docs/drain-batched.png'));

    assert.equal((await api('POST', `/v1/drains/${id}/pause`)).status, 200);
    await waitForText(detail.locator('.time-left'), 'Paused: no batch starts');
    assert.equal(await detail.locator('.batches li').first().locator('.batch-left').count(), 0);
    assert.deepEqual(problems, []);
  });
});
