import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { openSotwStream, TYPE } from '../support/ads-client.js';
import { apiRequest } from '../support/api-request.js';
import { runCli, startCli } from '../support/cli.js';
import { configFolder, type ConfigFolder } from '../support/config-folder.js';
import { demoConfig } from '../support/fleet-configs.js';

describe('drainplane CLI', { timeout: 60_000 }, () => {
  let dir: string;
  let good: string;
  let bad: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'drainplane-cli-'));
    good = path.join(dir, 'good.yaml');
    bad = path.join(dir, 'bad.yaml');
    await writeFile(good, demoConfig());
    await writeFile(bad, demoConfig().replace('port_value: 10000', 'port_value: -1').replace('connect_timeout: 1s', 'connect_timeout: 1 second'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('validate: a good file gives a summary with roles and drain types', async () => {
    const r = await runCli(['validate', '--config', good]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid, 1 group/);
    assert.match(r.stdout, /listener ingress_http: ingress, drain_type DEFAULT/);
    assert.match(r.stdout, /listener egress_http: egress, drain_type MODIFY_ONLY/);
  });

  test('validate: a bad file exits 1 listing every error with its file and path', async () => {
    const r = await runCli(['validate', '--config', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yaml:8:\d+: groups\[0\]\.listeners\[0\]\.address\.socket_address\.port_value: .*/);
    assert.match(r.stderr, /bad\.yaml:\d+:\d+: groups\[0\]\.clusters\[0\]\.connect_timeout: .*/);
    assert.match(r.stderr, /2 error\(s\)/);
  });

  test('unknown commands and flags are named', async () => {
    const r = await runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    const f = await runCli(['validate', '--config', good, '--colour']);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /--colour/);
  });

  test('serve, then render prints exactly the bytes the server sends; SIGTERM stops it gracefully', async () => {
    const serve = startCli(['serve', '--config', good, '--xds-port', '0', '--api-port', '0', '--state-dir', path.join(dir, 'state')]);
    try {
      const started = await serve.waitForLog((l) => l['event'] === 'started');
      assert.equal(typeof started['xdsPort'], 'number');
      assert.equal(typeof started['apiPort'], 'number');

      const s = openSotwStream(`127.0.0.1:${started['xdsPort'] as number}`, { node: { id: 'render-me', cluster: 'test-cluster' } });
      s.send({ type_url: TYPE.LDS });
      const served = await s.next(TYPE.LDS);
      await serve.waitForLog((l) => l['event'] === 'push' && l['node'] === 'render-me');

      const r = await runCli(['render', '--config', good, '--node-id', 'render-me', '--node-cluster', 'test-cluster']);
      assert.equal(r.code, 0, r.stderr);
      const rendered = JSON.parse(r.stdout) as Record<string, unknown[]>;
      const protos = envoyProtos();
      const listenerType = protos.type('envoy.config.listener.v3.Listener');
      const reencoded = rendered[TYPE.LDS]!.map((json) => {
        const e = encodeJson(protos, listenerType, json);
        assert.ok(e.ok);
        return Buffer.from(e.value);
      });
      assert.deepEqual(
        reencoded,
        served.resources.map((res) => res.bytes),
      );

      const yaml = await runCli(['render', '--config', good, '--node-id', 'x', '--node-cluster', 'test-cluster', '--format', 'yaml']);
      assert.match(yaml.stdout, /type\.googleapis\.com\/envoy\.config\.listener\.v3\.Listener:/);

      serve.child.kill('SIGTERM');
      const closed = await s.closed;
      assert.equal(closed.code, 0, 'the stream is ended with OK, not reset');
      assert.equal(await serve.exited, 0);
      assert.ok(serve.logs.some((l) => l['event'] === 'stopped'));
    } finally {
      serve.child.kill('SIGKILL');
    }
  });

  test('serve refuses an API beyond loopback without a token', async () => {
    const r = await runCli(['serve', '--config', good, '--api-host', '0.0.0.0', '--xds-port', '0', '--api-port', '0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /refusing to serve the API on 0\.0\.0\.0 without a token/);
  });

  test('render: a node that matches no group is an error, not an empty config', async () => {
    const r = await runCli(['render', '--config', good, '--node-id', 'x', '--node-cluster', 'elsewhere']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /matches no group/);
  });
});

describe('drainplane serve: tokens file and limit flags', { timeout: 60_000 }, () => {
  let dir: string;
  let good: string;
  let folder: ConfigFolder;

  before(async () => {
    folder = await configFolder('drainplane-cli-', demoConfig(), 'good.yaml');
    ({ dir, config: good } = folder);
  });
  after(() => folder.remove());

  test('serve names the file and line of a bad API tokens file, and exits 1', async () => {
    const tokens = path.join(dir, 'tokens');
    await writeFile(tokens, 'read r-1\nwrite w-1\n');
    const r = await runCli(['serve', '--config', good, '--api-tokens-file', tokens, '--xds-port', '0', '--api-port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`1 error\\(s\\) in the API tokens file:\\n  ${tokens}:2: unknown scope "write" \\(read or admin\\)`));
    const both = await runCli(['serve', '--config', good, '--api-tokens-file', tokens, '--api-token-file', tokens]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --api-tokens-file or its alias --api-token-file, not both/);
  });

  test('serve takes a one-token file (--api-token-file) as admin and DRAINPLANE_READ_TOKEN as read', async () => {
    const legacy = path.join(dir, 'token');
    await writeFile(legacy, 'legacy-admin-1\n');
    const args = [
      'serve',
      '--config',
      good,
      '--api-token-file',
      legacy,
      '--xds-port',
      '0',
      '--api-port',
      '0',
      '--state-dir',
      path.join(dir, 'state'),
    ];
    const serve = startCli(args, { DRAINPLANE_READ_TOKEN: 'env-read-1' });
    try {
      const started = await serve.waitForLog((l) => l['event'] === 'started', 30_000);
      assert.equal(started['apiAuth'], 'bearer tokens');
      const url = `http://127.0.0.1:${String(started['apiPort'])}`;
      const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
      assert.equal((await fetch(`${url}/v1/nodes`, as('env-read-1'))).status, 200);
      const cancel = (token: string) => fetch(`${url}/v1/drains/none/cancel`, apiRequest('POST', undefined, as(token).headers));
      assert.equal((await cancel('env-read-1')).status, 403);
      assert.equal((await cancel('legacy-admin-1')).status, 404);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  });

  test('serve checks its limit flags', async () => {
    const r = await runCli(['serve', '--config', good, '--xds-max-queued-bytes', '1.5']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--xds-max-queued-bytes must be a whole number of at least 1, got "1\.5"/);
  });
});
