/**
 * A certificate rotation served over SDS to a real Envoy, over SotW and Delta ADS: the HTTPS
 * listener names the Secret `edge-cert`, which drainplane reads from a certificate and a key
 * file, mounted as the kubelet mounts a TLS Secret. The Secret is updated (a cert-manager renewal);
 * drainplane pushes the one Secret, Envoy ACKs it, and:
 *  - a keep-alive HTTPS connection opened before the rotation carries on (same socket, no close,
 *    no drain: the listener was not touched);
 *  - a new handshake presents the new certificate;
 *  - Envoy's own /certs lists the new certificate, and no listener was modified or drained.
 *
 * `npm test` runs it on the pinned Envoy; `ENVOY_VERSION=1.36.2 node scripts/run-tests.mjs e2e-envoy` on another.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { HTTPS_LISTENER, SECRET_NAME, sdsConfig } from '../support/sds-config.js';
import { createTestPki, SecretVolume, type CertFiles, type TestPki } from '../support/test-pki.js';
import { waitUntil } from '../support/wait.js';
import { ADS_APIS, bootstrapConfig, freeLoopbackPorts, readDemoFile, type AdsApi } from './configs.js';
import { withRealEnvoy, type RealEnvoy } from './envoy-binary.js';
import { EnvoyProcess } from './envoy-process.js';
import { httpsGet, type HttpsAnswer } from './https-get.js';

const CLUSTER = 'drainplane-e2e-sds';
const SERIAL_A = 'A1A1';
const SERIAL_B = 'B2B2';

withRealEnvoy('SDS rotation', (envoy) => {
  for (const adsApi of ADS_APIS) registerRotationSuite(envoy, adsApi);
});

function registerRotationSuite(envoy: RealEnvoy, adsApi: AdsApi): void {
  const node = `e2e-sds-${adsApi.toLowerCase()}`;

  describe(`a certificate rotation reaches a real Envoy over SDS without a drain (${adsApi})`, { timeout: 90_000 }, () => {
    let dir = '';
    let pki: TestPki | undefined;
    let daemon: TestDaemon | undefined;
    let proxy: EnvoyProcess | undefined;
    let port = 0;
    let adminPort = 0;
    let ports = { xds: 0, api: 0 };
    /** The files drainplane reads, laid out as the kubelet mounts a TLS Secret. */
    let volume: SecretVolume | undefined;
    let second: CertFiles | undefined;
    let ca = '';
    const agents: Agent[] = [];

    const wantedSecretAcked = (): boolean => {
      const status = daemon!.daemon.nodes.get(node);
      const nack = status?.types.sds?.lastNack;
      if (nack) throw new Error(`Envoy NACKed the secret: ${nack.message}`);
      const wanted = daemon!.daemon.cache.snapshot(node)?.get(TypeUrl.Secret).version;
      return wanted !== undefined && status?.types.sds?.acked?.version === wanted;
    };

    const get = (agent: Agent): Promise<HttpsAnswer> => httpsGet({ port, path: '/', ca, agent });

    const keepAliveAgent = (): Agent => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      return agent;
    };

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'drainplane-e2e-sds-'));
      pki = await createTestPki();
      ca = await readFile(pki.caCert, 'utf8');
      const sans = ['DNS:localhost', 'IP:127.0.0.1'];
      const first = await pki.issue('edge-a', { sans, serial: SERIAL_A });
      volume = await SecretVolume.create(path.join(dir, 'tls'), first);
      const [xdsPort, apiPort, admin, listenerPort] = await freeLoopbackPorts(4);
      port = listenerPort!;
      ports = { xds: xdsPort!, api: apiPort! };
      adminPort = admin!;
      daemon = await startTestDaemon(sdsConfig({ cluster: CLUSTER, port, certFile: volume.cert, keyFile: volume.key }), {
        xdsPort: ports.xds,
        apiPort: ports.api,
      });
      const bootstrapFile = path.join(dir, 'bootstrap.yaml');
      await writeFile(
        bootstrapFile,
        bootstrapConfig(await readDemoFile('bootstrap.yaml'), { nodeId: node, cluster: CLUSTER, xdsPort: xdsPort!, adminPort, adsApi }),
      );
      proxy = EnvoyProcess.start({
        name: node,
        bin: envoy.bin,
        bootstrapFile,
        adminPort,
        baseId: (process.pid % 100_000) * 100 + (adsApi === 'GRPC' ? 84 : 85),
        drainTimeSeconds: 5,
      });
      await waitUntil(
        `${node} to ACK its listener and secret`,
        () => {
          if (proxy?.exit) throw new Error(`envoy exited: ${proxy.outputTail(2_000)}`);
          const wanted = daemon!.daemon.cache.snapshot(node)?.get(TypeUrl.Listener).version;
          return wanted !== undefined && daemon!.daemon.nodes.get(node)?.types.lds?.acked?.version === wanted && wantedSecretAcked();
        },
        45_000,
      );
      await waitUntil(`${HTTPS_LISTENER} to answer`, async () => (await get(keepAliveAgent()).catch(() => undefined))?.status === 200, 20_000);
    });

    after(async () => {
      for (const agent of agents) agent.destroy();
      await proxy?.stop();
      await daemon?.close();
      await pki?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('the kept connection survives the rotation and new handshakes see the new certificate', async (t) => {
      const envoyProcess = proxy!;
      const d = daemon!.daemon;
      const kept = keepAliveAgent();
      const before = await get(kept);
      assert.equal(before.status, 200);
      assert.equal(before.body, 'hello over TLS');
      assert.equal(before.serial, SERIAL_A);
      let closed = false;
      before.socket.once('close', () => (closed = true));
      const versionsBefore = d.cache.snapshot(node)!.versions();
      const modifiedBefore = await envoyProcess.stat('listener_manager.listener_modified');

      second = await pki!.issue('edge-b', { sans: ['DNS:localhost', 'IP:127.0.0.1'], serial: SERIAL_B });
      const rotatedAt = Date.now();
      await volume!.update(second);
      await waitUntil(
        'Envoy to ACK the rotated secret',
        () => {
          const wanted = d.cache.snapshot(node)!.get(TypeUrl.Secret).version;
          return wanted !== versionsBefore[TypeUrl.Secret] && wantedSecretAcked();
        },
        20_000,
      );
      t.diagnostic(`the rotated secret was ACKed ${Date.now() - rotatedAt} ms after the Secret volume changed`);

      // Only the Secret changed: the listener (and everything else) is byte for byte what it was.
      const versionsAfter = d.cache.snapshot(node)!.versions();
      for (const typeUrl of [TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.RouteConfiguration, TypeUrl.ClusterLoadAssignment]) {
        assert.equal(versionsAfter[typeUrl], versionsBefore[typeUrl], typeUrl);
      }
      const certs = JSON.parse((await envoyProcess.admin('GET', '/certs')).body) as {
        certificates: { cert_chain?: { serial_number: string }[] }[];
      };
      const serials = certs.certificates.flatMap((c) => (c.cert_chain ?? []).map((s) => s.serial_number.toUpperCase()));
      assert.ok(serials.includes(SERIAL_B), `Envoy's /certs: ${serials.join(', ')}`);

      const again = await get(kept);
      assert.equal(again.status, 200);
      assert.equal(again.socket, before.socket, 'the kept connection carried the request after the rotation');
      assert.equal(again.serial, SERIAL_A, 'the kept connection is still the one made with the old certificate');
      assert.equal(closed, false);

      const fresh = await get(keepAliveAgent());
      assert.equal(fresh.status, 200);
      assert.equal(fresh.serial, SERIAL_B, 'a new handshake presents the new certificate');

      assert.equal(await envoyProcess.stat('listener_manager.listener_modified'), modifiedBefore, 'no listener changed');
      assert.equal(await envoyProcess.stat('listener_manager.total_listeners_draining'), 0);
      assert.equal((await envoyProcess.stat(`http.${HTTPS_LISTENER}.downstream_cx_drain_close`)) ?? 0, 0);
      assert.equal(d.nodes.get(node)?.types.sds?.lastNack, undefined);
    });

    test(`a rotation to a key that does not match is refused and Envoy keeps the last good pair`, async () => {
      const d = daemon!.daemon;
      const versionBefore = d.cache.snapshot(node)!.get(TypeUrl.Secret).version;
      const third = await pki!.issue('edge-c', { sans: ['DNS:localhost'], serial: 'C3C3' });
      await volume!.update({ cert: third.cert, key: second!.key });
      const result = await d.config.reloadSecrets();
      assert.equal(result.result, 'rejected');
      assert.ok(result.result === 'rejected');
      assert.match(result.errors.map((e) => e.message).join('\n'), /private key does not match the certificate/);
      assert.equal(d.cache.snapshot(node)!.get(TypeUrl.Secret).version, versionBefore);
      assert.equal((await get(keepAliveAgent())).serial, SERIAL_B);

      // The matching key arrives: the pair is whole again and is served.
      await volume!.update(third);
      await waitUntil(
        'the completed pair to be served and ACKed',
        () => {
          return d.cache.snapshot(node)!.get(TypeUrl.Secret).version !== versionBefore && wantedSecretAcked();
        },
        20_000,
      );
      assert.equal((await get(keepAliveAgent())).serial, 'C3C3');
    });

    test('a drainplane restart gives Envoy the same secret: nothing is pushed again, the kept connection carries on', async () => {
      const envoyProcess = proxy!;
      const kept = keepAliveAgent();
      const before = await get(kept);
      let closed = false;
      before.socket.once('close', () => (closed = true));
      const secretVersion = daemon!.daemon.cache.snapshot(node)!.get(TypeUrl.Secret).version;
      const modified = await envoyProcess.stat('listener_manager.listener_modified');
      const updates = await envoyProcess.stat(`sds.${SECRET_NAME}.update_success`);
      await daemon!.close();
      daemon = await startTestDaemon(sdsConfig({ cluster: CLUSTER, port, certFile: volume!.cert, keyFile: volume!.key }), {
        xdsPort: ports.xds,
        apiPort: ports.api,
      });
      await waitUntil(`${node} to come back and ACK its secret`, wantedSecretAcked, 30_000);
      assert.equal(daemon.daemon.cache.snapshot(node)!.get(TypeUrl.Secret).version, secretVersion, 'the same files give the same version');
      const again = await get(kept);
      assert.equal(again.status, 200);
      assert.equal(again.socket, before.socket);
      assert.equal(closed, false);
      assert.equal(await envoyProcess.stat('listener_manager.listener_modified'), modified, 'no listener changed');
      // Over Delta, Envoy's initial_resource_versions name the version it has: nothing is sent
      // again. Over SotW the new stream gets the Secret once more (seen: one more update on
      // 1.40.0), with the same bytes, and Envoy keeps its certificate and connections.
      const after = await envoyProcess.stat(`sds.${SECRET_NAME}.update_success`);
      assert.ok(updates !== undefined && after !== undefined);
      if (adsApi === 'DELTA_GRPC') assert.equal(after, updates);
      else assert.ok(after <= updates + 1, `${after} updates after ${updates}`);
    });
  });
}
