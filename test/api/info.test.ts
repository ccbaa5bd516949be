/**
 * Which Envoy API drainplane is built on, as its two outsides tell it: `drainplane --version`
 * and `GET /v1/info`. Both read package.json and the installed descriptor set's info.json.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildInfo } from '../../src/resource/envoy-api.js';
import { runCli } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';

describe('the version and the Envoy API drainplane reports', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon(demoConfig());
  });
  after(() => d.close());

  test('drainplane --version: the package version, then the Envoy API release, module and commit', async () => {
    const info = buildInfo();
    assert.ok(info.envoyApi.installed);
    const r = await runCli(['--version']);
    assert.equal(r.code, 0, r.stderr);
    const [first, second] = r.stdout.trimEnd().split('\n');
    assert.equal(first, `drainplane ${info.version}`);
    assert.equal(
      second,
      `Envoy API ${info.envoyApi.version} (${info.envoyApi.module}, envoyproxy/envoy@${info.envoyApi.envoyCommit!.slice(0, 12)}, ${info.envoyApi.files} proto files)`,
    );
  });

  test('GET /v1/info answers the same', async () => {
    const res = await fetch(`${d.apiUrl}/v1/info`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, any>;
    const info = buildInfo();
    assert.deepEqual(body, JSON.parse(JSON.stringify(info)));
    assert.match(body['envoyApi']['sha256'], /^[0-9a-f]{64}$/);
  });
});
