/**
 * One node's page, in a real browser, opened cold from its address and through a reload: who it
 * is, its streams, the versions of each xDS type it was sent and ACKed, its last NACK, its
 * listeners with the drain acting on them, and its connections now and over time. Node ids in
 * the fleet list and in a drain's rows lead to it; the fleet list shows each node's connections.
 * With UPDATE_DOCS_SCREENSHOT=1 the page is also saved to docs/node-page.png.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ConsolePages, haveChromium, launchChromium, NO_CHROMIUM, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet } from '../support/sim-fleet.js';
import { SimNode } from '../support/sim-node.js';

const ARTIFACTS = path.resolve('test-artifacts/ui');

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe("a node's page", { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let nacking: SimNode;
  let browser: Browser;
  let drainId = '';
  const { drain } = drainApi(() => d.apiUrl);

  const pages = new ConsolePages(
    () => browser,
    () => d.apiUrl,
  );
  const { problems } = pages;
  const open = (hash: string): Promise<Page> => pages.open(hash);

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    d = await startTestDaemon(`groups:${demoGroup({ name: 'edge', cluster: 'edge' })}`);
    fleet = await DrainingFleet.connect(
      d.xdsAddress,
      [
        { id: 'edge-1', cluster: 'edge', region: 'eu', zone: 'eu-a', holds: true },
        { id: 'edge-2', cluster: 'edge', region: 'eu', zone: 'eu-a' },
      ],
      { connections: 3, stepMs: 200 },
    );
    nacking = SimNode.connect(d.xdsAddress, 'edge-nack', {
      cluster: 'edge',
      metadata: { team: 'payments' },
      reject: (res) => (res.resources.some((r) => r.name === 'ingress_http') ? undefined : 'listener rejected by this Envoy'),
    });
    await nacking.waitForLds((r) => r.resources.length === 2, 'with both listeners');
    ({ id: drainId } = await drain({ selector: { ids: ['edge-1', 'edge-nack'] }, scope: 'ingress', deadlineSeconds: 300 }));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    nacking?.close();
    await d?.close();
  });

  test('opened cold and reloaded: identity, versions, listeners with their drain, connections now and over time', async () => {
    const page = await open('#/nodes/edge-1');
    const node = page.locator('#node-detail');
    await waitForText(node.locator('h2'), 'Node edge-1');
    await waitForText(node.locator('.identity'), 'edge');
    await waitForText(node.locator('.identity'), 'eu/eu-a');
    const versions = node.locator('table.versions');
    await waitForText(versions.locator('tr[data-type="lds"]'), /LDS.*acked/i);
    await waitForText(versions.locator('tr[data-type="cds"]'), /CDS/);
    const listeners = node.locator('.node-listeners');
    await waitForText(listeners, /ingress_http.*ingress/);
    assert.equal(await listeners.getByRole('link', { name: `by ${drainId}` }).getAttribute('href'), `#/drains/${drainId}`);
    await waitForText(node.locator('.node-connections'), /3 connections open/, 15_000);
    // A flat line (the count holds at 3) has no height: attached is what can be waited for.
    await node.locator('.node-connections .chart path.line').waitFor({ state: 'attached', timeout: 15_000 });
    assert.match((await node.locator('.node-connections svg.chart').getAttribute('aria-label')) ?? '', /connections from 3 to 3|3 connection/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'node-page.png'), fullPage: true });
    if (process.env['UPDATE_DOCS_SCREENSHOT'] === '1') await copyFile(path.join(ARTIFACTS, 'node-page.png'), path.resolve('docs/node-page.png'));
    await page.reload();
    await waitForText(page.locator('#node-detail h2'), 'Node edge-1');
  });

  test('a node that refused its listeners shows its last NACK with the message, and its metadata', async () => {
    const page = await open('#/nodes/edge-nack');
    const node = page.locator('#node-detail');
    await waitForText(node.locator('.last-nack'), 'listener rejected by this Envoy');
    await waitForText(node.locator('.metadata'), /team.*payments/);
  });

  test('node ids lead to the node page from the fleet list and from a drain; the list shows connections', async () => {
    const page = await open('#/fleet');
    const row = page.locator('#node-table tr', { has: page.getByRole('link', { name: 'edge-2', exact: true }) });
    await waitForText(row.locator('td.connections'), '3', 15_000);
    await waitForText(
      page.locator('#node-table tr', { has: page.getByRole('link', { name: 'edge-nack', exact: true }) }).locator('td.connections'),
      '—',
    );
    await row.getByRole('link', { name: 'edge-2', exact: true }).click();
    await page.waitForURL(/#\/nodes\/edge-2$/);
    await waitForText(page.locator('#node-detail h2'), 'Node edge-2');
    // The heading has the focus, and keeps it when the page is drawn again with the node's next reading.
    const title = await page.locator('#node-detail h2').elementHandle();
    await page.waitForFunction((h2) => document.querySelector('#node-detail h2') !== h2, title, { timeout: 15_000 });
    assert.equal(await page.evaluate(() => document.activeElement?.matches('#node-detail h2')), true);

    await page.goto(`${d.apiUrl}/ui/#/drains/${drainId}`);
    await page.locator('#drain-detail tr[data-node="edge-1"]').getByRole('link', { name: 'edge-1' }).click();
    await page.waitForURL(/#\/nodes\/edge-1$/);
    await waitForText(page.locator('#node-detail h2'), 'Node edge-1');
  });

  test('the pages logged no error', () => {
    assert.deepEqual(problems, []);
  });
});
