import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { openSotwStream, TYPE } from '../support/ads-client.js';
import { runCli, startCli } from '../support/cli.js';
import { createTestPki, type CertFiles, type TestPki } from '../support/test-pki.js';

const DEMO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../envoy/drainplane.yaml');

describe('drainplane serve: TLS flags', () => {
  let pki: TestPki;
  let server: CertFiles;
  let client: CertFiles;

  before(async () => {
    pki = await createTestPki();
    server = await pki.issue('server', { sans: ['DNS:localhost', 'IP:127.0.0.1'] });
    client = await pki.issue('envoy-1', { sans: ['DNS:envoy-1'] });
  });
  after(() => pki?.close());

  test('serves HTTPS and mutual TLS with the node id as identity; the CLI trusts the CA from DRAINPLANE_CA_FILE', async () => {
    const serve = startCli([
      'serve',
      '--config',
      DEMO,
      '--state-dir',
      path.join(pki.dir, 'state'),
      '--xds-port',
      '0',
      '--api-port',
      '0',
      '--api-tls-cert',
      server.cert,
      '--api-tls-key',
      server.key,
      '--xds-tls-cert',
      server.cert,
      '--xds-tls-key',
      server.key,
      '--xds-tls-ca',
      pki.caCert,
      '--xds-node-identity',
      '{node.id}',
    ]);
    try {
      const started = await serve.waitForLog((l) => l['event'] === 'started', 30_000);
      const stream = openSotwStream(`127.0.0.1:${started['xdsPort'] as number}`, {
        node: { id: 'envoy-1', cluster: 'demo' },
        credentials: grpc.credentials.createSsl(await readFile(pki.caCert), await readFile(client.key), await readFile(client.cert)),
        channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
      });
      stream.send({ type_url: TYPE.LDS });
      assert.equal((await stream.next(TYPE.LDS, 10_000)).resources.length, 2);
      stream.close();

      const nodes = await runCli(['nodes', '--api', `https://127.0.0.1:${started['apiPort'] as number}`], 20_000, {
        DRAINPLANE_CA_FILE: pki.caCert,
      });
      assert.equal(nodes.code, 0, nodes.stderr);
      assert.match(nodes.stdout, /^envoy-1\s+demo/m);
    } finally {
      serve.child.kill('SIGKILL');
    }
  });

  test('a missing certificate file stops the start with the flag and the file named', async () => {
    const missing = path.join(pki.dir, 'nowhere.crt');
    const r = await runCli(['serve', '--config', DEMO, '--xds-port', '0', '--api-port', '0', '--xds-tls-cert', missing, '--xds-tls-key', server.key]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`--xds-tls-cert: cannot read ${missing.replace(/[.]/g, '\\.')}: ENOENT`));
  });

  test('a key of another certificate is named as the wrong key', async () => {
    const r = await runCli([
      'serve',
      '--config',
      DEMO,
      '--xds-port',
      '0',
      '--api-port',
      '0',
      '--api-tls-cert',
      server.cert,
      '--api-tls-key',
      client.key,
    ]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`--api-tls-key: ${client.key} is not the private key of the certificate in ${server.cert}`), r.stderr);
  });

  test('flags that make no sense alone are refused', async () => {
    const serve = (...flags: string[]) => runCli(['serve', '--config', DEMO, '--xds-port', '0', '--api-port', '0', ...flags]);
    const cases: [string[], RegExp][] = [
      [['--api-tls-cert', server.cert], /--api-tls-cert and --api-tls-key go together/],
      [['--xds-tls-ca', pki.caCert], /--xds-tls-ca needs --xds-tls-cert and --xds-tls-key/],
      [['--xds-tls-cert', server.cert, '--xds-tls-key', server.key, '--xds-node-identity', '{node.id}'], /--xds-node-identity needs mutual TLS/],
      [
        ['--xds-tls-cert', server.cert, '--xds-tls-key', server.key, '--xds-tls-ca', pki.caCert, '--xds-node-identity', 'spiffe://x/{node.name}'],
        /--xds-node-identity: unknown placeholder \{node\.name\}/,
      ],
    ];
    for (const [flags, message] of cases) {
      const r = await serve(...flags);
      assert.equal(r.code, 2, flags.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
