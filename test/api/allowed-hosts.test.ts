/**
 * DNS rebinding: a web page on a name its owner points at 127.0.0.1 calls the loopback API from
 * a browser, with its own name in Host. Without tokens the API answers only the Hosts it knows;
 * with tokens, any Host unless --api-allowed-hosts narrows them.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { runCli, startCli } from '../support/cli.js';
import { configFolder, type ConfigFolder } from '../support/config-folder.js';
import { demoConfig } from '../support/fleet-configs.js';

const ADMIN = 'hosts-admin-3c1f';

/** GET `path` over a real connection to `url`, with this Host header. */
function getWithHost(url: string, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { ...headers, host } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the Host allow-list', { timeout: 60_000 }, () => {
  const daemons: TestDaemon[] = [];
  let open: TestDaemon;
  let listed: TestDaemon;
  let tokens: TestDaemon;
  let tokensListed: TestDaemon;

  before(async () => {
    open = await startTestDaemon(demoConfig());
    listed = await startTestDaemon(demoConfig(), { apiAllowedHosts: ['drainplane.internal', '[fd00::7]'] });
    tokens = await startTestDaemon(demoConfig(), { apiTokens: { admin: [ADMIN] } });
    tokensListed = await startTestDaemon(demoConfig(), { apiTokens: { admin: [ADMIN] }, apiAllowedHosts: ['drainplane.internal'] });
    daemons.push(open, listed, tokens, tokensListed);
  });
  after(async () => {
    for (const d of daemons) await d.close();
  });

  test('without tokens, a Host that is not loopback is refused with 421 naming the host and the flag', async () => {
    const res = await getWithHost(open.apiUrl, '/v1/nodes', 'rebound.attacker.example:9902');
    assert.equal(res.status, 421);
    assert.equal(res.body.error, 'host_not_allowed');
    assert.match(res.body.message, /^GET \/v1\/nodes: this API does not answer to the Host "rebound\.attacker\.example"/);
    assert.match(res.body.message, /--api-allowed-hosts/);
    for (const path of ['/v1/drains', '/v1/config', '/metrics', '/ui/', '/openapi.json', '/no-such-path']) {
      assert.equal((await getWithHost(open.apiUrl, path, 'rebound.attacker.example')).status, 421, path);
    }
    const post = await open.daemon.api.inject({ method: 'POST', url: '/v1/drains/none/cancel', headers: { host: 'rebound.attacker.example' } });
    assert.equal(post.statusCode, 421);
  });

  test('without tokens, loopback names answer, with or without a port, in any case', async () => {
    const port = new URL(open.apiUrl).port;
    for (const host of ['localhost', `localhost:${port}`, 'LOCALHOST.', `127.0.0.1:${port}`, '127.0.0.1', `[::1]:${port}`, '[::1]']) {
      assert.equal((await getWithHost(open.apiUrl, '/v1/nodes', host)).status, 200, host);
    }
  });

  test('the probes answer whatever the Host', async () => {
    for (const path of ['/healthz', '/readyz']) {
      assert.equal((await getWithHost(open.apiUrl, path, 'pod-10-0-0-7.example')).status, 200, path);
    }
  });

  test('without tokens, the names of --api-allowed-hosts answer too, and no other', async () => {
    assert.equal((await getWithHost(listed.apiUrl, '/v1/nodes', 'drainplane.internal:9902')).status, 200);
    assert.equal((await getWithHost(listed.apiUrl, '/v1/nodes', '[fd00::7]:9902')).status, 200);
    assert.equal((await getWithHost(listed.apiUrl, '/v1/nodes', 'localhost')).status, 200);
    assert.equal((await getWithHost(listed.apiUrl, '/v1/nodes', 'drainplane.internal.attacker.example')).status, 421);
  });

  test('the --api-host address answers', async () => {
    const other = await startTestDaemon(demoConfig(), { apiHost: '127.0.0.2' });
    try {
      const url = `http://127.0.0.2:${other.daemon.apiPort}`;
      assert.equal((await getWithHost(url, '/v1/nodes', `127.0.0.2:${other.daemon.apiPort}`)).status, 200);
      assert.equal((await getWithHost(url, '/v1/nodes', '127.0.0.3')).status, 421);
    } finally {
      await other.close();
    }
  });

  test('with tokens any Host is answered, unless --api-allowed-hosts is given: then only those and loopback', async () => {
    const auth = { authorization: `Bearer ${ADMIN}` };
    assert.equal((await getWithHost(tokens.apiUrl, '/v1/nodes', 'drainplane.example.com', auth)).status, 200);
    assert.equal((await getWithHost(tokensListed.apiUrl, '/v1/nodes', 'drainplane.internal', auth)).status, 200);
    assert.equal((await getWithHost(tokensListed.apiUrl, '/v1/nodes', '127.0.0.1', auth)).status, 200);
    assert.equal((await getWithHost(tokensListed.apiUrl, '/v1/nodes', 'drainplane.example.com', auth)).status, 421);
  });
});

describe('drainplane serve --api-allowed-hosts', { timeout: 60_000 }, () => {
  let folder: ConfigFolder;
  before(async () => {
    folder = await configFolder('drainplane-hosts-');
  });
  after(() => folder.remove());

  test('names the API answers to besides loopback', async () => {
    const args = ['serve', '--config', folder.config, '--xds-port', '0', '--api-port', '0', '--state-dir', path.join(folder.dir, 'state')];
    const serve = startCli([...args, '--api-allowed-hosts', 'drainplane.internal, ops.example']);
    try {
      const started = await serve.waitForLog((l) => l['event'] === 'started', 30_000);
      const url = `http://127.0.0.1:${String(started['apiPort'])}`;
      assert.equal((await getWithHost(url, '/v1/drains', 'ops.example')).status, 200);
      assert.equal((await getWithHost(url, '/v1/drains', 'drainplane.internal:9902')).status, 200);
      assert.equal((await getWithHost(url, '/v1/drains', 'attacker.example')).status, 421);
    } finally {
      serve.child.kill('SIGKILL');
    }
  });

  test('an empty name or a URL is a usage error', async () => {
    for (const value of ['a,,b', 'http://drainplane.internal']) {
      const r = await runCli(['serve', '--config', folder.config, '--api-allowed-hosts', value]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--api-allowed-hosts takes host names separated by commas/);
    }
  });
});
