/**
 * Paging a large fleet in a real browser: the page size is chosen (50, 100, 200 or 500) and a
 * page is reached by its number, not by pressing Next page after page; both live in the address,
 * so a reload or a shared link opens the same page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ConsolePages, haveChromium, launchChromium, NO_CHROMIUM, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';
import { nodeIdentity, streamInfo } from '../support/stream-info.js';

const NODES = 450;

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe('paging the fleet', { skip: !haveChromium && NO_CHROMIUM, timeout: 60_000 }, () => {
  let d: TestDaemon;
  let browser: Browser;

  const pages = new ConsolePages(
    () => browser,
    () => d.apiUrl,
  );
  const { problems } = pages;
  const open = (hash: string): Promise<Page> => pages.open(hash);
  const rowIds = (page: Page) => page.locator('#node-table tbody th[scope="row"] .id').allTextContents();

  before(async () => {
    d = await startTestDaemon(demoConfig());
    // Streams as the xDS server reports them: a fleet this size without as many gRPC streams.
    for (let i = 0; i < NODES; i++) {
      const id = `node-${String(i).padStart(3, '0')}`;
      d.daemon.nodes.events.streamOpened!(streamInfo(id, { node: nodeIdentity(id, 'paged') }));
    }
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await d?.close();
  });

  test('a page size and a page number, chosen on the page and kept in the address', async () => {
    const page = await open('#/fleet');
    await waitForText(page.locator('#page-info'), 'Nodes 1–50 of 450');
    await page.getByLabel('Nodes per page').selectOption('200');
    await page.waitForURL((url) => url.hash.includes('size=200'));
    await waitForText(page.locator('#page-info'), 'Nodes 1–200 of 450');
    await waitForText(page.locator('#page-count'), 'of 3');

    await page.getByLabel('Page number').fill('3');
    await page.getByRole('button', { name: 'Go to page' }).click();
    await page.waitForURL((url) => url.hash.includes('page=3'));
    await waitForText(page.locator('#page-info'), 'Nodes 401–450 of 450');
    assert.equal((await rowIds(page))[0], 'node-400');

    await page.getByRole('button', { name: 'Previous page' }).click();
    await waitForText(page.locator('#page-info'), 'Nodes 201–400 of 450');
    assert.equal(await page.getByLabel('Page number').inputValue(), '2');

    await page.reload();
    await waitForText(page.locator('#page-info'), 'Nodes 201–400 of 450');
    assert.equal(await page.getByLabel('Nodes per page').inputValue(), '200');
  });

  test('an address with a page opens cold at that page; a page past the last shows the last', async () => {
    const page = await open('#/fleet?size=100&page=4');
    await waitForText(page.locator('#page-info'), 'Nodes 301–400 of 450');
    assert.equal((await rowIds(page))[0], 'node-300');
    assert.equal(await page.getByLabel('Page number').inputValue(), '4');

    const past = await open('#/fleet?size=100&page=40');
    await waitForText(past.locator('#page-info'), 'Nodes 401–450 of 450');
    await past.waitForURL((url) => url.hash.includes('page=5'));
  });

  test('a search goes back to the first page', async () => {
    const page = await open('#/fleet?size=100&page=3');
    await waitForText(page.locator('#page-info'), 'Nodes 201–300 of 450');
    await page.getByRole('searchbox').fill('node-1');
    await waitForText(page.locator('#page-info'), 'Nodes 1–100 of 100');
    await page.waitForURL((url) => url.hash.includes('q=node-1') && !url.hash.includes('page='));
  });

  test('a search typed just before a page is turned is kept, and applies', async () => {
    const page = await open('#/fleet?size=100');
    await waitForText(page.locator('#page-info'), 'Nodes 1–100 of 450');
    // Typed, then Next pressed within the search's typing pause (250 ms): one task, so always within it.
    await page.evaluate(() => {
      const box = document.querySelector<HTMLInputElement>('#node-filter input[name="q"]')!;
      box.value = 'node-2';
      box.dispatchEvent(new Event('input', { bubbles: true }));
      document.querySelector<HTMLButtonElement>('#next-page')!.click();
    });
    await waitForText(page.locator('#page-info'), 'Nodes 1–100 of 100');
    assert.equal(await page.getByRole('searchbox').inputValue(), 'node-2');
    await page.waitForURL((url) => url.hash.includes('q=node-2') && !url.hash.includes('page='));
  });

  test('the pages logged no error', () => {
    assert.deepEqual(problems, []);
  });
});
