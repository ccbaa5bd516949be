/**
 * An endpoint drain and the connections Envoy opened to the backend but never used, on a real
 * Envoy. Envoy keeps idle pooled connections to a DRAINING host; a backend's keep-alive timeout
 * closes those that carried a request, but Node starts that timer only after a response, so a
 * connection that never carried one stays open and holds the drain. Envoy opens such
 * connections under load (a pending request served by another connection first) and, here on
 * purpose, ahead of requests (`preconnect_policy`). The cluster's `idle_timeout` (as the README
 * asks; 10 s here) closes them and the drain completes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitUntil } from '../support/wait.js';
import { withRealEnvoy } from './envoy-binary.js';
import { Fleet, sleep } from './fleet.js';
import { getOnce } from './http-get.js';
import { Http1Upstream } from './upstreams.js';

const NODE_ID = 'e2e-endpoint-idle-connections';
/** The drained backend's keep-alive timeout: it closes a used connection after this long idle. */
const BACKEND_KEEP_ALIVE_MS = 1_000;
/**
 * Envoy's idle timeout for the app cluster: well past the check at 3 s after the ACK (the
 * drains here completed 10.9 to 11.0 s after their creation), and below the wait for their end.
 */
const IDLE_TIMEOUT_SECONDS = 10;

withRealEnvoy('endpoint drains and never-used connections', (envoy) => {
  describe(`an endpoint drain and connections Envoy never used (${envoy.version})`, { timeout: 90_000 }, () => {
    let fleet: Fleet | undefined;
    let kept: Http1Upstream;
    let drained: Http1Upstream;

    before(async () => {
      kept = await Http1Upstream.start();
      drained = await Http1Upstream.start(BACKEND_KEEP_ALIVE_MS);
      fleet = await Fleet.start({
        envoyBin: envoy.bin,
        cluster: 'drainplane-e2e-endpoint-idle',
        nodeIds: [NODE_ID],
        drainTimeSeconds: 2,
        readyTimeoutMs: 45_000,
        adsApi: 'GRPC',
        edsPorts: [kept.port, drained.port],
        edsPreconnectRatio: 3,
        edsIdleTimeoutSeconds: IDLE_TIMEOUT_SECONDS,
      });
    });
    after(async () => {
      await fleet?.close();
      await Promise.allSettled([kept?.close(), drained?.close()]);
    });

    test("past the backend's keep-alive, a connection that never carried a request still holds the drain; the cluster's idle_timeout ends it", async () => {
      const f = fleet!;
      const port = f.node(NODE_ID).ingressPort;
      await waitUntil(
        'both backends to take requests',
        async () => {
          await getOnce(port, '/app/both');
          return kept.requests > 0 && drained.requests > 0;
        },
        10_000,
      );
      const created = await f.api('POST', '/v1/drains', { endpoints: { addresses: [`127.0.0.1:${drained.port}`] }, deadlineSeconds: 60 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = String(created.body.id);
      const started = Date.now();
      const view = async () => {
        const drain = (await f.api('GET', `/v1/drains/${id}`)).body;
        return { drain, node: drain.phases[0].nodes[0], endpoint: drain.phases[0].nodes[0]?.endpoints?.[0] };
      };
      await waitUntil('Envoy to ACK the endpoint marked DRAINING', async () => (await view()).node?.state === 'acked', 10_000);

      // Well past the backend's keep-alive: every connection that carried a request is closed.
      await sleep(3 * BACKEND_KEEP_ALIVE_MS);
      const held = await view();
      assert.equal(held.drain.state, 'running', JSON.stringify(held.drain));
      assert.equal(held.endpoint?.requests, 0);
      assert.ok((held.endpoint?.connections ?? 0) > 0, `connections Envoy never used stay open: ${JSON.stringify(held.endpoint)}`);

      await waitUntil('the idle timeout to close them and the drain to complete', async () => (await view()).drain.state === 'completed', 20_000, {
        intervalMs: 100,
        explain: async () => JSON.stringify((await view()).endpoint),
      });
      const seconds = (Date.now() - started) / 1000;
      console.log(`# the endpoint drain completed ${seconds.toFixed(1)} s after it was created`);
    });
  });
});
