/**
 * The console while drainplane cannot be reached, in a real browser: the daemon is stopped
 * mid-drain. The page says since when its data is stale, greys it, blocks every action and stops
 * the deadlines counting down; once the daemon is back on the same address it is live again, and
 * the drain's address opens cold. Before that, a fleet whose every node left shows no green
 * "connected" badge for 0 nodes.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { haveChromium, launchChromium, NO_CHROMIUM, openConsole, pageProblems, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { apiRequest } from '../support/api-request.js';
import { freeLoopbackPorts } from '../e2e-envoy/configs.js';
import { demoConfig } from '../support/fleet-configs.js';
import { DrainingFleet } from '../support/sim-fleet.js';

const TOKEN = 'gone-test-token';
const CONFIG = demoConfig({ cluster: 'mesh' });

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe('the console while the daemon is unreachable', { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let back: TestDaemon | undefined;
  let fleet: DrainingFleet;
  let browser: Browser;
  let page: Page;
  let problems: string[] = [];
  let id = '';
  let ports = { api: 0, xds: 0 };

  before(async () => {
    await mkdir(path.resolve('test-artifacts/ui'), { recursive: true });
    // Below the ephemeral range: the page reconnects to the API port while nothing listens there,
    // and a port in that range could be handed to it as its own source port (a self-connect).
    const [api, xds] = await freeLoopbackPorts(2);
    ports = { api: api!, xds: xds! };
    d = await startTestDaemon(CONFIG, { apiTokens: { admin: [TOKEN] }, apiPort: ports.api, xdsPort: ports.xds });
    fleet = await DrainingFleet.connect(
      d.xdsAddress,
      ['mesh-1', 'mesh-2'].map((n) => ({ id: n, cluster: 'mesh', holds: true })),
      { connections: 4, stepMs: 200 },
    );
    const res = await fetch(
      `${d.apiUrl}/v1/drains`,
      apiRequest('POST', { selector: { cluster: 'mesh' }, scope: 'ingress', deadlineSeconds: 600 }, { authorization: `Bearer ${TOKEN}` }),
    );
    assert.equal(res.status, 201);
    id = ((await res.json()) as { id: string }).id;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fleet?.close();
    await back?.close();
    await d?.daemon.close().catch(() => undefined);
    await rm(path.dirname(d.configFile), { recursive: true, force: true });
  });

  test('a fleet whose nodes all left shows them disconnected, not a green "connected 0"', async () => {
    page = await openConsole(browser, d.apiUrl, '#/fleet', TOKEN);
    problems = pageProblems(page, d.apiUrl);
    const totals = page.locator('#fleet-totals');
    await waitForText(totals, 'connected 2');
    fleet.close();
    await waitForText(totals, 'disconnected 2');
    assert.equal(await totals.locator('[data-state="connected"]').count(), 0);
  });

  test('stopped mid-drain: a stale-data banner, greyed data, blocked actions and deadlines that stop', async () => {
    await page.goto(`${d.apiUrl}/ui/#/drains/${id}`);
    const detail = page.locator('#drain-detail');
    await detail.locator('h2 [data-state="running"]').waitFor();
    const deadline = detail.locator('time[data-deadline]').first();
    await waitForText(deadline, /^in \d+m/);
    await d.daemon.close();

    const banner = page.getByRole('alert').filter({ hasText: 'drainplane cannot be reached' });
    await banner.waitFor({ timeout: 5_000 });
    await waitForText(banner, /data shown is from \d\d:\d\d:\d\d/);
    assert.equal(await page.locator('main').getAttribute('data-stale'), 'true', 'the data is greyed');
    assert.ok(await detail.getByRole('button', { name: 'Cancel drain…' }).isDisabled(), 'cancel is blocked');
    assert.ok(await page.getByRole('button', { name: 'Start a drain…' }).isDisabled(), 'a new drain is blocked');
    await page.screenshot({ path: path.resolve('test-artifacts/ui/daemon-gone.png'), fullPage: true });
    const frozen = await deadline.textContent();
    await page.waitForTimeout(2_200);
    assert.equal(await deadline.textContent(), frozen, 'the deadline no longer counts down');
  });

  test('back on the same address, the page is live again and the drain opens cold from its address', async () => {
    back = await startTestDaemon(CONFIG, {
      apiTokens: { admin: [TOKEN] },
      apiPort: ports.api,
      xdsPort: ports.xds,
      stateDir: path.join(path.dirname(d.configFile), 'state'),
    });
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 20_000 });
    await page.getByRole('alert').filter({ hasText: 'drainplane cannot be reached' }).waitFor({ state: 'detached' });
    assert.equal(await page.locator('main').getAttribute('data-stale'), null);
    assert.ok(await page.locator('#drain-detail').getByRole('button', { name: 'Cancel drain…' }).isEnabled());
    const fresh = await openConsole(browser, back.apiUrl, `#/drains/${id}`, TOKEN);
    await fresh.locator('#drain-detail h2 [data-state="running"]').waitFor();
  });

  test('the page logged no error but the refused connections', () => {
    assert.deepEqual(
      problems.filter((p) => !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|Failed to fetch/.test(p)),
      [],
    );
  });
});
