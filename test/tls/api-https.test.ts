import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CertificateFiles } from '../../src/tls/certificate-files.js';
import { openSotwStream, TYPE, type SotwStream } from '../support/ads-client.js';
import { runCli } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { demoConfig } from '../support/fleet-configs.js';
import { captureLogs, type CapturedLogs } from '../support/log-capture.js';
import { createTestPki, SecretVolume, servedSerial, type TestPki } from '../support/test-pki.js';

const SERVER_SANS = ['DNS:localhost', 'IP:127.0.0.1'];

describe('the API over HTTPS', () => {
  let pki: TestPki;
  let secret: SecretVolume;
  let ca: Buffer;
  let logs: CapturedLogs;
  let d: TestDaemon;
  let node: SotwStream;
  let apiUrl: string;

  before(async () => {
    pki = await createTestPki();
    secret = await SecretVolume.create(path.join(pki.dir, 'secret'), await pki.issue('api', { sans: SERVER_SANS, serial: 'C1' }));
    ca = await readFile(pki.caCert);
    logs = captureLogs();
    d = await startTestDaemon(demoConfig(), { logger: logs.logger, apiTls: await CertificateFiles.load(secret, logs.logger) });
    apiUrl = `https://127.0.0.1:${d.daemon.apiPort}`;
    node = openSotwStream(d.xdsAddress, { node: { id: 'envoy-1', cluster: 'test-cluster' } });
    node.send({ type_url: TYPE.LDS });
    node.ack(await node.next(TYPE.LDS, 10_000));
  });
  after(async () => {
    node?.close();
    await d?.close();
    await pki?.close();
  });

  test('drainplane nodes --api https://... --ca-file lists the nodes', async () => {
    const r = await runCli(['nodes', '--api', apiUrl, '--ca-file', pki.caCert]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^envoy-1\s+test-cluster\s+yes/m);
  });

  test('without the private CA, the CLI says which flag would make it trust the API', async () => {
    const r = await runCli(['nodes', '--api', apiUrl]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot reach the API at https:\/\/127\.0\.0\.1:\d+\/: .*--ca-file or DRAINPLANE_CA_FILE/);
  });

  test('a renewed certificate (a Kubernetes Secret update) is served to new connections without a restart', async () => {
    assert.equal(await servedSerial(d.daemon.apiPort, ca), 'C1');
    await secret.update(await pki.issue('api-next', { sans: SERVER_SANS, serial: 'C2' }));
    await waitUntil('the API to serve the renewed certificate', () => logs.withEvent('tls_reloaded').length > 0, 20_000);
    assert.equal(await servedSerial(d.daemon.apiPort, ca), 'C2');
    const r = await runCli(['nodes', '--api', apiUrl, '--ca-file', pki.caCert]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a key that does not match the new certificate is logged, and the certificate in use stays', async () => {
    const before = logs.withEvent('tls_reload_failed').length;
    const certificate = await pki.issue('stray-cert', { sans: SERVER_SANS, serial: 'C3' });
    const key = await pki.issue('stray-key', { sans: SERVER_SANS, serial: 'C4' });
    await secret.update({ cert: certificate.cert, key: key.key });
    await waitUntil('the failed reload to be logged', () => logs.withEvent('tls_reload_failed').length > before, 20_000);
    const failure = logs.withEvent('tls_reload_failed').at(-1)!;
    assert.equal(failure['file'], secret.key);
    assert.match(String(failure['error']), /is not the private key of the certificate in/);
    assert.equal(failure['serialNumber'], 'C2');
    assert.equal(await servedSerial(d.daemon.apiPort, ca), 'C2');
  });
});
