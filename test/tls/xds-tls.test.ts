import assert from 'node:assert/strict';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CertificateFiles } from '../../src/tls/certificate-files.js';
import { nodeIdentityAuthorizer } from '../../src/tls/node-identity.js';
import { openSotwStream, TYPE, type SotwStream } from '../support/ads-client.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { openEnvoyMetricsStream } from '../support/envoy-metrics-client.js';
import { demoConfig } from '../support/fleet-configs.js';
import { captureLogs, type CapturedLogs } from '../support/log-capture.js';
import { createTestPki, servedSerial, type CertFiles, type TestPki } from '../support/test-pki.js';

const IDENTITY = 'spiffe://cluster.local/ns/*/sa/{node.id}';
const SERVER_SANS = ['DNS:localhost', 'IP:127.0.0.1'];
/** The server certificate names localhost too; SNI may not carry an IP address (RFC 6066). */
const AS_LOCALHOST = { 'grpc.ssl_target_name_override': 'localhost' };

describe('xDS over mutual TLS with node identities', () => {
  let pki: TestPki;
  let server: CertFiles;
  let ca: Buffer;
  let logs: CapturedLogs;
  let d: TestDaemon;
  const streams: SotwStream[] = [];

  /** Channel credentials trusting the test CA, with the client certificate named `client`, if any. */
  async function credentials(client?: string): Promise<grpc.ChannelCredentials> {
    if (client === undefined) return grpc.credentials.createSsl(ca);
    const files = { cert: path.join(pki.dir, `${client}.crt`), key: path.join(pki.dir, `${client}.key`) };
    return grpc.credentials.createSsl(ca, await readFile(files.key), await readFile(files.cert));
  }

  async function open(nodeId: string, client?: string): Promise<SotwStream> {
    const s = openSotwStream(d.xdsAddress, {
      node: { id: nodeId, cluster: 'test-cluster' },
      credentials: await credentials(client),
      channelOptions: AS_LOCALHOST,
    });
    streams.push(s);
    s.send({ type_url: TYPE.LDS });
    return s;
  }

  before(async () => {
    pki = await createTestPki();
    server = await pki.issue('server', { sans: SERVER_SANS, serial: 'A1' });
    await pki.issue('envoy-1', { sans: ['URI:spiffe://cluster.local/ns/edge/sa/envoy-1'] });
    await pki.issue('envoy-2', { sans: ['URI:spiffe://cluster.local/ns/edge/sa/envoy-2', 'DNS:envoy-2.edge.svc'] });
    ca = await readFile(pki.caCert);
    logs = captureLogs();
    d = await startTestDaemon(demoConfig(), {
      logger: logs.logger,
      xdsTls: await CertificateFiles.load({ ...server, ca: pki.caCert }, logs.logger),
      authorizeNode: nodeIdentityAuthorizer(IDENTITY),
    });
  });
  after(async () => {
    for (const s of streams) s.close();
    await d?.close();
    await pki?.close();
  });

  test('a node whose certificate names it gets its listeners', async () => {
    const s = await open('envoy-1', 'envoy-1');
    const lds = await s.next(TYPE.LDS, 10_000);
    assert.deepEqual(lds.resources.map((r) => r.name).sort(), ['egress_http', 'ingress_http']);
    s.ack(lds);
    assert.equal(d.daemon.nodes.get('envoy-1')?.connected, true);
  });

  test('a client without a certificate cannot connect, and no node appears', async () => {
    const s = await open('anonymous');
    const status = await s.closed;
    assert.equal(status.code, grpc.status.UNAVAILABLE, status.details);
    assert.equal(s.responses.length, 0);
    assert.equal(d.daemon.nodes.get('anonymous'), undefined);
  });

  test('a certificate of another node: PERMISSION_DENIED before any response, logged with both identities', async () => {
    const s = await open('envoy-3', 'envoy-2');
    const status = await s.closed;
    assert.equal(status.code, grpc.status.PERMISSION_DENIED);
    assert.match(status.details, /envoy-2\.edge\.svc/);
    assert.equal(s.responses.length, 0);
    assert.equal(d.daemon.nodes.get('envoy-3'), undefined, 'a refused node is never listed');
    const refused = logs.withEvent('node_refused');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!['node'], 'envoy-3');
    assert.match(String(refused[0]!['reason']), /spiffe:\/\/cluster\.local\/ns\/edge\/sa\/envoy-2/);
    assert.match(String(refused[0]!['reason']), /spiffe:\/\/cluster\.local\/ns\/\*\/sa\/envoy-3/);
  });

  test('the metrics service sink gets the same check: no one reports connections for another node', async () => {
    const impostor = openEnvoyMetricsStream(d.xdsAddress, 'envoy-1', await credentials('envoy-2'), AS_LOCALHOST);
    impostor.send({ listeners: { '127.0.0.1_10000': 0 } }, { tagsAsLabels: true });
    const status = await impostor.closed;
    assert.equal(status.code, grpc.status.PERMISSION_DENIED);
    assert.match(status.details, /node "envoy-1" refused/);

    const own = openEnvoyMetricsStream(d.xdsAddress, 'envoy-1', await credentials('envoy-1'), AS_LOCALHOST);
    own.send({ listeners: { '127.0.0.1_10000': 3 } }, { tagsAsLabels: true });
    await waitUntil('envoy-1 to report its connections', () => logs.withEvent('metrics_connected').length > 0, 20_000);
    assert.deepEqual(
      logs.withEvent('metrics_connected').map((l) => l['node']),
      ['envoy-1'],
    );
    assert.equal((await own.close()).code, grpc.status.OK);
  });

  test('a rotated server certificate reaches new connections; an open stream keeps its session and its pushes', async () => {
    const s = await open('envoy-1', 'envoy-1');
    s.ack(await s.next(TYPE.LDS, 10_000));
    const client = { cert: await readFile(path.join(pki.dir, 'envoy-1.crt')), key: await readFile(path.join(pki.dir, 'envoy-1.key')) };
    assert.equal(await servedSerial(d.daemon.xdsPort, ca, client), 'A1');

    // As cert-manager and kubelet do: the new files appear whole, by rename.
    const next = await pki.issue('server-next', { sans: SERVER_SANS, serial: 'B2' });
    await rename(next.key, server.key);
    await rename(next.cert, server.cert);
    await waitUntil('the renewed certificate to be loaded', () => logs.withEvent('tls_reloaded').length > 0, 20_000);
    assert.equal(await servedSerial(d.daemon.xdsPort, ca, client), 'B2');
    assert.equal(logs.withEvent('tls_reloaded').at(-1)?.['serialNumber'], 'B2');

    await d.rewrite(demoConfig({ listenerTag: 'after-rotation' }));
    const pushed = await s.next(TYPE.LDS, 10_000);
    assert.ok(JSON.stringify(pushed.resources[0]!.message).includes('after-rotation'));
    s.ack(pushed);

    const fresh = await open('envoy-1', 'envoy-1');
    assert.equal((await fresh.next(TYPE.LDS, 10_000)).resources.length, 2);
  });
});

