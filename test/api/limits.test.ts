/**
 * API limits: mutations per minute per caller, and the request body size.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { changeHeaders } from '../support/api-request.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';

const ADMIN_A = 'admin-a-0c1d';
const ADMIN_B = 'admin-b-77e2';
const MiB = 1024 * 1024;

function cancel(d: TestDaemon, extra: InjectOptions = {}) {
  return d.daemon.api.inject({ method: 'POST', url: '/v1/drains/none/cancel', ...extra, headers: { ...changeHeaders('POST'), ...extra.headers } });
}

describe('mutation rate limit', () => {
  let withTokens: TestDaemon;
  let open: TestDaemon;

  before(async () => {
    withTokens = await startTestDaemon(demoConfig(), { apiTokens: { admin: [ADMIN_A, ADMIN_B] }, apiRateLimit: 3 });
    open = await startTestDaemon(demoConfig(), { apiRateLimit: 2 });
  });
  after(async () => {
    await withTokens.close();
    await open.close();
  });

  test('beyond N mutations a minute a token gets 429 with Retry-After; another token and reads go on', async () => {
    const asA = { headers: { authorization: `Bearer ${ADMIN_A}` } };
    for (let i = 0; i < 3; i++) assert.equal((await cancel(withTokens, asA)).statusCode, 404, `mutation ${i + 1}`);
    const limited = await cancel(withTokens, asA);
    assert.equal(limited.statusCode, 429);
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${limited.headers['retry-after']}`);
    const body = limited.json<{ error: string; message: string }>();
    assert.equal(body.error, 'rate_limited');
    assert.match(body.message, /^POST \/v1\/drains\/none\/cancel: more than 3 mutating requests in a minute from this caller; retry in \d+ s$/);

    assert.equal((await cancel(withTokens, { headers: { authorization: `Bearer ${ADMIN_B}` } })).statusCode, 404, 'per token');
    for (let i = 0; i < 10; i++) {
      const read = await withTokens.daemon.api.inject({ method: 'GET', url: '/v1/drains', ...asA });
      assert.equal(read.statusCode, 200, 'reads are not limited');
    }
  });

  test('without tokens the limit is per client address', async () => {
    const from = (remoteAddress: string) => cancel(open, { remoteAddress });
    assert.equal((await from('10.0.0.1')).statusCode, 404);
    assert.equal((await from('10.0.0.1')).statusCode, 404);
    assert.equal((await from('10.0.0.1')).statusCode, 429);
    assert.equal((await from('10.0.0.2')).statusCode, 404);
  });

  test('0 turns the limit off', async () => {
    const unlimited = await startTestDaemon(demoConfig(), { apiRateLimit: 0 });
    try {
      for (let i = 0; i < 40; i++) assert.equal((await cancel(unlimited)).statusCode, 404, `mutation ${i + 1}`);
    } finally {
      await unlimited.close();
    }
  });
});

describe('request body size', () => {
  let small: TestDaemon;
  let standard: TestDaemon;

  before(async () => {
    small = await startTestDaemon(demoConfig(), { apiBodyLimit: 16 * 1024 });
    standard = await startTestDaemon(demoConfig());
  });
  after(async () => {
    await small.close();
    await standard.close();
  });

  /** The running config, padded with a YAML comment to `bytes`. */
  const padded = (bytes: number): string => {
    const yaml = demoConfig();
    return `${yaml}#${'x'.repeat(bytes - yaml.length - 2)}\n`;
  };
  const put = (d: TestDaemon, body: string) =>
    fetch(`${d.apiUrl}/v1/config`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body });

  test('a body over the limit gets 413 naming the limit', async () => {
    const res = await put(small, padded(16 * 1024 + 1));
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), {
      error: 'body_too_large',
      message: "PUT /v1/config: the body is larger than the API's limit of 16384 bytes",
    });
    assert.equal((await put(small, padded(16 * 1024))).status, 200, 'a body of exactly the limit is taken');
  });

  test('by default a 3 MiB config is taken and a 5 MiB one is not', async () => {
    const taken = await put(standard, padded(3 * MiB));
    assert.equal(taken.status, 200, await taken.clone().text());
    const refused = await put(standard, padded(5 * MiB));
    assert.equal(refused.status, 413);
    assert.match(((await refused.json()) as { message: string }).message, /limit of 4194304 bytes/);
  });
});
