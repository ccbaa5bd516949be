/**
 * `drainplane run` with a real Envoy: egress is removed once the application no longer calls
 * out, measured from Envoy's connection gauges, not as soon as ingress has drained.
 *
 * An app that keeps its egress connection open after SIGTERM keeps egress serving, every call
 * answered, long after ingress drained; once it closes its pool, egress is removed and Envoy
 * stopped within a few readings, well before the budget. An app that never lets go holds egress
 * until the egress phase's wait runs out (its deadline less 1 s for the removal, from when
 * ingress drained): then egress is drained anyway, with a warning that
 * names the listener and its connections, and the shutdown still ends within the grace period.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADS_APIS, EGRESS_LISTENER, type AdsApi } from './configs.js';
import { PooledEgressApp } from './egress-app.js';
import { withRealEnvoy, type RealEnvoy } from './envoy-binary.js';
import { PodSite, START_TIMEOUT_MS, step, type RunPod } from './pod.js';
import { waitUntil } from '../support/wait.js';

/** Propagation 1 s, ingress 3 s, egress 8 s: once ingress drained, egress may wait 7 s, then 1 s of removal. */
const GRACE_S = 20;
const PLAN = ['--grace-period', String(GRACE_S), '--propagation-delay', '1', '--ingress-deadline', '3', '--egress-deadline', '8'];
const EGRESS_WAIT_MS = 7_000;
/** The app calls out this long after SIGTERM: past ingress drained (about 1.3 s), within the plan. */
const APP_WORK_MS = 4_000;

withRealEnvoy('drainplane run egress after the app', (envoy) => {
  describe(`drainplane run with a real Envoy (${envoy.version}): egress waits for the app`, { timeout: 120_000, concurrency: true }, () => {
    for (const adsApi of ADS_APIS) register(envoy, adsApi);
  });
});

function register(envoy: RealEnvoy, adsApi: AdsApi): void {
  const scenarios = [
    ['egress serves the app until it closes its pool, then Envoy stops well before the budget', 'app lets go', appLetsGo],
    ["an app that never lets go holds egress until the budget's wait runs out, with a warning naming the listener", 'app holds on', appHoldsOn],
  ] as const;
  for (const [title, label, body] of scenarios) {
    test(`ADS ${adsApi}: ${title}`, async (t) => {
      const site = await PodSite.create({ envoyBin: envoy.bin, adsApi });
      const apps: PooledEgressApp[] = [];
      t.after(async () => {
        await Promise.allSettled(apps.map((a) => a.letGo()));
        await site.close();
      });
      const pod = site.start(PLAN);
      await step(`${adsApi}: ${label}`, pod, () => body(pod, apps, t.diagnostic.bind(t)));
    });
  }
}

/** Once ready, the app calls out; SIGTERM then, and the time (from it) ingress was drained. */
async function sigtermWhileCalling(pod: RunPod, apps: PooledEgressApp[]): Promise<{ app: PooledEgressApp; t0: number; ingressDone: number }> {
  await waitUntil('readiness 200', async () => (await pod.readyz('api')) === 200, START_TIMEOUT_MS);
  const app = new PooledEgressApp(pod.site.ports.egressPort);
  apps.push(app);
  await waitUntil('the app calling out', () => app.calls.some((c) => c.status === 200), 5_000);
  const t0 = Date.now();
  pod.signal('SIGTERM');
  await pod.proc.waitForLog((l) => l['phase'] === 'ingress_done', 8_000);
  return { app, t0, ingressDone: Date.now() - t0 };
}

async function appLetsGo(pod: RunPod, apps: PooledEgressApp[], note: (m: string) => void): Promise<void> {
  const { app, t0, ingressDone } = await sigtermWhileCalling(pod, apps);
  await new Promise((r) => setTimeout(r, Math.max(0, APP_WORK_MS - (Date.now() - t0))));
  assert.deepEqual(
    await pod.listeners(),
    [EGRESS_LISTENER],
    `egress still there ${APP_WORK_MS} ms after SIGTERM, ingress drained at ${ingressDone} ms`,
  );
  assert.equal(pod.phases().includes('egress_release'), false, 'egress not released while the app holds its connection');
  const letGoAt = Date.now();
  await app.letGo();

  const code = await pod.exited;
  const exitMs = Date.now() - t0;
  note(`ingress drained at ${ingressDone} ms, app let go at ${letGoAt - t0} ms, drainplane exited at ${exitMs} ms`);
  assert.equal(code, 0);
  const failed = app.failedSince(t0);
  assert.deepEqual(failed, [], 'every call the app made after SIGTERM was answered');
  assert.ok(app.calls.filter((c) => c.at >= t0).length >= 20, 'and it kept calling');
  // 0.5 s quiet window, readings every 100 ms, the removal's ACK and Envoy's stop: about 1 s.
  assert.ok(Date.now() - letGoAt < 3_000, `Envoy stopped soon after the app let go (${exitMs - (letGoAt - t0)} ms)`);
  assert.ok(exitMs < ingressDone + EGRESS_WAIT_MS - 1_000, `well before the egress wait ran out (took ${exitMs} ms)`);
  assert.match(pod.phaseMessage('egress_release') ?? '', /no connection for 0\.5s/);
  assert.equal(
    pod.logs.some((l) => l['event'] === 'egress_held'),
    false,
  );
  const order = ['ingress_done', 'egress', 'egress_release', 'egress_done', 'envoy_stop'];
  assert.deepEqual(
    pod.phases().filter((p) => order.includes(p)),
    order,
  );
  assert.match(pod.phaseMessage('egress_done') ?? '', /egress phase completed/);
}

async function appHoldsOn(pod: RunPod, apps: PooledEgressApp[], note: (m: string) => void): Promise<void> {
  const { app, t0, ingressDone } = await sigtermWhileCalling(pod, apps);
  const held = await pod.proc.waitForLog((l) => l['event'] === 'egress_held', EGRESS_WAIT_MS + 3_000);
  const heldMs = Date.now() - t0;
  const code = await pod.exited;
  const exitMs = Date.now() - t0;
  note(`ingress drained at ${ingressDone} ms, egress held until ${heldMs} ms, drainplane exited at ${exitMs} ms`);
  assert.equal(code, 0);
  assert.match(String(held['msg']), /egress_http held 1 connection\(s\)/, 'the warning names the listener and its connections');
  assert.match(pod.phaseMessage('egress_release') ?? '', /drained anyway/);
  // The wait is the egress phase less the removal's 1 s, from when ingress drained.
  assert.ok(
    heldMs >= ingressDone + EGRESS_WAIT_MS - 300,
    `egress served the app until the wait ran out (ingress drained at ${ingressDone} ms, released at ${heldMs} ms)`,
  );
  const before = app.calls.filter((c) => c.at >= t0 && c.at < t0 + heldMs - 500);
  assert.ok(before.length >= 40 && before.every((c) => c.status === 200), 'every call before the wait ran out was answered');
  assert.ok(exitMs < GRACE_S * 1000 - 2_000, `within the grace period, before its margin (took ${exitMs} ms)`);
}
