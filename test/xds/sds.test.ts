/**
 * Secrets over SDS, as an xDS client sees them (the @grpc/grpc-js-xds protos, an independent
 * decoder): served by name on ADS (SotW and Delta) and on the SDS service, with the files'
 * bytes inline; a rotation of the files is one Secret push and nothing else.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDeltaStream, openSotwStream, TYPE, type DecodedResource } from '../support/ads-client.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { SECRET_NAME, sdsConfig } from '../support/sds-config.js';
import { createTestPki, SecretVolume, type TestPki } from '../support/test-pki.js';

const QUIET_MS = 400;
const CLUSTER = 'tls-cluster';

describe('secrets over SDS', () => {
  let pki: TestPki;
  let d: TestDaemon;
  let volume: SecretVolume;
  const logs = captureLogs();

  /** The certificate and key a decoded Secret carries. */
  const material = (resource: DecodedResource): { cert: string; key: string } => {
    const tls = resource.message['tls_certificate'] as Record<string, Record<string, Buffer>>;
    return {
      cert: Buffer.from(tls['certificate_chain']!['inline_bytes']!).toString(),
      key: Buffer.from(tls['private_key']!['inline_bytes']!).toString(),
    };
  };

  before(async () => {
    pki = await createTestPki();
    volume = await SecretVolume.create(path.join(pki.dir, 'mounted'), await pki.issue('first', { sans: ['DNS:localhost'] }));
    d = await startTestDaemon(sdsConfig({ cluster: CLUSTER, port: 10443, certFile: volume.cert, keyFile: volume.key }), {
      logger: logs.logger,
    });
  });
  after(async () => {
    await d.close();
    await pki.close();
  });

  test('SotW ADS: the secret by name, with the files inline; a rotation pushes only the secret', async () => {
    const s = openSotwStream(d.xdsAddress, { node: { id: 'sotw-sds', cluster: CLUSTER } });
    try {
      s.send({ type_url: TYPE.LDS });
      s.ack(await s.next(TYPE.LDS));
      s.send({ type_url: TYPE.SDS, resource_names: [SECRET_NAME] });
      const first = await s.next(TYPE.SDS);
      assert.deepEqual(
        first.resources.map((r) => r.name),
        [SECRET_NAME],
      );
      assert.deepEqual(material(first.resources[0]!), { cert: await readFile(volume.cert, 'utf8'), key: await readFile(volume.key, 'utf8') });
      s.ack(first);
      await s.expectSilence(QUIET_MS);

      const next = await pki.issue('second', { sans: ['DNS:localhost'] });
      await volume.update(next);
      const rotated = await s.next(TYPE.SDS, 5_000);
      assert.deepEqual(material(rotated.resources[0]!), { cert: await readFile(next.cert, 'utf8'), key: await readFile(next.key, 'utf8') });
      s.ack(rotated);
      // No listener, cluster or route push came with it.
      await s.expectSilence(QUIET_MS);
      assert.deepEqual(s.violations(), []);
    } finally {
      s.close();
    }
  });

  test('serving private keys to any client that can reach the port is warned about at start', () => {
    assert.deepEqual(
      logs.withEvent('secrets_without_client_auth').map((e) => e['secrets']),
      [1],
    );
  });

  test('Delta ADS and the SDS service serve the same bytes', async () => {
    const delta = openDeltaStream(d.xdsAddress, { node: { id: 'delta-sds', cluster: CLUSTER } });
    const sds = openSotwStream(d.xdsAddress, { service: 'sds', node: { id: 'service-sds', cluster: CLUSTER } });
    try {
      delta.send({ type_url: TYPE.SDS, resource_names_subscribe: [SECRET_NAME] });
      const fromDelta = await delta.next(TYPE.SDS);
      sds.send({ resource_names: [SECRET_NAME] });
      const fromService = await sds.next(TYPE.SDS);
      assert.equal(fromDelta.resources.length, 1);
      assert.ok(fromDelta.resources[0]!.resource.bytes.equals(fromService.resources[0]!.bytes));
      assert.equal(material(fromService.resources[0]!).cert, await readFile(volume.cert, 'utf8'));
    } finally {
      delta.close();
      sds.close();
    }
  });
});
