/**
 * A drain's actions when they do not go through, and undoing a drain that ended, in a real
 * browser: a cancel refused (a read token) or cut off (the daemon unreachable) says why beside
 * the button and leaves the drain shown running; a finished drain offers a confirmed restore
 * (its listeners come back) and no action that cannot apply. Each page is opened cold from the
 * drain's address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ConsolePages, haveChromium, launchChromium, NO_CHROMIUM, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { apiRequest } from '../support/api-request.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet, type FleetNodeSpec } from '../support/sim-fleet.js';
import { waitUntil } from '../support/wait.js';

const ADMIN = 'actions-admin-token';
const READ = 'actions-read-token';

const specs: FleetNodeSpec[] = [
  { id: 'edge-1', cluster: 'edge' },
  { id: 'edge-2', cluster: 'edge' },
  { id: 'mesh-1', cluster: 'mesh', holds: true },
  { id: 'mesh-2', cluster: 'mesh', holds: true },
];

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe("a drain's actions", { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;
  let browser: Browser;
  const pages: Page[] = [];

  const startDrain = async (cluster: string): Promise<string> => {
    const res = await fetch(
      `${d.apiUrl}/v1/drains`,
      apiRequest('POST', { selector: { cluster }, scope: 'ingress', deadlineSeconds: 120 }, { authorization: `Bearer ${ADMIN}` }),
    );
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  };
  const consolePages = new ConsolePages(
    () => browser,
    () => d.apiUrl,
  );
  const { problems } = consolePages;
  const open = async (hash: string, token: string): Promise<Page> => {
    const page = await consolePages.open(hash, token);
    pages.push(page);
    return page;
  };

  before(async () => {
    d = await startTestDaemon(`groups:${demoGroup({ name: 'edge', cluster: 'edge' })}${demoGroup({ name: 'mesh', cluster: 'mesh' })}`, {
      apiTokens: { admin: [ADMIN], read: [READ] },
    });
    fleet = await DrainingFleet.connect(d.xdsAddress, specs, { connections: 4, stepMs: 200 });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    await d?.close();
  });

  let running = '';

  test('a cancel refused for a read token says why beside the button; the drain still shows running', async () => {
    running = await startDrain('mesh');
    const page = await open(`#/drains/${running}`, READ);
    const detail = page.locator('#drain-detail');
    await detail.locator('h2 [data-state="running"]').waitFor();
    await detail.getByRole('button', { name: 'Cancel drain…' }).click();
    await page
      .getByRole('dialog', { name: `Cancel drain ${running}?` })
      .getByRole('button', { name: 'Cancel the drain' })
      .click();
    const error = detail.locator('.actions [role="alert"]');
    await waitForText(error, `POST /v1/drains/${running}/cancel`);
    await waitForText(error, 'admin');
    assert.equal(await detail.locator('h2 [data-state="running"]').count(), 1, 'still shown running');
    assert.equal(d.daemon.drains.get(running)?.state, 'running');
  });

  test('a cancel that cannot reach the daemon says so beside the button', async () => {
    const page = await open(`#/drains/${running}`, ADMIN);
    await page.route('**/cancel', (route) => route.abort('connectionrefused'));
    const detail = page.locator('#drain-detail');
    await detail.getByRole('button', { name: 'Cancel drain…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel the drain' }).click();
    await waitForText(detail.locator('.actions [role="alert"]'), /could not reach drainplane/);
    assert.equal(await detail.locator('h2 [data-state="running"]').count(), 1);
    // The next try, once it goes through, clears the error.
    await page.unroute('**/cancel');
    await detail.getByRole('button', { name: 'Cancel drain…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel the drain' }).click();
    await detail.locator('h2 [data-state="cancelled"]').waitFor();
    assert.equal(await detail.locator('.actions [role="alert"]').count(), 0);
    assert.equal(d.daemon.drains.get(running)?.state, 'cancelled');
  });

  test('a completed drain is restored from its page, confirmed, and offers no action that cannot apply', async () => {
    const id = await startDrain('edge');
    await waitUntil('the edge drain to complete', () => d.daemon.drains.get(id)?.state === 'completed', 30_000);
    assert.ok(specs.filter((s) => s.cluster === 'edge').every((s) => !fleet.sim(s.id).listeners().includes('ingress_http')));
    const page = await open(`#/drains/${id}`, ADMIN);
    const detail = page.locator('#drain-detail');
    await detail.locator('h2 [data-state="completed"]').waitFor();
    assert.equal(await detail.getByRole('button', { name: 'Cancel drain…' }).count(), 0, 'nothing to cancel');
    assert.equal(await detail.getByRole('button', { name: 'Start egress phase…' }).count(), 0, 'no egress phase');
    await detail.getByRole('button', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog', { name: `Restore what drain ${id} removed?` });
    await dialog.waitFor();
    await waitForText(dialog, 'listeners it removed or changed come back');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await waitUntil('the restore to reach the daemon', () => d.daemon.drains.get(id)?.state === 'cancelled', 10_000);
    await waitUntil('the edge nodes to get their ingress listener back', () =>
      specs.filter((s) => s.cluster === 'edge').every((s) => fleet.sim(s.id).listeners().includes('ingress_http')),
    );
    await detail.locator('h2 [data-state="cancelled"]').waitFor();

    const again = await open(`#/drains/${id}`, ADMIN);
    await again.locator('#drain-detail h2 [data-state="cancelled"]').waitFor();
    assert.equal(await again.locator('#drain-detail .actions button').count(), 0, 'a cancelled drain has nothing left to do');
  });

  test('the pages loaded nothing from elsewhere and logged no error but the refusals', () => {
    assert.deepEqual(
      problems.filter((p) => !/status of 403|ERR_CONNECTION_REFUSED|ERR_FAILED/.test(p)),
      [],
    );
  });
});