describe('xDS over TLS without client certificates', () => {
  let pki: TestPki;
  let d: TestDaemon;
  const streams: SotwStream[] = [];

  before(async () => {
    pki = await createTestPki();
    const logger = captureLogs().logger;
    const server = await pki.issue('server', { sans: SERVER_SANS });
    d = await startTestDaemon(demoConfig(), { logger, xdsTls: await CertificateFiles.load(server, logger) });
  });
  after(async () => {
    for (const s of streams) s.close();
    await d?.close();
    await pki?.close();
  });

  test('a client that trusts the CA gets its listeners; a plaintext client gets nothing', async () => {
    const secure = openSotwStream(d.xdsAddress, {
      node: { id: 'envoy-1', cluster: 'test-cluster' },
      credentials: grpc.credentials.createSsl(await readFile(pki.caCert)),
      channelOptions: AS_LOCALHOST,
    });
    const plain = openSotwStream(d.xdsAddress, { node: { id: 'envoy-2', cluster: 'test-cluster' } });
    streams.push(secure, plain);
    secure.send({ type_url: TYPE.LDS });
    plain.send({ type_url: TYPE.LDS });
    assert.equal((await secure.next(TYPE.LDS, 10_000)).resources.length, 2);
    assert.equal((await plain.closed).code, grpc.status.UNAVAILABLE);
    assert.equal(plain.responses.length, 0);
  });
});
