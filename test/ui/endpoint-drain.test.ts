/**
 * An endpoint (upstream) drain's page in a real browser, opened cold from its own address: the
 * header names it an upstream drain and its target, each Envoy node lists the endpoint with the
 * requests and connections its Envoy has open to it (or "unknown" where its Envoy cannot be
 * read), the counts follow the Envoys live, and a cancel from the page has every node serve the
 * endpoint again. Screenshot: test-artifacts/ui/endpoint-drain.png.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { haveChromium, launchChromium, NO_CHROMIUM, pageProblems, waitForText } from '../support/browser.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { EdsNode } from '../support/eds-node.js';
import { BACKEND_B, ENDPOINTS_CONFIG } from '../support/endpoint-fixture.js';
import { FakeEnvoyAdmin } from '../support/fake-envoy-admin.js';
import { waitUntil } from '../support/wait.js';

const ARTIFACTS = path.resolve('test-artifacts/ui');

if (!haveChromium) console.log(`skipped: ${NO_CHROMIUM}`);

describe("an endpoint drain's page", { skip: !haveChromium && NO_CHROMIUM, timeout: 120_000 }, () => {
  let d: TestDaemon;
  let admin: FakeEnvoyAdmin;
  let nodes: EdsNode[] = [];
  let browser: Browser;
  let page: Page;
  let problems: string[] = [];

  /** A node's row for the endpoint: its state badge, and its requests and connections as shown. */
  const row = (nodeId: string) => page.locator(`tbody[data-node="${nodeId}"] tr[data-endpoint="${BACKEND_B}"]`);
  const counts = async (nodeId: string) => (await row(nodeId).locator('td.num').allTextContents()).map((t) => t.trim());

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    d = await startTestDaemon(ENDPOINTS_CONFIG);
    // edge-1's Envoy has 2 requests on 3 connections open to backend B; edge-2 announces no admin API.
    admin = await FakeEnvoyAdmin.start();
    admin.setHost('app', BACKEND_B, { requests: 2, connections: 3 });
    const options = { cluster: 'edge', clusters: ['app', 'other'] };
    nodes = [
      EdsNode.connect(d.xdsAddress, 'edge-1', { ...options, metadata: { admin_address: admin.address } }),
      EdsNode.connect(d.xdsAddress, 'edge-2', options),
    ];
    for (const n of nodes) await n.waitFor('app', (e) => e[BACKEND_B] === '', 'serving B');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const n of nodes) n.close();
    await admin?.close();
    await d?.close();
  });

  test('opened from its address, it shows the target and, per node, the endpoint with its requests and connections; cancel restores it', async () => {
    const created = await fetch(`${d.apiUrl}/v1/drains`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoints: { addresses: [BACKEND_B], cluster: 'app', metadata: { version: 'v2' } }, deadlineSeconds: 120 }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const id = ((await created.json()) as { id: string }).id;
    await waitUntil(
      'edge-1 to be held by its open requests',
      () => {
        const n = d.daemon.drains.get(id)?.phases[0]?.nodes.find((x) => x.nodeId === 'edge-1');
        return n?.state === 'acked' && n.endpoints?.[0]?.requests === 2;
      },
      20_000,
    );

    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    problems = pageProblems(page, d.apiUrl);
    await page.goto(`${d.apiUrl}/ui/#/drains/${id}`);
    const detail = page.locator('#drain-detail');
    await waitForText(detail.locator('h2'), `Upstream drain ${id}`);
    const facts = detail.locator('dl.facts');
    await waitForText(facts, 'Addresses10.0.0.2:8080');
    await waitForText(facts, 'Clusterapp');
    await waitForText(facts, 'Labelsversion=v2');
    await waitForText(facts, 'Envoysevery node whose EDS holds them');
    assert.doesNotMatch((await facts.textContent()) ?? '', /Scope|Selector|Batch/, 'no listener scope, selector or batch');
    assert.equal(await detail.getByRole('button', { name: 'Start egress phase…' }).count(), 0);

    await row('edge-1').waitFor();
    assert.equal(await row('edge-1').locator('[data-state]').getAttribute('data-state'), 'acked');
    assert.deepEqual(await counts('edge-1'), ['2', '3'], 'requests, connections');
    assert.equal(await row('edge-2').locator('[data-state]').getAttribute('data-state'), 'acked');
    assert.deepEqual(await counts('edge-2'), ['unknown', 'unknown'], 'an Envoy that cannot be read is unknown, not 0');
    await waitForText(row('edge-1').locator('.holding'), `${BACKEND_B}: 2 request(s), 3 connection(s) open`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'endpoint-drain.png'), fullPage: true });

    // Its Envoy is done with the backend: the page follows, edge-2 still unknown.
    admin.setHost('app', BACKEND_B, { requests: 0, connections: 0 });
    await row('edge-1').locator('[data-state="drained"]').waitFor({ timeout: 20_000 });
    assert.deepEqual(await counts('edge-1'), ['0', '0']);
    assert.deepEqual(await counts('edge-2'), ['unknown', 'unknown']);

    await detail.getByRole('button', { name: 'Cancel drain…' }).click();
    const confirm = page.getByRole('dialog', { name: `Cancel drain ${id}?` });
    await waitForText(confirm, 'serve again on every node');
    await confirm.getByRole('button', { name: 'Cancel the drain' }).click();
    await detail.locator('h2 [data-state="cancelled"]').waitFor({ timeout: 10_000 });
    assert.equal(d.daemon.drains.get(id)?.state, 'cancelled');
    for (const n of nodes) await n.waitFor('app', (e) => e[BACKEND_B] === '', 'serving B again');
    assert.deepEqual(problems, []);
  });
});
