/**
 * `drainplane run` with a real Envoy: one pod's shutdown in order, then a restart on the same
 * state folder (a container restart).
 *
 * Shutdown (SIGTERM, and a second SIGTERM that joins it): readiness 503 and Envoy's
 * /healthcheck/fail (its /ready turns DRAINING) while every listener still accepts; ingress
 * modified (a draining version in /config_dump) and still serving; ingress removed; egress kept and serving while an ingress
 * request is in flight; egress removed once that request is answered; Envoy stopped, then the
 * dependents in order; exit code 0, within the grace period; Envoy's drain flags from the plan.
 *
 * Restart: the finished shutdown is history. The new Envoy gets its full listener set and
 * serves, /readyz is 200 only once it has, and GET /v1/drains still lists the old drains. The
 * restart runs a plan that does not fit its grace period: shortened, with a warning, and its
 * shutdown still ends within that period.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Client } from 'undici';
import { ADS_APIS, EGRESS_LISTENER, INGRESS_LISTENER, type AdsApi } from './configs.js';
import { withRealEnvoy, type RealEnvoy } from './envoy-binary.js';
import { assertEnvoyStillDrained, PodSite, START_TIMEOUT_MS, step, type RunPod, type ShutdownDrain } from './pod.js';
import { waitUntil } from '../support/wait.js';
import { holdPath } from './upstreams.js';

const HOLD = 'run-shutdown';
const BOTH = [EGRESS_LISTENER, INGRESS_LISTENER].sort();
const GRACE_S = 22;

withRealEnvoy('drainplane run shutdown and restart', (envoy) => {
  // The ADS flavours run side by side: each pod has its own ports and folder, and mostly waits.
  describe(`drainplane run with a real Envoy (${envoy.version}): shutdown, then restart`, { timeout: 120_000, concurrency: true }, () => {
    for (const adsApi of ADS_APIS) register(envoy, adsApi);
  });
});

function register(envoy: RealEnvoy, adsApi: AdsApi): void {
  test(`ADS ${adsApi}: SIGTERM drains ingress, then egress, then stops Envoy and the dependents; a restart on the same folder serves in full`, async (t) => {
    const site = await PodSite.create({ envoyBin: envoy.bin, adsApi });
    const holders: Client[] = [];
    t.after(async () => {
      site.http1.release(HOLD);
      await Promise.allSettled(holders.map((c) => c.destroy()));
      await site.close();
    });
    const first = site.start(['--grace-period', String(GRACE_S), '--propagation-delay', '5', '--ingress-deadline', '7', '--egress-deadline', '3']);
    await step(`${adsApi}: first run`, first, () => shutdownInOrder(first, holders, t.diagnostic.bind(t)));
    const second = site.start(['--grace-period', '6', '--propagation-delay', '5', '--ingress-deadline', '10', '--egress-deadline', '10']);
    await step(`${adsApi}: restart`, second, () => restartServesInFull(second));
  });
}

async function shutdownInOrder(pod: RunPod, holders: Client[], note: (m: string) => void): Promise<void> {
  const site = pod.site;
  await waitUntil(
    'readiness 200 on the API and probe ports',
    async () => (await pod.readyz('api')) === 200 && (await pod.readyz('probe')) === 200,
    START_TIMEOUT_MS,
  );
  assert.deepEqual(await pod.listeners(), BOTH);
  assert.equal((await pod.get('ingress')).status, 200);
  assert.equal((await pod.get('egress')).status, 200);
  // 22 s - 2.2 s margin - 2 s Envoy stop - 2 x 1 s dependent stops leaves 15.8 s: the 15 s of phases fit.
  const options = ((await (await pod.admin('/server_info')).json()) as { command_line_options: Record<string, unknown> }).command_line_options;
  assert.match(String(options['drain_time']), /^15(\.0+)?s$/, "Envoy's --drain-time-s covers the plan's drain phases");
  assert.match(String(options['drain_strategy']), /immediate/i);

  // A request in flight through ingress keeps the ingress phase open until it is answered.
  const holder = new Client(`http://127.0.0.1:${site.ports.ingressPort}`, { pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  holders.push(holder);
  const held = holder.request({ method: 'GET', path: holdPath(HOLD) }).then(async (res) => ({
    status: res.statusCode,
    connection: String(res.headers['connection'] ?? ''),
    body: await res.body.text(),
  }));
  held.catch(() => {}); // awaited below
  await site.http1.waitForHeld(HOLD, 5_000);

  const t0 = Date.now();
  pod.signal('SIGTERM');
  // Propagation: readiness fails and Envoy's health fails while both listeners still accept, so
  // load balancers stop sending before anything closes; the modified ingress listener drains its
  // old connections (a draining version) while the new one accepts.
  await waitUntil('readiness 503 on both ports', async () => (await pod.readyz('api')) === 503 && (await pod.readyz('probe')) === 503, 3_000);
  assert.deepEqual(await pod.listeners(), BOTH, 'readiness fails before any listener changes');
  await pod.proc.waitForLog((l) => l['phase'] === 'propagation', 3_000);
  pod.signal('SIGTERM'); // joins the shutdown under way
  await waitUntil("Envoy's /ready to turn DRAINING (/healthcheck/fail)", async () => (await pod.admin('/ready')).status === 503, 3_000);
  await waitUntil(
    'a draining version of the modified ingress listener',
    async () => (await pod.drainingListeners()).includes(INGRESS_LISTENER),
    3_000,
  );
  assert.deepEqual(await pod.listeners(), BOTH, 'both listeners still active while endpoint removal propagates');
  assert.equal((await pod.get('ingress')).status, 200, 'new connections are still served during propagation');
  assert.equal(pod.phases().includes('ingress'), false, 'all of that within the propagation phase');

  // Ingress removed; egress stays and serves while the ingress request is in flight.
  await waitUntil('the ingress listener removed', async () => (await pod.listeners()).join() === EGRESS_LISTENER, 6_000);
  assert.equal((await pod.get('egress')).status, 200, 'the app still calls out during the ingress phase');
  assert.equal((await pod.get('ingress')).status, 0, 'the removed ingress listener refuses new connections');
  assert.equal(pod.phases().includes('ingress_done'), false, 'the open ingress request holds the ingress phase');
  assert.deepEqual(await pod.listeners(), [EGRESS_LISTENER]);
  const releasedAt = Date.now();
  site.http1.release(HOLD);
  const answer = await held;
  assert.equal(answer.status, 200, 'the request in flight when the drain started completed');
  assert.match(answer.connection, /close/i, 'and told its client to close the connection');

  const code = await pod.exited;
  const elapsed = (Date.now() - t0) / 1000;
  note(`first run: shutdown took ${elapsed} s; ingress held ${releasedAt - t0} ms by one request`);
  assert.equal(code, 0, "drainplane exits with Envoy's exit code");
  assert.ok(elapsed < GRACE_S, `the shutdown fits the ${GRACE_S} s grace period (took ${elapsed} s)`);
  assert.equal((await pod.admin('/ready').catch(() => undefined))?.status, undefined, 'Envoy is gone');

  const phases = pod.phases();
  const order = [
    'shutdown',
    'healthcheck_fail',
    'propagation',
    'ingress',
    'ingress_done',
    'egress',
    'egress_done',
    'drained',
    'envoy_stop',
    'envoy_stopped',
  ];
  assert.deepEqual(
    phases.filter((p) => order.includes(p)),
    order,
    `phases in order: ${phases.join(', ')}`,
  );
  assert.equal(phases.filter((p) => p === 'shutdown').length, 1, 'one shutdown, the second SIGTERM joined it');
  assert.ok(pod.logs.some((l) => l['event'] === 'shutdown_joined'));
  assert.match(pod.phaseMessage('ingress_done') ?? '', /ingress phase completed/);
  assert.match(pod.phaseMessage('egress_done') ?? '', /egress phase completed/);
  assert.match(pod.phaseMessage('drained') ?? '', /drain drained/);
  assert.ok(pod.logs.every((l) => l['event'] !== 'shutdown_phase' || typeof l['remaining'] === 'number'));
  const stops = await site.stops();
  assert.deepEqual(
    stops.map((s) => s.name),
    ['router', 'policy-engine'],
    'dependents stopped in order',
  );
  const envoyExit = Number(pod.logs.find((l) => l['phase'] === 'envoy_stopped')?.['time']);
  assert.ok(
    stops.every((s) => s.at >= envoyExit),
    'after Envoy exited',
  );
}

async function restartServesInFull(pod: RunPod): Promise<void> {
  const warning = await pod.proc.waitForLog((l) => l['event'] === 'plan_warning', START_TIMEOUT_MS);
  assert.match(String(warning['msg']), /do not fit the grace period: 6s .* each is shortened to/);

  // Ready means: Envoy is LIVE and has the listeners its config gives it.
  await waitUntil('readiness 200 after the restart', async () => (await pod.readyz('api')) === 200, START_TIMEOUT_MS);
  assert.deepEqual(await pod.listeners(), BOTH, 'the restarted Envoy has every listener of its config, not the drained set');
  assert.equal(await pod.readyz('probe'), 200);
  assert.equal((await pod.get('ingress')).status, 200, 'ingress serves after the restart');
  assert.equal((await pod.get('egress')).status, 200, 'egress serves after the restart');

  // The first run's shutdown is kept as history.
  const drains = (await pod.api('GET', '/v1/drains')).body.drains as ShutdownDrain[];
  assert.equal(drains.length, 2, 'the propagation drain, and the ingress-then-egress drain, of the first shutdown');
  for (const d of drains) {
    // The propagation delay's modify drain ends at its deadline: Envoy still drained the old
    // ingress version then (its drain time, from the plan, is longer), so it never said completed.
    if (d.spec.method === 'modify') assertEnvoyStillDrained(d);
    else assert.equal(d.state, 'completed');
    assert.equal(d.origin, 'shutdown');
    assert.match(d.retired?.reason ?? '', /restart/);
  }

  const t0 = Date.now();
  pod.signal('SIGTERM');
  assert.equal(await pod.exited, 0);
  const elapsed = (Date.now() - t0) / 1000;
  assert.ok(elapsed < 6, `a shortened plan still ends within its 6 s grace period (took ${elapsed} s)`);
}
