/**
 * Endpoint (upstream) drains on a real Envoy: two HTTP/1.1 backends behind the app's EDS
 * cluster, both served by drainplane. Draining one backend's endpoint sends every new request to
 * the other; the drain completes only once the request held open on the drained backend has
 * finished (and its idle connections closed); cancel brings traffic back. With `remove`, the
 * completed drain leaves the endpoint out of Envoy's cluster, and cancel puts it back. Over SotW
 * and Delta ADS.
 *
 * The drained backend closes idle connections after a second, as a backend's own keep-alive
 * timeout does: Envoy keeps idle upstream connections to a DRAINING host open (Envoy 1.40.0), and
 * the drain waits for them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { releaseFromVersionString } from '../../src/admin/server-info.js';
import { atLeast } from '../../src/cache/envoy-version.js';
import { MIN_LOAD_REPORT_ENVOY } from '../../src/metrics/load-reports.js';
import { waitUntil } from '../support/wait.js';
import { ADS_APIS, type AdsApi } from './configs.js';
import { withRealEnvoy, type RealEnvoy } from './envoy-binary.js';
import { Fleet, sleep } from './fleet.js';
import { getOnce } from './http-get.js';
import { holdPath, Http1Upstream } from './upstreams.js';

withRealEnvoy('endpoint drains', (envoy) => {
  for (const adsApi of ADS_APIS) registerSuite(envoy, adsApi, 'admin');
  // Host counts from Envoy's load reports alone (no admin address): requests, no connections.
  // Before 1.37 Envoy's reports leave out a request still in progress: drainplane does not use them.
  const release = releaseFromVersionString(envoy.version) ?? envoy.version;
  if (atLeast(release, MIN_LOAD_REPORT_ENVOY)) registerSuite(envoy, 'GRPC', 'load-reports');
});

interface EndpointView {
  address: string;
  requests: number | null;
  connections: number | null;
}

function registerSuite(envoy: RealEnvoy, adsApi: AdsApi, hostCounts: 'admin' | 'load-reports'): void {
  const nodeId = `e2e-endpoints-${adsApi === 'GRPC' ? 'sotw' : 'delta'}-${hostCounts}`;

  describe(`endpoint drains on a real Envoy (${envoy.version}, ADS ${adsApi}, host counts from ${hostCounts})`, { timeout: 120_000 }, () => {
    let fleet: Fleet | undefined;
    let kept: Http1Upstream;
    let drained: Http1Upstream;

    before(async () => {
      kept = await Http1Upstream.start();
      drained = await Http1Upstream.start(1_000);
      fleet = await Fleet.start({
        envoyBin: envoy.bin,
        cluster: 'drainplane-e2e-endpoints',
        nodeIds: [nodeId],
        drainTimeSeconds: 2,
        readyTimeoutMs: 45_000,
        adsApi,
        edsPorts: [kept.port, drained.port],
        hostCounts,
      });
    });

    after(async () => {
      await fleet?.close();
      await Promise.allSettled([kept?.close(), drained?.close()]);
    });

    const report = async (run: () => Promise<void>) => {
      try {
        await run();
      } catch (err) {
        console.error(fleet?.diagnostics());
        throw err;
      }
    };

    /** The drain's one node entry as GET /v1/drains/:id shows it. */
    const drainNode = async (id: string) => {
      const res = await fleet!.api('GET', `/v1/drains/${id}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const node = res.body.phases[0].nodes.find((n: { nodeId: string }) => n.nodeId === nodeId);
      return { drain: res.body, node, endpoint: node?.endpoints?.[0] as EndpointView | undefined };
    };

    /** Sends requests through Envoy until both backends took some. */
    const bothServe = async (what: string) => {
      const port = fleet!.node(nodeId).ingressPort;
      const [k, d] = [kept.requests, drained.requests];
      await waitUntil(
        what,
        async () => {
          await getOnce(port, '/app/both');
          return kept.requests > k && drained.requests > d;
        },
        10_000,
      );
    };

    test('new requests go only to the other backend; the drain waits for the request in flight; cancel brings traffic back', () =>
      report(async () => {
        const f = fleet!;
        const port = f.node(nodeId).ingressPort;
        const address = `127.0.0.1:${drained.port}`;
        await bothServe('both backends to take requests');

        // A request held open on the backend to drain (round robin: until one lands there).
        let key = '';
        let inFlight: Promise<unknown> = Promise.resolve();
        for (let i = 0; i < 20 && !drained.holds(key); i++) {
          key = `held-${adsApi}-${i}`;
          const k = key;
          inFlight = getHeld(port, holdPath(k)).catch((err: Error) => err);
          await waitUntil(`${holdPath(k)} to reach a backend`, () => kept.holds(k) || drained.holds(k), 5_000);
          kept.release(k);
        }
        assert.ok(drained.holds(key), 'a request is held open on the backend to drain');

        const created = await f.api('POST', '/v1/drains', { endpoints: { addresses: [address] }, deadlineSeconds: 60 });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const id = String(created.body.id);
        assert.equal(created.body.spec.method, 'eds');

        await waitUntil(
          'Envoy to ACK the endpoint marked DRAINING and its host counts to show the held request',
          async () => (await drainNode(id)).endpoint?.requests === 1,
          10_000,
        );
        const before = drained.requests;
        for (let i = 0; i < 30; i++) assert.equal((await getOnce(port, `/app/during-drain-${i}`)).status, 200);
        assert.equal(drained.requests - before, 0, 'no new request reaches the draining backend');

        // The request in flight holds the drain, however long it takes.
        await sleep(2_500);
        const held = await drainNode(id);
        assert.equal(held.drain.state, 'running');
        assert.equal(held.node.state, 'acked');
        assert.equal(held.endpoint?.requests, 1);

        drained.release(key);
        const answer = (await inFlight) as { status: number };
        assert.equal(answer.status, 200, 'the request in flight finishes normally');
        await waitUntil('the drain to complete', async () => (await drainNode(id)).drain.state === 'completed', 15_000);
        const done = await drainNode(id);
        assert.equal(done.node.state, 'drained');
        // Load reports count requests only: connections stay unknown.
        assert.deepEqual([done.endpoint?.requests, done.endpoint?.connections], [0, hostCounts === 'admin' ? 0 : null]);
        assert.equal(drained.requests - before, 0, 'still none after completion');

        const cancelled = await f.api('POST', `/v1/drains/${id}/cancel`);
        assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
        await bothServe('the drained backend to take requests again after cancel');
      }));

    test('with remove, the completed drain takes the endpoint out of Envoy; cancel puts it back', () =>
      report(async () => {
        const f = fleet!;
        const node = f.node(nodeId);
        const address = `127.0.0.1:${drained.port}`;
        await bothServe('both backends to take requests');

        const created = await f.api('POST', '/v1/drains', { endpoints: { addresses: [address], remove: true }, deadlineSeconds: 60 });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const id = String(created.body.id);
        await waitUntil('the drain to complete', async () => (await drainNode(id)).drain.state === 'completed', 15_000);
        await waitUntil('Envoy to drop the host', async () => !(await hostPorts(node.adminPort)).includes(drained.port), 5_000);
        assert.ok((await hostPorts(node.adminPort)).includes(kept.port), 'the other backend stays');

        assert.equal((await f.api('POST', `/v1/drains/${id}/cancel`)).status, 200);
        await waitUntil('Envoy to have the host back', async () => (await hostPorts(node.adminPort)).includes(drained.port), 5_000);
        await bothServe('the drained backend to take requests again after cancel');
      }));
  });
}

/** One GET that waits for its answer as long as it takes (a request held open on purpose). */
async function getHeld(port: number, path: string): Promise<{ status: number }> {
  const client = new Client(`http://127.0.0.1:${port}`, { headersTimeout: 0, bodyTimeout: 0 });
  try {
    const res = await client.request({ method: 'GET', path });
    await res.body.text();
    return { status: res.statusCode };
  } finally {
    await client.destroy().catch(() => {});
  }
}

/** The ports of the app cluster's hosts, from Envoy's admin /clusters. */
async function hostPorts(adminPort: number): Promise<number[]> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/clusters?format=json`, { signal: AbortSignal.timeout(2_000) });
  const body = (await res.json()) as {
    cluster_statuses?: { name: string; host_statuses?: { address: { socket_address: { port_value: number } } }[] }[];
  };
  const app = body.cluster_statuses?.find((c) => c.name === 'app');
  return (app?.host_statuses ?? []).map((h) => h.address.socket_address.port_value);
}
