/**
 * The console in a real browser: Debian's chromium, driven by playwright-core, against a daemon
 * with simulated Envoys. An operator's session: find nodes, start a drain from the page with a
 * preview, watch it complete, start another and cancel it. Screenshots go to
 * test-artifacts/ui/; with UPDATE_DOCS_SCREENSHOT=1, the mid-drain one also to docs/console.png.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { haveChromium, launchChromium, NO_CHROMIUM, pageProblems, waitForText as waitForTextOf } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet, type FleetNodeSpec } from '../support/sim-fleet.js';

const TOKEN = 'console-test-token';
const ARTIFACTS = path.resolve('test-artifacts/ui');

const fleetSpecs: FleetNodeSpec[] = [
  ...['a', 'b'].flatMap((z) => [1, 2, 3, 4].map((i) => ({ id: `edge-${z}-${i}`, cluster: 'edge', region: 'eu-west-1', zone: `eu-west-1${z}` }))),
  // Their clients never let go: a drain on them runs until it is cancelled.
  ...['a', 'b'].flatMap((z) =>
    [1, 2].map((i) => ({ id: `mesh-${z}-${i}`, cluster: 'mesh', region: 'eu-west-1', zone: `eu-west-1${z}`, holds: true })),
  ),
];

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe('the console in a browser', { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let browser: Browser;
  let page: Page;
  let tokenAsked = 0;
  let problems: string[] = [];

  /** The page asks for the token when the API first refuses a request: answers it, as an operator would. */
  const answerToken = async (): Promise<void> => {
    tokenAsked += 1;
    await page.locator('#token-input').fill(TOKEN);
    await page.getByRole('button', { name: 'Use this token' }).click();
  };
  /** Waits until the element's text contains `expected` (answering the token dialog if it opens). */
  const waitForText = (locator: Locator, expected: string | RegExp, timeoutMs = 10_000): Promise<void> =>
    waitForTextOf(locator, expected, timeoutMs, async () => {
      if (await page.locator('#token-dialog[open]').count()) await answerToken();
    });
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    d = await startTestDaemon(`groups:${demoGroup({ name: 'edge', cluster: 'edge' })}${demoGroup({ name: 'mesh', cluster: 'mesh' })}`, {
      apiTokens: { admin: [TOKEN] },
    });
    fleet = await DrainingFleet.connect(d.xdsAddress, fleetSpecs, { connections: 8, stepMs: 400 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    problems = pageProblems(page, d.apiUrl);
  });

  after(async () => {
    await browser?.close();
    fleet?.close();
    await d?.close();
  });

  test('the fleet view groups nodes by cluster and locality, with their listeners, and finds them by search', async () => {
    await page.goto(`${d.apiUrl}/ui`);
    assert.equal(new URL(page.url()).pathname, '/ui/');
    // With tokens configured, reads need one too: the page asks before it can show anything.
    await page.locator('#token-dialog[open]').waitFor();
    await answerToken();
    await page.locator('#live[data-state="live"]').waitFor();
    const totals = page.locator('#fleet-totals');
    await waitForText(totals, /Nodes\s*12/);
    const groups = page.locator('#fleet-groups');
    for (const row of ['edge', 'mesh']) await groups.getByRole('rowheader', { name: row }).waitFor();
    const nodeTable = page.locator('#node-table');
    await nodeTable.getByRole('columnheader', { name: 'edge · eu-west-1/eu-west-1a (4 nodes)' }).waitFor();
    assert.equal(await nodeTable.locator('tbody th[scope="row"]').count(), 12);
    assert.equal(await nodeTable.locator('[data-state="serving"]').count(), 24, 'two serving listeners per node');

    await page.getByRole('searchbox').fill('edge-b');
    await waitForText(page.locator('#page-info'), 'Nodes 1–4 of 4');
    assert.deepEqual(await nodeTable.locator('tbody th[scope="row"] .id').allTextContents(), ['edge-b-1', 'edge-b-2', 'edge-b-3', 'edge-b-4']);
    await shot('fleet-search');
    await page.getByRole('button', { name: 'Clear' }).click();
    await waitForText(page.locator('#page-info'), 'Nodes 1–12 of 12');
  });

  let completed = '';

  test('a drain started from the page, with a preview and a confirm step, is followed to completion', async () => {
    await page.getByRole('tab', { name: 'Drains' }).click();
    await page.getByRole('button', { name: 'Start a drain…' }).click();
    const form = page.locator('#drain-form');
    await form.getByLabel('Cluster').fill('edge');
    await form.getByLabel('Zone').fill('eu-west-1a');
    await form.getByLabel('Batches').selectOption('size');
    await form.getByLabel('Batch size').fill('2');
    await form.getByLabel('Deadline per node (seconds)').fill('60');
    const preview = page.locator('#drain-preview');
    await waitForText(preview, 'Matches 4 connected node(s)');
    await waitForText(preview, 'edge-a-1, edge-a-2, edge-a-3, edge-a-4');
    await waitForText(preview, 'ingress phase: 4 node(s) (ingress_http), in 2 batches');
    assert.ok(tokenAsked >= 1, 'the page asked for the token when the API refused it');
    assert.equal(d.daemon.drains.list().length, 0, 'a preview starts nothing');
    await shot('drain-form');

    await page.getByRole('button', { name: 'Review and start…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start draining 4 node(s)?' });
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-back', 'focus starts on the safe choice');
    await dialog.getByRole('button', { name: 'Drain 4 nodes' }).click();

    await page.waitForURL(/#\/drains\/drn_\w+$/);
    completed = new URL(page.url()).hash.replace('#/drains/', '');
    const detail = page.locator('#drain-detail');
    await waitForText(detail.locator('h2'), `Drain ${completed}`);
    // Mid-drain: the first batch drained, the second holding with connections left.
    await detail.locator('.batches li').nth(1).waitFor({ timeout: 20_000 });
    await waitForText(detail.locator('td.holding'), /ingress_http: \d+ connection\(s\) left/, 20_000);
    await detail.locator('.chart path.line').first().waitFor();
    await shot('drain-mid');
    if (process.env['UPDATE_DOCS_SCREENSHOT'] === '1') await copyFile(path.join(ARTIFACTS, 'drain-mid.png'), path.resolve('docs/console.png'));

    await detail.locator('h2 [data-state="completed"]').waitFor({ timeout: 30_000 });
    assert.equal(d.daemon.drains.get(completed)?.state, 'completed');
    await waitForText(detail.locator('.phase'), '4 of 4 nodes drained');
    assert.equal(await detail.locator('tbody [data-state="drained"]').count(), 4);
    await shot('drain-completed');
  });

  test('the fleet view shows the drained listeners as gone', async () => {
    await page.getByRole('tab', { name: 'Fleet' }).click();
    await page.getByLabel('Listener state').selectOption('gone');
    await waitForText(page.locator('#page-info'), 'Nodes 1–4 of 4');
    const gone = page.locator('#node-table li:has([data-state="gone"]) .id');
    assert.deepEqual(await gone.allTextContents(), ['ingress_http', 'ingress_http', 'ingress_http', 'ingress_http']);
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  test('a running drain is cancelled from the page (by keyboard, Escape backing out once), and its listeners come back', async () => {
    await page.getByRole('tab', { name: 'Fleet' }).focus();
    await page.keyboard.press('ArrowRight');
    // The tab follows the address (a hashchange event), a moment after the key.
    await page.waitForFunction(
      () => document.querySelector('[role="tab"][aria-selected="true"]')?.textContent?.includes('Drains') === true,
      undefined,
      { timeout: 5_000 },
    );
    assert.equal(await page.getByRole('tab', { name: 'Drains' }).getAttribute('aria-selected'), 'true');
    assert.equal(new URL(page.url()).hash, '#/drains');
    await page.getByRole('button', { name: 'Start a drain…' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'cluster', 'focus moves into the form');
    const form = page.locator('#drain-form');
    await form.getByLabel('Cluster').fill('mesh');
    await form.getByLabel('Zone').fill('');
    await form.getByLabel('Batches').selectOption('');
    // The mesh nodes, not the earlier drain's four (its preview is still there when the form opens).
    await waitForText(page.locator('#drain-preview'), 'mesh-a-1, mesh-a-2, mesh-b-1, mesh-b-2');
    await page.getByRole('button', { name: 'Review and start…' }).click();
    // The whole mesh cluster at once: its name is typed before the drain can start.
    await page.getByRole('dialog').getByLabel('Type mesh to confirm').fill('mesh');
    await page.getByRole('dialog').getByRole('button', { name: 'Drain 4 nodes' }).click();
    await page.waitForURL((url) => /#\/drains\/drn_\w+$/.test(url.hash) && !url.hash.endsWith(completed));
    const id = new URL(page.url()).hash.replace('#/drains/', '');
    const detail = page.locator('#drain-detail');
    await waitForText(detail.locator('td.holding'), /ingress_http: 8 connection\(s\) left/, 20_000);

    const cancel = detail.getByRole('button', { name: 'Cancel drain…' });
    await cancel.focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('dialog', { name: `Cancel drain ${id}?` });
    await confirm.waitFor();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel drain…', 'focus comes back to the button');
    assert.equal(d.daemon.drains.get(id)?.state, 'running', 'Escape backs out');
    await page.keyboard.press('Enter');
    await confirm.getByRole('button', { name: 'Cancel the drain' }).click();
    await waitUntil('the cancel to reach the daemon', () => d.daemon.drains.get(id)?.state === 'cancelled', 20_000);
    await detail.locator('h2 [data-state="cancelled"]').waitFor();
    await waitUntil('the mesh nodes to get their ingress listener back', () =>
      fleetSpecs.filter((s) => s.cluster === 'mesh').every((s) => fleet.sim(s.id).listeners().includes('ingress_http')),
    );
    await shot('drain-cancelled');
  });

  test('the page loaded nothing from elsewhere and logged no error', () => {
    assert.deepEqual(problems, []);
  });
});
