/**
 * `drainplane run` with a real Envoy at the edges of a pod's life: a SIGTERM that comes while
 * Envoy is still starting, and an Envoy admin API that cannot be reached (drainplane was told
 * the wrong address). Neither may keep the pod from ending within its grace period.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADS_APIS, EGRESS_LISTENER, INGRESS_LISTENER, freeLoopbackPorts, type AdsApi } from './configs.js';
import { withRealEnvoy, type RealEnvoy } from './envoy-binary.js';
import { PodSite, START_TIMEOUT_MS, step, type RunPod } from './pod.js';
import { waitUntil } from '../support/wait.js';

withRealEnvoy('drainplane run edge cases', (envoy) => {
  // The ADS flavours run side by side: each pod has its own ports and folder, and mostly waits.
  describe(`drainplane run with a real Envoy (${envoy.version}): edge cases`, { timeout: 120_000, concurrency: true }, () => {
    for (const adsApi of ADS_APIS) register(envoy, adsApi);
  });
});

function register(envoy: RealEnvoy, adsApi: AdsApi): void {
  test(`ADS ${adsApi}: SIGTERM during start-up still runs the plan and exits; an unreachable admin API does not block the shutdown`, async (t) => {
    const site = await PodSite.create({ envoyBin: envoy.bin, adsApi });
    t.after(() => site.close());

    const starting = site.start(['--grace-period', '6']);
    await step(`${adsApi}: SIGTERM during start-up`, starting, () => startupSigterm(starting));
    const [wrongAdmin] = await freeLoopbackPorts(1);
    const blind = site.start(['--grace-period', '8', '--propagation-delay', '0.5'], { adminAddress: `127.0.0.1:${wrongAdmin}` });
    await step(`${adsApi}: unreachable admin API`, blind, () => unreachableAdmin(blind));
  });
}

async function startupSigterm(pod: RunPod): Promise<void> {
  await pod.envoyPid();
  const t0 = Date.now();
  pod.signal('SIGTERM');
  const code = await pod.exited;
  // Envoy may still be starting when told to stop: its own code, or 128 + SIGTERM.
  assert.ok(code === 0 || code === 128 + 15, `exit code ${code}`);
  assert.ok((Date.now() - t0) / 1000 < 6, 'within the grace period');
  assert.ok(pod.phases().includes('done'), 'the shutdown ran to its end');
}

async function unreachableAdmin(pod: RunPod): Promise<void> {
  await waitUntil(
    'Envoy to get its listeners',
    async () => (await pod.listeners()).join() === [EGRESS_LISTENER, INGRESS_LISTENER].sort().join(),
    START_TIMEOUT_MS,
  );
  assert.equal(await pod.readyz(), 503, 'not ready while the admin API cannot say Envoy is LIVE');
  const t0 = Date.now();
  pod.signal('SIGTERM');
  assert.equal(await pod.exited, 0);
  assert.ok((Date.now() - t0) / 1000 < 8, 'within the grace period');
  assert.ok(pod.logs.some((l) => l['event'] === 'healthcheck_fail_failed'));
}
