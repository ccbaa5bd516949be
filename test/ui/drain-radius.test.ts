/**
 * What a drain weighs, said before it starts, in a real browser: the confirm step shows its share
 * of the cluster, zones and fleet, the connections open now, a warning when it takes a whole
 * cluster at once and one naming the nodes it cannot measure; a drain that takes a whole cluster
 * starts only once the cluster's name is typed, from a button that says what it does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { haveChromium, launchChromium, NO_CHROMIUM, openConsole, pageProblems, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet } from '../support/sim-fleet.js';
import { SimNode } from '../support/sim-node.js';
import { waitUntil } from '../support/wait.js';

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

/** The API's answers to these requests, held back this long: a slow daemon or network. */
function slow(page: Page, url: string, ms: number): Promise<unknown> {
  return page.route(url, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    await route.continue();
  });
}

describe("a drain's blast radius", { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let silent: SimNode;
  let browser: Browser;

  before(async () => {
    d = await startTestDaemon(`groups:${demoGroup({ name: 'edge', cluster: 'edge' })}${demoGroup({ name: 'mesh', cluster: 'mesh' })}`);
    fleet = await DrainingFleet.connect(
      d.xdsAddress,
      [
        ...['edge-1', 'edge-2'].map((id) => ({ id, cluster: 'edge', region: 'eu', zone: 'eu-a' })),
        { id: 'edge-3', cluster: 'edge', region: 'eu', zone: 'eu-b' },
        ...['mesh-1', 'mesh-2', 'mesh-3', 'mesh-4'].map((id) => ({ id, cluster: 'mesh', region: 'eu', zone: 'eu-b' })),
      ],
      { connections: 5, stepMs: 200 },
    );
    // Reports no gauges: its drain cannot be measured.
    silent = SimNode.connect(d.xdsAddress, 'edge-silent', { cluster: 'edge', locality: { region: 'eu', zone: 'eu-b' } });
    await silent.waitForLds((r) => r.resources.length === 2, 'with both listeners');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    silent?.close();
    await d?.close();
  });

  test('a whole cluster at once: shares, connections, warnings, and the cluster typed before it starts', async () => {
    const page = await openConsole(browser, d.apiUrl, '#/drains/new');
    const problems = pageProblems(page, d.apiUrl);
    const form = page.locator('#drain-form');
    await form.getByLabel('Cluster').fill('edge');
    await waitForText(page.locator('#drain-preview'), 'Matches 4 connected node(s)');
    await page.getByRole('button', { name: 'Review and start…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start draining 4 node(s)?' });
    await dialog.waitFor();
    const radius = dialog.locator('.radius');
    await waitForText(radius, 'Fleet: 4 of 8 nodes (50%)');
    await waitForText(radius, 'Cluster edge: 4 of 4 nodes (100%)');
    await waitForText(radius, 'Zone eu/eu-a: 2 of 2 nodes (100%)');
    await waitForText(radius, 'Zone eu/eu-b: 2 of 6 nodes (33%)');
    await waitForText(radius, /15 connections open now \(1 node unknown\)/);
    const warnings = dialog.locator('.radius-warnings');
    await waitForText(warnings, 'Takes all of cluster edge at once');
    await waitForText(warnings, 'Takes all of zone eu/eu-a at once');
    await waitForText(warnings, '1 node cannot be measured: edge-silent');
    const start = dialog.getByRole('button', { name: 'Drain 4 nodes' });
    assert.ok(await start.isDisabled(), 'not before the cluster is typed');
    const typed = dialog.getByLabel('Type edge to confirm');
    await typed.fill('edg');
    assert.ok(await start.isDisabled());
    await typed.fill('edge');
    assert.ok(await start.isEnabled());
    await start.click();
    await page.waitForURL(/#\/drains\/drn_\w+$/);
    await waitUntil('the drain to start', () => d.daemon.drains.list().length === 1, 5_000);
    assert.deepEqual(problems, []);
  });

  test('a small drain in batches asks for no typing and warns of nothing taken at once', async () => {
    for (const dr of d.daemon.drains.list()) if (dr.state === 'running') await d.daemon.drains.cancel(dr.id);
    const page = await openConsole(browser, d.apiUrl, '#/drains/new');
    const form = page.locator('#drain-form');
    await form.getByLabel('Node ids').fill('mesh-1, mesh-2');
    await form.getByLabel('Batches').selectOption('size');
    await waitForText(page.locator('#drain-preview'), 'Matches 2 connected node(s)');
    await page.getByRole('button', { name: 'Review and start…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start draining 2 node(s)?' });
    await waitForText(dialog.locator('.radius'), 'Cluster mesh: 2 of 4 nodes (50%)');
    assert.equal(await dialog.locator('.radius-warnings li').count(), 0);
    assert.equal(await dialog.getByRole('textbox').count(), 0, 'nothing to type');
    assert.ok(await dialog.getByRole('button', { name: 'Drain 2 nodes' }).isEnabled());
    await dialog.getByRole('button', { name: 'Back' }).click();
  });

  /** A review asked for right after typing these node ids, on an API whose previews take longer than the form's typing pause (300 ms). */
  const reviewAtOnce = async (ids: string): Promise<Page> => {
    const page = await openConsole(browser, d.apiUrl, '#/drains/new');
    await slow(page, '**/v1/drains/preview', 800);
    // Typed, then submitted in one task: always within the typing pause, however busy the machine.
    await page.evaluate((value) => {
      const box = document.querySelector<HTMLInputElement>('#drain-form input[name="ids"]')!;
      box.value = value;
      box.dispatchEvent(new Event('input', { bubbles: true }));
      document.querySelector<HTMLButtonElement>('#review-drain')!.click();
    }, ids);
    return page;
  };

  test('a review asked for at once after typing, on a slow API, is answered', async () => {
    const page = await reviewAtOnce('mesh-3');
    const dialog = page.getByRole('dialog', { name: 'Start draining 1 node(s)?' });
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.getByRole('button', { name: 'Back' }).click();
  });

  test('leaving the form while its review is on its way asks nothing', async () => {
    const page = await reviewAtOnce('mesh-4');
    await page.keyboard.press('Escape');
    await page.locator('#drain-form-section').waitFor({ state: 'hidden' });
    // The review's preview, drawn in the hidden form: the review has had its answer.
    await waitForText(page.locator('#drain-preview'), 'Matches 1 connected node(s)');
    assert.equal(await page.locator('#confirm-dialog').evaluate((el) => (el as HTMLDialogElement).open), false);
  });

  test('a drain on its way to the daemon is not started twice by a second review', async () => {
    for (const dr of d.daemon.drains.list()) if (dr.state === 'running') await d.daemon.drains.cancel(dr.id);
    const before = d.daemon.drains.list().length;
    const page = await openConsole(browser, d.apiUrl, '#/drains/new');
    await slow(page, '**/v1/drains', 1500);
    await page.locator('#drain-form').getByLabel('Node ids').fill('mesh-4');
    await waitForText(page.locator('#drain-preview'), 'Matches 1 connected node(s)');
    const review = page.getByRole('button', { name: 'Review and start…' });
    await review.click();
    await page.getByRole('dialog', { name: 'Start draining 1 node(s)?' }).getByRole('button', { name: 'Drain 1 node' }).click();
    // The form says it is busy while the drain is on its way; a review meanwhile asks nothing.
    const starting = page.getByRole('button', { name: 'Starting the drain…' });
    await starting.waitFor();
    assert.equal(await page.locator('#drain-form').getAttribute('aria-busy'), 'true');
    await starting.click();
    await page.waitForURL(/#\/drains\/drn_\w+$/);
    assert.equal(await page.locator('#confirm-dialog').evaluate((el) => (el as HTMLDialogElement).open), false, 'nothing asked again');
    assert.equal(d.daemon.drains.list().length, before + 1);
  });
});
