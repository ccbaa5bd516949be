/**
 * Secrets across replicas sharing one etcd. The config names its certificate by a relative
 * path, so each replica reads its own copy (as each pod mounts the Secret); one replica has the
 * files, the other none. Both serve the same Secret; a rotation seen by the first (its Secret
 * volume updated) reaches the nodes of both, as an SDS push alone. Run with `npm run test:ha`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSotwStream, TYPE, type SotwResponse, type SotwStream } from '../support/ads-client.js';
import { etcdInstalled, NO_ETCD, TestEtcd } from '../support/etcd.js';
import { Replica } from '../support/replicas.js';
import { SECRET_NAME, sdsConfig } from '../support/sds-config.js';
import { createTestPki, SecretVolume, type TestPki } from '../support/test-pki.js';

const CLUSTER = 'tls-cluster';

describe('secrets across replicas', { skip: etcdInstalled() ? false : NO_ETCD, timeout: 180_000 }, () => {
  let etcd: TestEtcd;
  let pki: TestPki;
  const replicas: Replica[] = [];
  const streams: SotwStream[] = [];

  before(async () => {
    etcd = await TestEtcd.start();
    pki = await createTestPki();
  });
  after(async () => {
    for (const s of streams) s.close();
    await Promise.all(replicas.map((r) => r.stop()));
    await etcd?.close();
    await pki?.close();
  });

  /** The certificate a Secret response carries. */
  const certificate = (res: SotwResponse): string =>
    Buffer.from(
      (res.resources[0]!.message['tls_certificate'] as Record<string, Record<string, Buffer>>)['certificate_chain']!['inline_bytes']!,
    ).toString();

  test('a replica without the files serves the one that has them, and a rotation reaches both', async () => {
    const config = sdsConfig({ cluster: CLUSTER, port: 10443, certFile: 'tls/tls.crt', keyFile: 'tls/tls.key' });
    const first = await pki.issue('first', { sans: ['DNS:localhost'] });
    let volume: SecretVolume | undefined;
    const withFiles = await Replica.start({
      id: 'r-files',
      configYaml: config,
      etcd: etcd.endpoint,
      prefix: '/sds/',
      prepare: async (dir) => {
        volume = await SecretVolume.create(path.join(dir, 'tls'), first);
      },
    });
    replicas.push(withFiles);
    const without = await Replica.start({ id: 'r-none', configYaml: config, etcd: etcd.endpoint, prefix: '/sds/' });
    replicas.push(without);

    const subscribe = async (on: Replica, id: string): Promise<{ stream: SotwStream; secret: SotwResponse }> => {
      const stream = openSotwStream(on.xdsAddress, { node: { id, cluster: CLUSTER } });
      streams.push(stream);
      stream.send({ type_url: TYPE.LDS });
      stream.ack(await stream.next(TYPE.LDS, 10_000));
      stream.send({ type_url: TYPE.SDS, resource_names: [SECRET_NAME] });
      const secret = await stream.next(TYPE.SDS, 10_000);
      stream.ack(secret);
      return { stream, secret };
    };
    const a = await subscribe(withFiles, 'node-a');
    const b = await subscribe(without, 'node-b');
    assert.equal(certificate(a.secret), await readFile(first.cert, 'utf8'));
    assert.equal(certificate(b.secret), certificate(a.secret), 'the replica without files serves the same certificate');
    assert.equal(b.secret.version_info, a.secret.version_info, 'and the same version');

    const second = await pki.issue('second', { sans: ['DNS:localhost'] });
    await volume!.update(second);
    for (const { stream } of [a, b]) {
      const rotated = await stream.next(TYPE.SDS, 15_000);
      stream.ack(rotated);
      assert.equal(certificate(rotated), await readFile(second.cert, 'utf8'));
      // A Secret push alone: no listener change came with it.
      await stream.expectSilence(500);
    }
  });
});
