import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { openSotwStream, TYPE, type SotwStream } from '../support/ads-client.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';

const QUIET_MS = 300;
const TOKEN = 'test-admin-token';

/** Two groups: "demo" (cluster test-cluster) and "other" (cluster other-cluster). */
function twoGroups(o: { demoTag?: string; otherTag?: string } = {}): string {
  const other = demoConfig({ cluster: 'other-cluster', ...(o.otherTag && { listenerTag: o.otherTag }) })
    .replace('groups:\n', '')
    .replace('name: demo', 'name: other');
  return demoConfig({ ...(o.demoTag && { listenerTag: o.demoTag }) }) + other;
}

async function syncedLds(d: TestDaemon, id: string, cluster: string): Promise<SotwStream> {
  const s = openSotwStream(d.xdsAddress, { node: { id, cluster } });
  s.send({ type_url: TYPE.LDS });
  s.ack(await s.next(TYPE.LDS));
  await s.expectSilence(QUIET_MS);
  return s;
}

describe('atomic config reload', () => {
  let d: TestDaemon;
  let a: SotwStream;
  let b: SotwStream;

  before(async () => {
    d = await startTestDaemon(twoGroups(), { apiTokens: { admin: [TOKEN] } });
    a = await syncedLds(d, 'node-a', 'test-cluster');
    b = await syncedLds(d, 'node-b', 'other-cluster');
  });
  after(async () => {
    a.close();
    b.close();
    await d.close();
  });

  test('an invalid config is rejected whole, with every error, and nodes are untouched', async () => {
    const versions = d.daemon.cache.snapshot('node-a')!.versions();
    const broken = twoGroups({ demoTag: 'new' }).replace('port_value: 10000', 'port_value: 99999999999').replace('type: EDS', 'type: EDZ');
    const result = await d.rewrite(broken);
    assert.equal(result.result, 'rejected');
    assert.ok(result.result === 'rejected');
    const paths = result.errors.map((e) => e.path);
    assert.ok(paths.includes('groups[0].listeners[0].address.socket_address.port_value'), paths.join(', '));
    assert.ok(paths.includes('groups[0].clusters[0].type'), paths.join(', '));
    await a.expectSilence(QUIET_MS);
    assert.deepEqual(d.daemon.cache.snapshot('node-a')!.versions(), versions);
  });

  test('a valid config is pushed only to the group it changes', async () => {
    const result = await d.rewrite(twoGroups({ otherTag: 'v2' }));
    assert.deepEqual(result, { result: 'applied', nodesChanged: 1, warnings: [] });
    b.ack(await b.next(TYPE.LDS));
    await a.expectSilence(QUIET_MS);
  });

  test('PUT /v1/config with errors answers 400 listing them; the running config and file stay', async () => {
    const before = await readFile(d.configFile, 'utf8');
    const res = await fetch(`${d.apiUrl}/v1/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml', authorization: `Bearer ${TOKEN}` },
      body: twoGroups().replace('stat_prefix: ingress_http', 'stat_prefix: ingress_http\n                  no_such_field: 1'),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { result: string; errors: { path: string; message: string }[] };
    assert.equal(body.result, 'rejected');
    assert.deepEqual(
      body.errors.map((e) => e.path),
      ['groups[0].listeners[0].filter_chains[0].filters[0].typed_config.no_such_field'],
    );
    assert.equal(await readFile(d.configFile, 'utf8'), before);
    await a.expectSilence(QUIET_MS);
  });

  test('PUT /v1/config needs the admin token when one is configured', async () => {
    const res = await fetch(`${d.apiUrl}/v1/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml', authorization: 'Bearer wrong' },
      body: twoGroups({ demoTag: 'x' }),
    });
    assert.equal(res.status, 401);
    await a.expectSilence(QUIET_MS);
    const read = await fetch(`${d.apiUrl}/v1/config`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(read.status, 200, 'the admin token reads too');
  });

  test('a valid PUT (YAML or JSON) is applied and written to the config file', async () => {
    const yaml = twoGroups({ demoTag: 'put', otherTag: 'v2' });
    const res = await fetch(`${d.apiUrl}/v1/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml', authorization: `Bearer ${TOKEN}` },
      body: yaml,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { result: 'applied', nodesChanged: 1, warnings: [] });
    a.ack(await a.next(TYPE.LDS));
    assert.equal(await readFile(d.configFile, 'utf8'), yaml);

    const current = (await (await fetch(`${d.apiUrl}/v1/config`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      config: unknown;
    };
    const again = await fetch(`${d.apiUrl}/v1/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(current.config),
    });
    assert.deepEqual(await again.json(), { result: 'unchanged', nodesChanged: 0, warnings: [] });
    await a.expectSilence(QUIET_MS);
  });
});

describe('config file watch', () => {
  test('a change saved to the file is pushed without a signal', async () => {
    const d = await startTestDaemon(demoConfig(), { watchConfig: true });
    const s = await syncedLds(d, 'watched', 'test-cluster');
    try {
      await writeFile(d.configFile, demoConfig({ listenerTag: 'saved' }));
      const pushed = await s.next(TYPE.LDS, 3000);
      s.ack(pushed);
      await writeFile(d.configFile, demoConfig({ listenerTag: 'saved' })); // same bytes again
      await s.expectSilence(800);
    } finally {
      s.close();
      await d.close();
    }
  });
});
