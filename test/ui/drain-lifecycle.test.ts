/**
 * An operator's hand on a drain from its page, in a real browser: pause and resume (a paused
 * drain says since when, and no countdown claims it moves on), skip a node that holds its batch,
 * retry a node that timed out in a drain that ended; each confirmed, each offered only where it
 * applies, and a refusal (409) said beside the action.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ConsolePages, haveChromium, launchChromium, NO_CHROMIUM, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet } from '../support/sim-fleet.js';
import { waitUntil } from '../support/wait.js';

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe("a drain's lifecycle actions", { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let browser: Browser;
  const { drain } = drainApi(() => d.apiUrl);

  const pages = new ConsolePages(
    () => browser,
    () => d.apiUrl,
  );
  const { problems } = pages;
  const open = (hash: string): Promise<Page> => pages.open(hash);
  const confirm = async (page: Page, title: string, button: string): Promise<void> => {
    const dialog = page.getByRole('dialog', { name: title });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: button }).click();
  };

  before(async () => {
    d = await startTestDaemon(`groups:${demoGroup({ name: 'mesh', cluster: 'mesh' })}${demoGroup({ name: 'edge', cluster: 'edge' })}`);
    fleet = await DrainingFleet.connect(
      d.xdsAddress,
      [...['mesh-1', 'mesh-2', 'mesh-3'].map((id) => ({ id, cluster: 'mesh', holds: true })), { id: 'edge-1', cluster: 'edge', holds: true }],
      { connections: 3, stepMs: 200 },
    );
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    await d?.close();
  });

  test('pause and resume, each confirmed; a paused drain says since when and counts no deadline down', async () => {
    const { id } = await drain({ selector: { cluster: 'mesh' }, scope: 'ingress', batch: { size: 1 }, deadlineSeconds: 300 });
    const page = await open(`#/drains/${id}`);
    const detail = page.locator('#drain-detail');
    await detail.locator('h2 [data-state="running"]').waitFor();
    assert.equal(await detail.getByRole('button', { name: 'Resume…' }).count(), 0, 'nothing to resume');
    await detail.getByRole('button', { name: 'Pause…' }).click();
    await confirm(page, `Pause drain ${id}?`, 'Pause the drain');
    await waitUntil('the pause to reach the daemon', () => d.daemon.drains.get(id)?.paused !== undefined, 10_000);
    await waitForText(detail.locator('.paused'), /Paused since \d/);
    assert.equal(await detail.locator('time[data-deadline]').count(), 0, 'no countdown while paused');
    assert.equal(await detail.getByRole('button', { name: 'Pause…' }).count(), 0, 'not paused twice');
    await detail.getByRole('button', { name: 'Resume…' }).click();
    await confirm(page, `Resume drain ${id}?`, 'Resume the drain');
    await waitUntil('the resume to reach the daemon', () => d.daemon.drains.get(id)?.paused === undefined, 10_000);
    await detail.locator('.paused').waitFor({ state: 'detached' });
    await detail.getByRole('button', { name: 'Pause…' }).waitFor();
  });

  test('a node that holds its batch is skipped, confirmed; a refusal says why beside the button', async () => {
    const id = d.daemon.drains.list().find((x) => x.state === 'running')!.id;
    const page = await open(`#/drains/${id}`);
    const row = page.locator('#drain-detail tr[data-node="mesh-1"]');
    await row.locator('[data-state="acked"]').waitFor();
    // A refusal as the daemon words it, shown beside the node's action.
    await page.route('**/nodes/mesh-1/skip', (route) =>
      route.fulfill({
        status: 409,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'not_applicable', message: 'node mesh-1 has nothing left to wait for' }),
      }),
    );
    await row.getByRole('button', { name: 'Skip mesh-1…' }).click();
    await confirm(page, 'Skip node mesh-1?', 'Skip the node');
    await waitForText(row.locator('[role="alert"]'), 'nothing left to wait for');
    await page.unroute('**/nodes/mesh-1/skip');
    await row.getByRole('button', { name: 'Skip mesh-1…' }).click();
    await confirm(page, 'Skip node mesh-1?', 'Skip the node');
    await waitUntil('mesh-1 to be skipped', () => d.daemon.drains.get(id)?.phases[0]?.nodes.find((n) => n.nodeId === 'mesh-1')?.state === 'skipped');
    await row.locator('[data-state="skipped"]').waitFor();
    // The error goes once the skip went through (the page reads the drain again after it).
    await row.locator('[role="alert"]').waitFor({ state: 'detached' });
    assert.equal(await row.getByRole('button').count(), 0, 'a skipped node offers nothing more');
  });

  test('a node that timed out is retried in the drain that ended, and the drain runs on to its end', async () => {
    const { id } = await drain({ selector: { cluster: 'edge' }, scope: 'ingress', deadlineSeconds: 2 });
    await waitUntil('the edge drain to time out', () => d.daemon.drains.get(id)?.state === 'timed_out', 20_000);
    const page = await open(`#/drains/${id}`);
    const detail = page.locator('#drain-detail');
    const row = detail.locator('tr[data-node="edge-1"]');
    await row.locator('[data-state="timed_out"]').waitFor();
    assert.equal(await detail.getByRole('button', { name: 'Pause…' }).count(), 0, 'an ended drain cannot be paused');
    assert.equal(await row.getByRole('button', { name: /^Skip/ }).count(), 0, 'nothing to skip');
    // Its clients let go now: the retry measures the node again, and it drains.
    fleet.hold('edge-1', false);
    await row.getByRole('button', { name: 'Retry edge-1…' }).click();
    await confirm(page, 'Retry node edge-1?', 'Retry the node');
    await waitUntil('the retried drain to complete', () => d.daemon.drains.get(id)?.state === 'completed', 15_000);
    await detail.locator('h2 [data-state="completed"]').waitFor();
    await row.locator('[data-state="drained"]').waitFor();
  });

  test("the heading keeps the focus the address gave it through a drain's redraws; an unknown drain is read once", async () => {
    const { api } = drainApi(() => d.apiUrl);
    const id = d.daemon.drains.list().find((x) => x.state === 'running')!.id;
    const page = await open('#/drains');
    const focused = (): Promise<string | undefined> => page.evaluate(() => document.activeElement?.id);
    // A change the daemon pushes, seen once the page has drawn the element anew.
    const redrawn = async (selector: string, change: () => Promise<void>): Promise<void> => {
      await page.evaluate((sel) => ((window as unknown as { before: unknown }).before = document.querySelector(sel)), selector);
      await change();
      await page.waitForFunction((sel) => document.querySelector(sel) !== (window as unknown as { before: unknown }).before, selector);
    };
    const post = async (path: string): Promise<void> => assert.equal((await api('POST', path)).status, 200);
    await page.evaluate((to) => (location.hash = to), `#/drains/${id}`);
    await page.locator('#drain-detail h2 [data-state="running"]').waitFor();
    assert.equal(await focused(), 'drain-detail-title');
    await redrawn('#drain-detail-title', () => post(`/v1/drains/${id}/pause`));
    await page.locator('#drain-detail .paused').waitFor();
    assert.equal(await focused(), 'drain-detail-title', 'the redraw keeps the focus on the heading');

    const unknown = 'drn_0000000000000000';
    let reads = 0;
    page.on('request', (r) => void (r.url().endsWith(`/v1/drains/${unknown}/summary`) && reads++));
    await page.evaluate((to) => (location.hash = to), `#/drains/${unknown}`);
    await waitForText(page.locator('#drain-detail [role="alert"]'), 'no drain with id');
    assert.equal(await focused(), 'drain-detail-title', 'the heading of the drain asked for');
    // Another drain's change redraws the list; the unknown drain is not asked for again.
    await redrawn('#drain-list table', () => post(`/v1/drains/${id}/resume`));
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 200)));
    assert.equal(reads, 1);
    assert.equal(await page.locator('#drain-detail [role="alert"]').count(), 1, 'still says why');
  });

  test('the pages logged no error but the refusal and the unknown drain', () => {
    assert.deepEqual(
      problems.filter((p) => !/status of 409/.test(p) && !/status of 404/.test(p)),
      [],
    );
  });
});
