/**
 * Every view of the console has its own address, in a real browser: the fleet's filters and
 * search live in the address (a reload or a fresh tab opened there shows the same nodes), and the
 * drain form opens from #/drains/new. Ids sort as numbers read (10.2.1.2 before 10.2.1.10), and a
 * preview refused for many nodes says each distinct error once, with its node count.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ConsolePages, haveChromium, launchChromium, NO_CHROMIUM, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet } from '../support/sim-fleet.js';

const IDS = ['10.2.1.10', '10.2.1.2', '10.2.1.1', '10.2.1.11'];
const NATURAL = ['10.2.1.1', '10.2.1.2', '10.2.1.10', '10.2.1.11'];

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe("the console's addresses", { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let browser: Browser;

  const pages = new ConsolePages(
    () => browser,
    () => d.apiUrl,
  );
  const { problems } = pages;
  const open = (hash: string): Promise<Page> => pages.open(hash);
  const rowIds = (page: Page) => page.locator('#node-table tbody th[scope="row"] .id').allTextContents();

  before(async () => {
    d = await startTestDaemon(`groups:${demoGroup({ name: 'ip', cluster: 'ip' })}${demoGroup({ name: 'edge', cluster: 'edge' })}`);
    fleet = await DrainingFleet.connect(d.xdsAddress, [...IDS.map((id) => ({ id, cluster: 'ip' })), { id: 'edge-1', cluster: 'edge' }]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    await d?.close();
  });

  test('node ids sort as numbers read', async () => {
    const page = await open('#/fleet');
    await waitForText(page.locator('#page-info'), 'Nodes 1–5 of 5');
    assert.deepEqual((await rowIds(page)).slice(1), NATURAL);
  });

  test('filters and search live in the address, through a reload and in a fresh tab', async () => {
    const page = await open('#/fleet');
    await page.getByRole('searchbox').fill('10.2.1.1');
    await page.getByLabel('Listener state').selectOption('serving');
    await page.waitForURL((url) => url.hash.includes('q=10.2.1.1') && url.hash.includes('state=serving'));
    await waitForText(page.locator('#page-info'), 'Nodes 1–3 of 3');
    const address = new URL(page.url()).hash;
    assert.match(address, /^#\/fleet\?/);

    await page.reload();
    await waitForText(page.locator('#page-info'), 'Nodes 1–3 of 3');
    assert.equal(await page.getByRole('searchbox').inputValue(), '10.2.1.1');
    assert.equal(await page.getByLabel('Listener state').inputValue(), 'serving');

    const fresh = await open(address);
    await waitForText(fresh.locator('#page-info'), 'Nodes 1–3 of 3');
    assert.deepEqual(await rowIds(fresh), ['10.2.1.1', '10.2.1.10', '10.2.1.11']);
    assert.equal(await fresh.getByRole('searchbox').inputValue(), '10.2.1.1');

    // Clearing the filters clears them from the address too.
    await fresh.getByRole('button', { name: 'Clear' }).click();
    await fresh.waitForURL((url) => url.hash === '#/fleet');
    await waitForText(fresh.locator('#page-info'), 'Nodes 1–5 of 5');
  });

  test('the drain form opens from its address; its preview sorts ids as numbers and groups errors', async () => {
    const page = await open('#/drains/new');
    const form = page.locator('#drain-form');
    await form.getByLabel('Cluster').waitFor();
    assert.ok(await form.isVisible(), 'the form is open');
    await form.getByLabel('Cluster').fill('ip');
    const preview = page.locator('#drain-preview');
    await waitForText(preview, NATURAL.join(', '));

    await form.locator('select[name="method"]').selectOption('healthcheck-fail');
    await waitForText(preview, 'This drain cannot start yet');
    const errors = preview.locator('li');
    await waitForText(errors, '4 nodes');
    assert.equal(await errors.count(), 1, `one line per distinct error: ${(await errors.allTextContents()).join(' | ')}`);
    await waitForText(errors, NATURAL.join(', '));
  });

  test('the pages logged no error', () => {
    assert.deepEqual(problems, []);
  });
});
