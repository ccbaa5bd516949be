/**
 * A scope-`all`, method-`remove` drain of one real Envoy under HTTP/1.1 and HTTP/2 load, while a
 * second Envoy of the same cluster keeps serving (the replica clients move to).
 *
 * What Envoy is expected to do comes from ../shared/ENVOY-FACTS.md: a listener removed over LDS
 * stops accepting at once and, with `--drain-strategy immediate`, every response on its
 * connections carries the drain signal (HTTP/1.1 `Connection: close`; HTTP/2 GOAWAY); an egress
 * listener stays until it is removed itself; connections left when `--drain-time-s` ends are cut.
 *
 * One request through the drained Envoy's ingress listener is held open by the upstream until the
 * checks of the ingress phase are done: drainplane must not start the egress phase while that
 * connection is open, which makes "ingress gone, egress still serving" observable without racing
 * the drain. It is released well before Envoy's drain time would cut it.
 *
 * Registered by drain-under-load.test.ts, once per ADS flavour, when an Envoy binary is found.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { TERMINAL, type Drain } from '../../src/fleet/drain/model.js';
import { waitUntil } from '../support/wait.js';
import { EGRESS_LISTENER, H2_PREFIX, INGRESS_LISTENER, type AdsApi } from './configs.js';
import type { RealEnvoy } from './envoy-binary.js';
import { Fleet } from './fleet.js';
import { LoadRun, type LoadTarget } from './load.js';
import { holdPath } from './upstreams.js';

const CLUSTER = 'drainplane-e2e';
const DRAINED = 'e2e-envoy-drained';
const KEPT = 'e2e-envoy-kept';
const DRAIN_TIME_S = 10;
/** The held request is answered at the latest this long after the drain starts (< DRAIN_TIME_S). */
const HOLD_MAX_MS = 7_000;
const HOLD_KEY = 'ingress-in-flight';

export function registerEnvoyDrainSuite(envoy: RealEnvoy, adsApi: AdsApi): void {
  describe(`drainplane drains a real Envoy (${envoy.version}, ADS ${adsApi})`, { timeout: 180_000 }, () => {
    let fleet: Fleet | undefined;
    const runs: LoadRun[] = [];
    let holdClient: Client | undefined;

    before(async () => {
      fleet = await Fleet.start({
        envoyBin: envoy.bin,
        cluster: CLUSTER,
        nodeIds: [DRAINED, KEPT],
        drainTimeSeconds: DRAIN_TIME_S,
        readyTimeoutMs: 45_000,
        adsApi,
      });
    });

    after(async () => {
      fleet?.http1?.release(HOLD_KEY);
      await Promise.allSettled(runs.map((r) => r.stop()));
      await holdClient?.destroy().catch(() => {});
      await fleet?.close();
    });

    test('remove drain under HTTP/1.1 and HTTP/2 load: no failed request, ingress before egress, connections to 0', async (t) => {
      const f = fleet!;
      try {
        await drainUnderLoad(f, runs, (c) => (holdClient = c), t.diagnostic.bind(t));
      } catch (err) {
        const drains = f.daemon?.daemon.drains.list() ?? [];
        console.error(
          [
            ...runs.map(
              (r) =>
                `--- load: ${r.summary()}\n${r.failures
                  .slice(0, 10)
                  .map((x) => `  ${JSON.stringify(x)}`)
                  .join('\n')}`,
            ),
            `--- drains: ${JSON.stringify(drains, null, 1)}`,
            f.diagnostics(),
          ].join('\n'),
        );
        throw err;
      }
    });
  });
}

