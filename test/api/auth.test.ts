/**
 * API tokens: read and admin scopes, which routes need which, rotation through the tokens
 * file, and no CORS.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { changeHeaders } from '../support/api-request.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { demoConfig } from '../support/fleet-configs.js';
import { captureLogs } from '../support/log-capture.js';

const READ = 'read-7f3c';
const ADMIN = 'admin-91be';
const ENV_READ = 'env-read-55d0';

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: { error?: string; message?: string };
}

function caller(d: TestDaemon) {
  return async (method: InjectOptions['method'], url: string, token?: string, extra: InjectOptions = {}): Promise<Answer> => {
    const res = await d.daemon.api.inject({
      method,
      url,
      ...extra,
      headers: { ...changeHeaders(String(method)), ...(token !== undefined && { authorization: `Bearer ${token}` }), ...extra.headers },
    });
    let body: Answer['body'] = {};
    try {
      body = res.json();
    } catch {
      // Not JSON (the metrics text): the status is what matters.
    }
    return { status: res.statusCode, headers: res.headers, body };
  };
}

describe('API token scopes', { timeout: 30_000 }, () => {
  let dir: string;
  let tokensFile: string;
  let d: TestDaemon;
  let call: ReturnType<typeof caller>;
  const logs = captureLogs();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'drainplane-tokens-'));
    tokensFile = path.join(dir, 'tokens');
    await writeFile(tokensFile, `# API tokens\nread ${READ}\n\nadmin ${ADMIN}\n`);
    d = await startTestDaemon(demoConfig(), { apiTokens: { file: tokensFile, read: [ENV_READ] }, logger: logs.logger });
    call = caller(d);
  });
  after(async () => {
    await d.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a read route: 401 without a token or with an unknown one; a read or admin token reads', async () => {
    const none = await call('GET', '/v1/nodes');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.deepEqual(none.body, { error: 'unauthorized', message: 'GET /v1/nodes needs "Authorization: Bearer <read or admin token>"' });
    const unknown = await call('GET', '/v1/nodes', 'guess');
    assert.equal(unknown.status, 401);
    assert.equal(unknown.headers['www-authenticate'], 'Bearer');
    assert.match(unknown.body.message!, /^GET \/v1\/nodes: the bearer token is not one drainplane knows; this route needs a read or admin token$/);
    assert.equal((await call('GET', '/v1/nodes', READ)).status, 200);
    assert.equal((await call('GET', '/v1/nodes', ENV_READ)).status, 200);
    assert.equal((await call('GET', '/v1/nodes', ADMIN)).status, 200);
  });

  test('a mutating route: a read token gets 403 naming the scope needed; the admin token passes', async () => {
    const body = { selector: { ids: ['no-such-node'] }, scope: 'ingress', method: 'modify' };
    const none = await call('POST', '/v1/drains', undefined, { payload: body });
    assert.equal(none.status, 401);
    assert.equal(none.body.message, 'POST /v1/drains needs "Authorization: Bearer <admin token>"');
    assert.equal((await call('POST', '/v1/drains', 'guess', { payload: body })).status, 401);
    const read = await call('POST', '/v1/drains', READ, { payload: body });
    assert.equal(read.status, 403);
    assert.deepEqual(read.body, { error: 'forbidden', message: 'POST /v1/drains needs an admin token; this token has the read scope' });
    assert.equal(d.daemon.drains.list().length, 0, 'a refused request changes nothing');
    const admin = await call('POST', '/v1/drains', ADMIN, { payload: body });
    assert.equal(admin.status, 201);
  });

  test('probes stay open; /metrics and /openapi.json need a token like any read', async () => {
    assert.equal((await call('GET', '/healthz')).status, 200);
    assert.equal((await call('GET', '/readyz')).status, 200);
    for (const url of ['/metrics', '/openapi.json', '/v1/no-such-route']) {
      assert.equal((await call('GET', url)).status, 401, url);
    }
    assert.equal((await call('GET', '/metrics', READ)).status, 200);
    assert.equal((await call('GET', '/openapi.json', READ)).status, 200);
  });

  test('GET /v1/prestop: open from loopback (the exec hook), admin from anywhere else', async () => {
    assert.equal((await call('GET', '/v1/prestop')).status, 200);
    const remote = { remoteAddress: '10.1.2.3' };
    const none = await call('GET', '/v1/prestop', undefined, remote);
    assert.equal(none.status, 401);
    assert.equal(none.body.message, 'GET /v1/prestop needs "Authorization: Bearer <admin token>"');
    assert.equal((await call('GET', '/v1/prestop', READ, remote)).status, 403);
    assert.equal((await call('GET', '/v1/prestop', ADMIN, remote)).status, 200);
    // A forwarding header does not make a remote caller local.
    assert.equal((await call('GET', '/v1/prestop', undefined, { ...remote, headers: { 'x-forwarded-for': '127.0.0.1' } })).status, 401);
  });

  test('GET /v1/prestop from a web page is refused, even from loopback: a page cannot drain the pod with an <img>', async () => {
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'http://evil.example' }]) {
      const refused = await call('GET', '/v1/prestop', undefined, { headers });
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.equal(refused.body.error, 'cross_site_prestop');
    }
    assert.equal((await call('GET', '/v1/prestop', undefined, { headers: { 'sec-fetch-site': 'none' } })).status, 200, 'typed into the address bar');
  });

  test('an address with 30 failed token checks in a minute gets 429 with Retry-After, even with a right token; others do not', async () => {
    const guesser = { remoteAddress: '10.9.9.9' };
    for (let i = 0; i < 30; i++) assert.equal((await call('GET', '/v1/nodes', `guess-${i}`, guesser)).status, 401);
    const blocked = await call('GET', '/v1/nodes', READ, guesser);
    assert.equal(blocked.status, 429, 'a right token is not told apart from a wrong one while blocked');
    assert.equal(blocked.body.error, 'rate_limited');
    assert.match(blocked.body.message!, /^GET \/v1\/nodes: too many requests with a missing or unknown token from 10\.9\.9\.9; retry in \d+ s$/);
    assert.ok(Number(blocked.headers['retry-after']) > 0 && Number(blocked.headers['retry-after']) <= 60);
    assert.equal((await call('GET', '/v1/nodes', READ, { remoteAddress: '10.9.9.10' })).status, 200, 'another address');
    assert.equal((await call('GET', '/healthz', undefined, guesser)).status, 200, 'probes stay open');
  });

  test('no CORS: no Access-Control-Allow-* header, even on a preflight', async () => {
    const origin = { origin: 'https://evil.example' };
    const answers = [
      await call('OPTIONS', '/v1/drains', undefined, {
        headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      }),
      await call('OPTIONS', '/v1/drains', ADMIN, { headers: { ...origin, 'access-control-request-method': 'POST' } }),
      await call('GET', '/v1/nodes', READ, { headers: origin }),
      await call('GET', '/healthz', undefined, { headers: origin }),
    ];
    for (const a of answers) {
      assert.deepEqual(
        Object.keys(a.headers).filter((h) => h.startsWith('access-control-')),
        [],
        JSON.stringify(a.headers),
      );
    }
  });

  test('a changed tokens file takes effect; a bad one keeps the tokens in force and logs file:line', async () => {
    await writeFile(tokensFile, `read ${READ}-next\nadmin ${ADMIN}-next\n`);
    await waitUntil('the new read token to be accepted', async () => (await call('GET', '/v1/nodes', `${READ}-next`)).status === 200, 10_000);
    assert.equal((await call('GET', '/v1/nodes', READ)).status, 401, 'the old read token is gone');
    assert.equal((await call('GET', '/v1/nodes', ENV_READ)).status, 200, 'tokens from the environment stay');
    assert.equal((await call('POST', '/v1/drains/none/cancel', ADMIN)).status, 401);
    assert.equal((await call('POST', '/v1/drains/none/cancel', `${ADMIN}-next`)).status, 404);

    await writeFile(tokensFile, `read ${READ}-third\nwrite oops\n`);
    await waitUntil('the bad tokens file to be rejected', () => logs.withEvent('api_tokens_rejected').length > 0, 10_000);
    const [rejected] = logs.withEvent('api_tokens_rejected');
    assert.equal(rejected!['level'], 50);
    assert.match(String(rejected!['msg']), new RegExp(`${tokensFile}:2: unknown scope "write"`));
    assert.equal((await call('GET', '/v1/nodes', `${READ}-next`)).status, 200, 'the tokens in force stay');
    assert.equal((await call('GET', '/v1/nodes', `${READ}-third`)).status, 401, 'nothing of the bad file applies');
  });
});

describe('API without tokens', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon(demoConfig());
  });
  after(() => d.close());

  test('reads and changes need no token, as before tokens existed', async () => {
    const call = caller(d);
    assert.equal((await call('GET', '/v1/nodes')).status, 200);
    assert.equal((await call('POST', '/v1/drains/none/cancel')).status, 404);
    assert.equal((await call('GET', '/v1/prestop', undefined, { remoteAddress: '10.1.2.3' })).status, 200);
  });
});
