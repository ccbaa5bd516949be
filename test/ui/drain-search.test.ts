/**
 * Finding a node in a large drain, in a real browser: the drain's page shows only the nodes
 * worth a row, so a search box asks the server for the nodes whose id matches, across all the
 * drain's phases (waiting nodes too), and the search lives in the address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ConsolePages, haveChromium, launchChromium, NO_CHROMIUM, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';
import { nodeIdentity, streamInfo } from '../support/stream-info.js';

const NODES = 300;

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe('searching a drain', { skip: !haveChromium && NO_CHROMIUM, timeout: 60_000 }, () => {
  let d: TestDaemon;
  let browser: Browser;
  let id: string;
  const { api, drain } = drainApi(() => d.apiUrl);

  const pages = new ConsolePages(
    () => browser,
    () => d.apiUrl,
  );
  const { problems } = pages;
  const open = (hash: string): Promise<Page> => pages.open(hash);
  const rowIds = (page: Page) => page.locator('#drain-detail tr[data-node] th .id').allTextContents();

  before(async () => {
    d = await startTestDaemon(demoConfig({ cluster: 'big' }));
    // Streams without an Envoy behind them: the drain pushes and waits for ACKs that never come.
    for (let i = 0; i < NODES; i++) {
      const node = `big-${String(i).padStart(3, '0')}`;
      d.daemon.nodes.events.streamOpened!(streamInfo(node, { node: nodeIdentity(node, 'big') }));
    }
    ({ id } = await drain({ selector: { cluster: 'big' }, scope: 'all', batch: { size: 100 }, deadlineSeconds: 600 }));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await d?.close();
  });

  test('a node waiting for its batch is found by part of its id, and the search is in the address', async () => {
    const page = await open(`#/drains/${id}`);
    await waitForText(page.locator('#drain-detail'), 'of 300 nodes drained');
    assert.ok(!(await rowIds(page)).includes('big-250'), 'a waiting node has no row before the search');

    await page.getByLabel('Find nodes of this drain').fill('big-25');
    await page.waitForURL((url) => url.hash === `#/drains/${id}?q=big-25`);
    await waitForText(page.locator('#drain-search-result'), '10 nodes match');
    const found = await rowIds(page);
    assert.ok(found.includes('big-250') && found.includes('big-259'), found.join(', '));
    assert.ok(
      found.every((n) => n.startsWith('big-25')),
      found.join(', '),
    );

    await page.reload();
    await waitForText(page.locator('#drain-search-result'), '10 nodes match');
    assert.equal(await page.getByLabel('Find nodes of this drain').inputValue(), 'big-25');
  });

  test('opened cold with a search that matches nothing, it says so; clearing it shows the drain again', async () => {
    const page = await open(`#/drains/${id}?q=nothing-like-this`);
    await waitForText(page.locator('#drain-search-result'), 'No node of this drain matches');
    await page.getByLabel('Find nodes of this drain').fill('');
    await page.waitForURL((url) => url.hash === `#/drains/${id}`);
    await waitForText(page.locator('#drain-detail tr[data-node]'), 'big-0');
  });

  test('a search slower than the drain changes still comes back', async () => {
    const page = await open(`#/drains/${id}`);
    await waitForText(page.locator('#drain-detail'), 'of 300 nodes drained');
    await page.route(
      (url) => url.pathname.endsWith('/summary') && url.searchParams.has('q'),
      async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await route.continue();
      },
    );
    // The drain changes every 300 ms while the search is on its way: paused, resumed, paused...
    let changing = true;
    const changes = (async () => {
      for (let paused = false; changing || paused; paused = !paused) {
        assert.equal((await api('POST', `/v1/drains/${id}/${paused ? 'resume' : 'pause'}`)).status, 200);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    try {
      await page.getByLabel('Find nodes of this drain').fill('big-12');
      await waitForText(page.locator('#drain-search-result'), '10 nodes match', 15_000);
    } finally {
      changing = false;
      await changes;
    }
    assert.equal(d.daemon.drains.get(id)?.paused, undefined, 'left running');
  });

  test('a search that fails says why, is not sent again until the drain changes, and then comes back', async () => {
    const page = await open(`#/drains/${id}`);
    await waitForText(page.locator('#drain-detail'), 'of 300 nodes drained');
    const searches = (url: URL) => url.pathname.endsWith('/summary') && url.searchParams.get('q') === 'big-29';
    let sent = 0;
    page.on('request', (r) => void (searches(new URL(r.url())) && sent++));
    const down = { error: 'unavailable', message: 'temporarily down' };
    await page.route(searches, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify(down) }));
    await page.getByLabel('Find nodes of this drain').fill('big-29');
    await waitForText(page.locator('#drain-search-result'), /The search failed: .*temporarily down/);
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 1_500)));
    assert.equal(sent, 1, 'sent once while nothing changed');
    await waitForText(page.locator('#drain-search-result'), /The search failed: .*temporarily down/);

    await page.unroute(searches);
    assert.equal((await api('POST', `/v1/drains/${id}/pause`)).status, 200);
    try {
      await waitForText(page.locator('#drain-search-result'), '10 nodes match');
    } finally {
      assert.equal((await api('POST', `/v1/drains/${id}/resume`)).status, 200);
    }
  });

  test('the pages logged no error but the failed search', () => {
    assert.deepEqual(
      problems.filter((p) => !/status of 503/.test(p)),
      [],
    );
  });
});
