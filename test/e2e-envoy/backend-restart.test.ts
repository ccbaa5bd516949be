/**
 * A backend restarted behind a real Envoy under load, the short form of the benchmark's arms
 * (f) and (g) (`npm run bench:rolling-restart`): the same backend process, stopped with SIGTERM
 * and started again on its address. Stopped plainly, Envoy sends it requests while it is gone
 * and clients get 503s; stopped after an endpoint drain (what `drainplane prestop --endpoint`
 * runs), no client request fails, and once the drain is cancelled Envoy routes to it again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitUntil } from '../support/wait.js';
import { freeLoopbackPorts } from './configs.js';
import { withRealEnvoy } from './envoy-binary.js';
import { Fleet, sleep } from './fleet.js';
import { LoadRun } from './load.js';
import { RestartableBackend } from './restartable-backend.js';

const NODE_ID = 'e2e-backend-restart';
/** From the backend's exit to its new process. */
const DOWN_MS = 1_000;

withRealEnvoy('backend restarts', (envoy) => {
  describe(`a backend restarted behind a real Envoy (${envoy.version}) under load`, { timeout: 120_000 }, () => {
    let fleet: Fleet | undefined;
    let backends: RestartableBackend[] = [];

    before(async () => {
      backends = await Promise.all((await freeLoopbackPorts(2)).map((port) => RestartableBackend.start(port)));
      fleet = await Fleet.start({
        envoyBin: envoy.bin,
        cluster: 'drainplane-e2e-backend-restart',
        nodeIds: [NODE_ID],
        drainTimeSeconds: 2,
        readyTimeoutMs: 45_000,
        adsApi: 'GRPC',
        edsPorts: backends.map((b) => b.port),
      });
    });
    after(async () => {
      await fleet?.close();
      await Promise.allSettled(backends.map((b) => b.stop()));
    });

    /** Client load through Envoy's ingress to the app cluster, while `during` runs. */
    const underLoad = async (during: () => Promise<void>): Promise<LoadRun> => {
      const load = new LoadRun({
        targets: [{ name: NODE_ID, port: fleet!.node(NODE_ID).ingressPort }],
        paths: { http1: '/app/restart/' },
        http1Workers: 8,
        h2Workers: 0,
        h2SessionsPerTarget: 0,
        maxRequests: 1_000_000,
        maxDurationMs: 60_000,
        requestTimeoutMs: 10_000,
        whenAllDrained: 'fail',
      });
      try {
        await waitUntil('the load to be answered', () => load.totalSuccesses() > 200, 10_000);
        await during();
        await sleep(500);
      } finally {
        await load.stop();
      }
      return load;
    };

    /** The lines Envoy's admin /clusters (text form) has for the host in the app cluster. */
    const hostLines = async (backend: RestartableBackend): Promise<string[]> => {
      const text = await (await fetch(`http://127.0.0.1:${fleet!.node(NODE_ID).adminPort}/clusters`)).text();
      return text.split('\n').filter((line) => line.startsWith(`app::${backend.address}::`));
    };

    /** Requests Envoy sent to the host that were answered. */
    const served = async (backend: RestartableBackend): Promise<number> => {
      const line = (await hostLines(backend)).find((l) => l.startsWith(`app::${backend.address}::rq_success::`));
      return Number(line?.split('::')[3] ?? 0);
    };

    /** What Envoy says of the host: its counts and health flags. */
    const hostStats = async (backend: RestartableBackend): Promise<string> =>
      (await hostLines(backend)).filter((line) => /::(cx_active|rq_active|health_flags)::/.test(line)).join(', ');

    test('plain SIGTERM: clients get 503s while the backend is away', async () => {
      const load = await underLoad(async () => {
        await backends[0]!.stop();
        await sleep(DOWN_MS);
        await backends[0]!.restart();
      });
      assert.ok(load.failureCount > 0, `expected failed requests: ${load.summary()}`);
      assert.match(load.failures[0]!.error, /503/);
    });

    test('an endpoint drain first: no request fails, and after its cancel Envoy routes to the new process', async () => {
      const backend = backends[1]!;
      let drainId = '';
      const load = await underLoad(async () => {
        const created = await fleet!.api('POST', '/v1/drains', { endpoints: { addresses: [backend.address] }, deadlineSeconds: 30 });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        drainId = String(created.body.id);
        await waitUntil(
          'the endpoint drain to complete (Envoy ACKed DRAINING, nothing open to the host)',
          async () => (await fleet!.api('GET', `/v1/drains/${drainId}`)).body.state === 'completed',
          20_000,
          {
            intervalMs: 100,
            explain: async () =>
              `(drain: ${JSON.stringify((await fleet!.api('GET', `/v1/drains/${drainId}`)).body)}; Envoy: ${await hostStats(backend)})`,
          },
        );
        await backend.stop();
        await sleep(DOWN_MS);
        await backend.restart();
        const before = await served(backend);
        const cancelled = await fleet!.api('POST', `/v1/drains/${drainId}/cancel`);
        assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
        await waitUntil('Envoy to route to the restarted backend', async () => (await served(backend)) > before, 10_000);
      });
      assert.equal(load.failureCount, 0, load.summary() + JSON.stringify(load.failures.slice(0, 3)));
    });
  });
});
