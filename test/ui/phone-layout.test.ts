/**
 * The console on a phone (390 × 844), in a real browser: no view scrolls sideways, and a running
 * drain's nodes show their state and deadline on screen (rows become cards).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { ConsolePages, haveChromium, launchChromium, NO_CHROMIUM, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet } from '../support/sim-fleet.js';

const WIDTH = 390;

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe('the console on a phone', { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let browser: Browser;
  let drainId = '';
  const { drain } = drainApi(() => d.apiUrl);

  const pages = new ConsolePages(
    () => browser,
    () => d.apiUrl,
  );
  const { problems } = pages;
  const open = async (hash: string): Promise<Page> => {
    const page = await pages.open(hash);
    await page.setViewportSize({ width: WIDTH, height: 844 });
    return page;
  };
  const noSidewaysScroll = async (page: Page): Promise<void> => {
    const width = await page.evaluate(() => document.scrollingElement!.scrollWidth);
    // The message names the first element past the edge: what to fix.
    const past = await page.evaluate(
      (w) => [...document.querySelectorAll('body *')].find((e) => e.getBoundingClientRect().right > w + 1)?.outerHTML.slice(0, 200),
      WIDTH,
    );
    assert.ok(width <= WIDTH, `${page.url()} is ${width} px wide: ${past}`);
  };
  const onScreen = async (el: Locator, what: string): Promise<void> => {
    assert.ok(await el.isVisible(), `${what} is visible`);
    const box = (await el.boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= WIDTH, `${what} is within the screen (x ${box.x}, width ${box.width})`);
  };

  before(async () => {
    d = await startTestDaemon(`groups:${demoGroup({ name: 'edge-cluster-with-a-long-name', cluster: 'edge-cluster-with-a-long-name' })}`);
    fleet = await DrainingFleet.connect(
      d.xdsAddress,
      ['edge-node-0001.eu-west-1a.example.internal', 'edge-node-0002.eu-west-1a.example.internal', 'edge-node-0003.eu-west-1b.example.internal'].map(
        (id) => ({ id, cluster: 'edge-cluster-with-a-long-name', region: 'eu-west-1', zone: 'eu-west-1a', holds: true }),
      ),
      { connections: 4, stepMs: 200 },
    );
    ({ id: drainId } = await drain({
      selector: { cluster: 'edge-cluster-with-a-long-name' },
      scope: 'ingress',
      batch: { size: 2 },
      deadlineSeconds: 300,
    }));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    await d?.close();
  });

  test("a running drain: nothing scrolls sideways; each node's state and deadline are on screen", async () => {
    const page = await open(`#/drains/${drainId}`);
    const rows = page.locator('#drain-detail tr[data-node]');
    await waitForText(page.locator('#drain-detail td.holding'), /connection\(s\) left/, 15_000);
    await noSidewaysScroll(page);
    assert.equal(await rows.count(), 2);
    for (const row of await rows.all()) {
      await row.scrollIntoViewIfNeeded();
      await onScreen(row.locator('[data-state]').first(), 'the state');
      await onScreen(row.locator('time[data-deadline]'), 'the deadline');
    }
    await page.screenshot({ path: 'test-artifacts/ui/phone-drain.png', fullPage: true });
  });

  test('the fleet, the drain form and a node page do not scroll sideways either', async () => {
    const page = await open('#/fleet');
    await waitForText(page.locator('#node-table'), 'edge-node-0003');
    await noSidewaysScroll(page);
    await page.goto(`${d.apiUrl}/ui/#/drains/new`);
    await page.locator('#drain-form').waitFor();
    await noSidewaysScroll(page);
    await page.goto(`${d.apiUrl}/ui/#/nodes/edge-node-0001.eu-west-1a.example.internal`);
    await waitForText(page.locator('#node-detail h2'), 'edge-node-0001');
    await noSidewaysScroll(page);
  });

  test('the pages logged no error', () => {
    assert.deepEqual(problems, []);
  });
});