async function drainUnderLoad(f: Fleet, runs: LoadRun[], setHoldClient: (c: Client) => void, note: (m: string) => void): Promise<void> {
  const drained = f.node(DRAINED);
  const kept = f.node(KEPT);
  const upstream = f.http1!;
  const targets: LoadTarget[] = [
    { name: DRAINED, port: drained.ingressPort },
    { name: KEPT, port: kept.ingressPort },
  ];
  const egressTarget = `${DRAINED}/egress`;

  const info = await drained.envoy.serverInfo();
  const options = info['command_line_options'] ?? {};
  assert.match(String(options['drain_strategy']), /immediate/i, 'Envoy runs with --drain-strategy immediate');
  assert.match(String(options['drain_time']), new RegExp(`^${DRAIN_TIME_S}(\\.0+)?s$`), 'Envoy runs with --drain-time-s');

  // Clients through both ingress listeners, and the app calling out through the egress listener.
  const load = new LoadRun({
    targets,
    paths: { http1: '/app/load/', h2: `${H2_PREFIX}/load/` },
    http1Workers: 6,
    h2Workers: 6,
    h2SessionsPerTarget: 2,
    maxRequests: 2_000_000,
    maxDurationMs: 120_000,
    requestTimeoutMs: 10_000,
    whenAllDrained: 'fail',
  });
  runs.push(load);
  const egress = new LoadRun({
    targets: [{ name: egressTarget, port: drained.egressPort }],
    paths: { http1: '/egress/load/' },
    http1Workers: 1,
    h2Workers: 0,
    h2SessionsPerTarget: 0,
    maxRequests: 1_000_000,
    maxDurationMs: 120_000,
    requestTimeoutMs: 10_000,
    // The app has no other way out: it stops calling once its egress listener drains.
    whenAllDrained: 'stop',
  });
  runs.push(egress);
  await waitUntil(
    'every client lane to carry traffic',
    () =>
      targets.every((x) => load.successes('http1', x.name) >= 50 && load.successes('h2', x.name) >= 50) &&
      egress.successes('http1', egressTarget) >= 50,
    15_000,
  );
  assert.equal(load.failureCount + egress.failureCount, 0, `no failure before the drain: ${JSON.stringify([...load.failures, ...egress.failures])}`);

  // A request held in flight through the drained Envoy's ingress listener.
  const holdClient = new Client(`http://127.0.0.1:${drained.ingressPort}`, { pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  setHoldClient(holdClient);
  const held = holdClient.request({ method: 'GET', path: holdPath(HOLD_KEY) }).then(async (res) => ({
    status: res.statusCode,
    connection: String(res.headers['connection'] ?? ''),
    body: await res.body.text(),
  }));
  held.catch(() => {}); // awaited below; a rejection must not go unhandled before then
  await upstream.waitForHeld(HOLD_KEY, 5_000);

  const drainStartedAt = Date.now();
  const created = await f.api('POST', '/v1/drains', {
    selector: { ids: [DRAINED] },
    scope: 'all',
    method: 'remove',
    deadlineSeconds: 60,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = (created.body as Drain).id;
  const drain = () => f.daemon!.daemon.drains.get(id)!;
  const holdDeadline = drainStartedAt + HOLD_MAX_MS;
  let releasedAt = 0;
  const release = () => {
    releasedAt ||= Date.now();
    upstream.release(HOLD_KEY);
  };
  const safety = setTimeout(release, HOLD_MAX_MS);
  const untilHoldDeadline = () => Math.max(1, holdDeadline - Date.now());

  try {
    // Envoy removed the ingress listener and kept the egress one.
    await waitUntil(
      `${DRAINED} to remove ${INGRESS_LISTENER}`,
      async () => !(await drained.envoy.listenerNames()).includes(INGRESS_LISTENER),
      untilHoldDeadline(),
    );
    assert.deepEqual(await drained.envoy.listenerNames(), [EGRESS_LISTENER], 'egress stays while ingress drains');

    // drainplane saw the ACK, and measured the held connection through the metrics stream.
    await waitUntil(
      'the ingress phase to measure the open connection',
      () => {
        const node = drain().phases[0]!.nodes[0]!;
        return node.state === 'acked' && (node.listeners[0]?.connections ?? 0) >= 1;
      },
      untilHoldDeadline(),
    );
    assert.equal(drain().phases[1]!.state, 'pending', 'egress waits while an ingress connection is open');

    // Clients got the drain signals from the drained Envoy and went on with the other one.
    await waitUntil(
      'Connection: close and GOAWAY from the drained Envoy',
      () => load.draining('http1', DRAINED) && load.draining('h2', DRAINED),
      untilHoldDeadline(),
    );
    const signalled = Date.now();
    await waitUntil(
      'the kept Envoy to serve both protocols after the drain signals',
      () => load.successes('http1', KEPT, signalled) >= 20 && load.successes('h2', KEPT, signalled) >= 20,
      untilHoldDeadline(),
    );

    // The app still calls out through the egress listener, and it is not draining.
    const egressFrom = Date.now();
    await waitUntil('egress calls during the ingress phase', () => egress.successes('http1', egressTarget, egressFrom) >= 20, untilHoldDeadline());
    assert.equal(egress.signals.length, 0, 'no drain signal on egress during the ingress phase');
    assert.deepEqual(await drained.envoy.listenerNames(), [EGRESS_LISTENER]);
    assert.equal(drain().phases[1]!.state, 'pending');
    assert.equal(releasedAt, 0, `the ingress-phase checks took longer than ${HOLD_MAX_MS} ms`);
    note(`ingress phase held ${Date.now() - drainStartedAt} ms by one open request; egress served meanwhile`);
  } finally {
    clearTimeout(safety);
    release();
  }
  const heldResponse = await held;
  assert.equal(heldResponse.status, 200, 'the request in flight when the drain started completed');
  assert.match(heldResponse.connection, /close/i, 'and carried Connection: close');

  await waitUntil('the drain to end', () => TERMINAL.has(drain().state), 45_000);
  const done = (await f.api('GET', `/v1/drains/${id}`)).body as Drain;
  assert.equal(done.state, 'completed', JSON.stringify(done, null, 2));
  assert.deepEqual(
    done.phases.map((p) => [p.name, p.state]),
    [
      ['ingress', 'done'],
      ['egress', 'done'],
    ],
  );
  for (const [phase, listener] of [
    [0, INGRESS_LISTENER],
    [1, EGRESS_LISTENER],
  ] as const) {
    const nodes = done.phases[phase]!.nodes;
    assert.deepEqual(
      nodes.map((n) => [n.nodeId, n.state]),
      [[DRAINED, 'drained']],
    );
    assert.deepEqual(nodes[0]!.listeners, [{ name: listener, connections: 0 }], `${listener} connections measured at 0`);
  }
  // The open connection held the ingress phase: it ended only after that request was answered.
  assert.ok(Date.parse(done.phases[0]!.finishedAt!) >= releasedAt, 'ingress phase finished after its last connection closed');
  const egressStartedAt = Date.parse(done.phases[1]!.startedAt!);

  // Envoy: the drained node has no listener left; the other one has both.
  await waitUntil(`${DRAINED} to have no listener`, async () => (await drained.envoy.listenerNames()).length === 0, 5_000);
  assert.deepEqual(await kept.envoy.listenerNames(), [EGRESS_LISTENER, INGRESS_LISTENER].sort());
  const ingressGauge = await drained.envoy.stat(`listener.127.0.0.1_${drained.ingressPort}.downstream_cx_active`);
  assert.ok(ingressGauge === undefined || ingressGauge === 0, `Envoy's own ingress gauge is 0 or gone, got ${ingressGauge}`);

  // The egress drain reached the app only once the egress phase had started.
  assert.ok(egress.signals.length > 0, 'Connection: close on an egress response');
  for (const s of egress.signals) assert.ok(s.at >= egressStartedAt, `egress signal at ${s.at} before the egress phase (${egressStartedAt})`);

  // Some load after the drain, then the whole run's verdict.
  const settled = Date.now();
  await waitUntil(
    'the kept Envoy to serve after the drain',
    () => load.successes('http1', KEPT, settled) >= 20 && load.successes('h2', KEPT, settled) >= 20,
    10_000,
  );
  await load.stop();
  await egress.stop();
  note(`load: ${load.summary()}`);
  note(`egress: ${egress.summary()}`);
  assert.equal(load.boundReached, undefined, `the load ran until stopped (it stopped after ${load.boundReached})`);
  assert.deepEqual(load.failures, [], `${load.failureCount} failed requests through ingress`);
  assert.deepEqual(egress.failures, [], `${egress.failureCount} failed requests through egress`);
  assert.equal(load.failureCount + egress.failureCount, 0);

  const fromDrained = (kind: string) => load.signals.filter((s) => s.target === DRAINED && s.kind === kind);
  assert.ok(fromDrained('connection-close').length > 0, 'Connection: close seen on HTTP/1.1 responses of the drained Envoy');
  assert.ok(fromDrained('goaway').length > 0, 'GOAWAY seen on HTTP/2 sessions of the drained Envoy');
  assert.deepEqual(
    load.signals.filter((s) => s.target === KEPT),
    [],
    'the kept Envoy never signalled a drain',
  );
  assert.ok(
    load.signals.every((s) => s.at >= drainStartedAt),
    'no drain signal before the drain',
  );
  for (const protocol of ['http1', 'h2'] as const) {
    assert.ok(load.successes(protocol, DRAINED, 0, drainStartedAt) > 0, `${protocol} went through the drained Envoy before the drain`);
  }
  assert.ok(f.logs.has('metrics_connected', { node: DRAINED }), 'the drained Envoy streamed its stats to drainplane');
}
