/**
 * Fields of the Envoy API drainplane is built on reach a real Envoy: a listener with TcpProxy
 * `check_drain_close` and `max_early_data_bytes` and one with HCM `drain_timeout_jitter`, served
 * over ADS (SotW and Delta), are ACKed, and Envoy's /config_dump shows each field with the value
 * drainplane sent: Envoy parsed the bytes into its own API, which knows them.
 *
 * `check_drain_close` and `drain_timeout_jitter` came with Envoy 1.39. An older Envoy ignores
 * fields it does not know (xDS accepts unknown fields unless --reject-unknown-dynamic-fields), so
 * for it the test checks only the ACK.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { atLeast } from '../../src/cache/envoy-version.js';
import { releaseFromVersionString } from '../../src/admin/server-info.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { currentApiConfig, DRAIN_TIMEOUT_JITTER_PERCENT, HTTP_LISTENER, MAX_EARLY_DATA_BYTES, TCP_LISTENER } from '../support/current-api-config.js';
import { startTestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { ADS_APIS, bootstrapConfig, freeLoopbackPorts, readDemoFile } from './configs.js';
import { withRealEnvoy } from './envoy-binary.js';
import { EnvoyProcess } from './envoy-process.js';

const FIELDS_SINCE = '1.39.0';
const CLUSTER = 'drainplane-e2e-current-api';

type Json = Record<string, any>;

withRealEnvoy('the Envoy API drainplane is built on, against a real Envoy', (envoy) => {
  const release = releaseFromVersionString(envoy.version) ?? envoy.version;
  describe(`fields of Envoy's current API reach a real Envoy (${release})`, { timeout: 120_000 }, () => {
    for (const adsApi of ADS_APIS) {
      test(`check_drain_close, max_early_data_bytes, drain_timeout_jitter: ACKed and in /config_dump (ADS ${adsApi})`, async () => {
        const nodeId = `e2e-current-api-${adsApi === 'GRPC' ? 'sotw' : 'delta'}`;
        const [xdsPort, apiPort, adminPort, tcpPort, httpPort, upstreamPort] = await freeLoopbackPorts(6);
        const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-e2e-current-api-'));
        const daemon = await startTestDaemon(
          currentApiConfig({ cluster: CLUSTER, tcpPort: tcpPort!, httpPort: httpPort!, upstreamPort: upstreamPort! }),
          {
            xdsPort: xdsPort!,
            apiPort: apiPort!,
          },
        );
        let proxy: EnvoyProcess | undefined;
        try {
          const bootstrapFile = path.join(dir, 'bootstrap.yaml');
          await writeFile(
            bootstrapFile,
            bootstrapConfig(await readDemoFile('bootstrap.yaml'), {
              nodeId,
              cluster: CLUSTER,
              xdsPort: daemon.daemon.xdsPort,
              adminPort: adminPort!,
              adsApi,
            }),
          );
          proxy = EnvoyProcess.start({
            name: nodeId,
            bin: envoy.bin,
            bootstrapFile,
            adminPort: adminPort!,
            baseId: (process.pid % 100_000) * 100 + 90 + ADS_APIS.indexOf(adsApi),
            drainTimeSeconds: 2,
          });
          const d = daemon.daemon;
          await waitUntil(
            `${nodeId} to ACK its clusters and listeners`,
            () => {
              if (proxy?.exit) throw new Error(`envoy exited: ${proxy.outputTail(2_000)}`);
              const status = d.nodes.get(nodeId);
              for (const type of ['lds', 'cds'] as const) {
                const nack = status?.types[type]?.lastNack;
                if (nack) throw new Error(`Envoy NACKed ${type}: ${nack.message}`);
              }
              const wanted = d.cache.snapshot(nodeId);
              return (
                wanted !== undefined &&
                status?.types.lds?.acked?.version === wanted.get(TypeUrl.Listener).version &&
                status.types.cds?.acked?.version === wanted.get(TypeUrl.Cluster).version
              );
            },
            45_000,
          );
          const active = new Map<string, Json>();
          await waitUntil(
            'both listeners active in /config_dump',
            async () => {
              for (const l of await proxy!.dynamicListeners()) if (l.active_state) active.set(l.name, l.active_state.listener);
              return active.has(TCP_LISTENER) && active.has(HTTP_LISTENER);
            },
            15_000,
          );
          if (!atLeast(release, FIELDS_SINCE)) return;
          const tcp = firstFilterConfig(active.get(TCP_LISTENER));
          assert.equal(tcp['check_drain_close'], true, JSON.stringify(tcp));
          assert.equal(tcp['max_early_data_bytes'], MAX_EARLY_DATA_BYTES, JSON.stringify(tcp));
          const hcm = firstFilterConfig(active.get(HTTP_LISTENER));
          assert.deepEqual(hcm['drain_timeout_jitter'], { value: DRAIN_TIMEOUT_JITTER_PERCENT }, JSON.stringify(hcm));
        } catch (err) {
          console.error(`--- envoy ${nodeId}, last output:\n${proxy?.outputTail(4_000) ?? '(not started)'}`);
          throw err;
        } finally {
          await proxy?.stop();
          await daemon.close();
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
});

function firstFilterConfig(listener: Json | undefined): Json {
  return (listener?.['filter_chains']?.[0]?.['filters']?.[0]?.['typed_config'] ?? {}) as Json;
}
