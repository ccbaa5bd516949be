/**
 * `drainplane run` with a real Envoy that has no egress listener: the shape of the shipped
 * Kubernetes deployment (deploy/kubernetes), across a pod's life.
 *
 * 1. preStop (`drainplane prestop`): the egress phase has nothing to drain, so it completes at
 *    once; the hook returns `drained` long before the egress deadline. Envoy keeps running, with
 *    no listener, until SIGTERM stops it.
 * 2. A restart on the same folder is killed (drainplane and Envoy, SIGKILL: the container died)
 *    while its shutdown waits on an open ingress request.
 * 3. A restart on that folder serves in full and is ready; both earlier shutdowns are listed as
 *    history. Then Envoy crashes by itself: the dependents are stopped, and drainplane exits
 *    with Envoy's code (128 + SIGKILL).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Client } from 'undici';
import { startCli } from '../support/cli.js';
import { ADS_APIS, INGRESS_LISTENER, type AdsApi } from './configs.js';
import { withRealEnvoy, type RealEnvoy } from './envoy-binary.js';
import { sleep } from './fleet.js';
import { assertEnvoyStillDrained, PodSite, START_TIMEOUT_MS, step, type RunPod, type ShutdownDrain } from './pod.js';
import { waitUntil } from '../support/wait.js';
import { holdPath } from './upstreams.js';

const HOLD = 'killed-mid-shutdown';
const EGRESS_DEADLINE_S = 20;
const PLAN = ['--grace-period', '30', '--propagation-delay', '0.5', '--ingress-deadline', '5', '--egress-deadline', String(EGRESS_DEADLINE_S)];

withRealEnvoy('drainplane run without egress listeners', (envoy) => {
  // The ADS flavours run side by side: each pod has its own ports and folder, and mostly waits.
  describe(`drainplane run with a real Envoy (${envoy.version}): ingress only`, { timeout: 120_000, concurrency: true }, () => {
    for (const adsApi of ADS_APIS) register(envoy, adsApi);
  });
});

function register(envoy: RealEnvoy, adsApi: AdsApi): void {
  test(`ADS ${adsApi}: preStop drains without waiting out the egress deadline; killed mid-shutdown, a restart serves in full; an Envoy crash ends the pod`, async (t) => {
    const site = await PodSite.create({ envoyBin: envoy.bin, adsApi, ingressOnly: true });
    const holders: Client[] = [];
    t.after(async () => {
      site.http1.release(HOLD);
      await Promise.allSettled(holders.map((c) => c.destroy()));
      await site.close();
    });
    for (const [name, body] of [
      ['preStop', prestopDrains],
      ['killed mid-shutdown', killedMidShutdown],
      ['restart and crash', restartThenCrash],
    ] as const) {
      const pod = site.start(PLAN);
      await step(`${adsApi}: ${name}`, pod, () => body(pod, holders, t.diagnostic.bind(t)));
    }
  });
}

async function serving(pod: RunPod): Promise<void> {
  await waitUntil('readiness 200', async () => (await pod.readyz('api')) === 200, START_TIMEOUT_MS);
  assert.deepEqual(await pod.listeners(), [INGRESS_LISTENER], 'Envoy has the listener its config gives it');
  assert.equal(await pod.readyz('probe'), 200);
  assert.equal((await pod.get('ingress')).status, 200);
}

async function prestopDrains(pod: RunPod, _holders: Client[], note: (m: string) => void): Promise<void> {
  await serving(pod);
  const t0 = Date.now();
  const hook = startCli(['prestop', '--api', `http://127.0.0.1:${pod.site.ports.apiPort}`]);
  const bound = sleep(15_000).then(() => 'still running after 15 s');
  const code = await Promise.race([hook.exited, bound]);
  hook.child.kill('SIGKILL');
  const took = (Date.now() - t0) / 1000;
  note(`preStop returned in ${took} s (egress deadline ${EGRESS_DEADLINE_S} s)`);
  assert.equal(code, 0, `the preStop hook returns once drained, not after the ${EGRESS_DEADLINE_S} s egress deadline`);
  assert.match(pod.phaseMessage('egress_done') ?? '', /egress phase completed/);
  assert.match(pod.phaseMessage('drained') ?? '', /drain drained/, 'not budget-exhausted');

  const drains = (await pod.api('GET', '/v1/drains')).body.drains as ShutdownDrain[];
  // Ingress and egress are one drain: egress waits for the app there, from the start of ingress.
  const egress = drains.find((d) => d.spec.scope === 'all');
  assert.equal(egress?.state, 'completed', 'the drain with the egress phase is saved as completed');
  assert.equal(egress.phases[1]!.name, 'egress');
  const node = egress.phases[1]!.nodes[0]!;
  assert.deepEqual([node.state, node.listeners], ['drained', []]);
  assert.match(node.note ?? '', /no egress listener/);

  // Envoy still runs, drained, until SIGTERM.
  assert.equal(await pod.readyz('api'), 503);
  assert.deepEqual(await pod.listeners(), []);
  assert.equal((await pod.admin('/ready')).status, 503, "Envoy's health is failed");
  pod.signal('SIGTERM');
  assert.equal(await pod.exited, 0);
  assert.equal(pod.phases().filter((p) => p === 'shutdown').length, 1, 'SIGTERM joined the drain preStop ran');
}

async function killedMidShutdown(pod: RunPod, holders: Client[]): Promise<void> {
  await serving(pod);
  const site = pod.site;
  const holder = new Client(`http://127.0.0.1:${site.ports.ingressPort}`, { pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  holders.push(holder);
  holder.request({ method: 'GET', path: holdPath(HOLD) }).catch(() => {}); // cut by the kill
  await site.http1.waitForHeld(HOLD, 5_000);
  pod.signal('SIGTERM');
  await waitUntil('the ingress listener removed', async () => (await pod.listeners()).length === 0, 5_000);
  await pod.proc.waitForLog((l) => l['phase'] === 'ingress', 2_000);
  await pod.kill();
  site.http1.release(HOLD);
  assert.equal(pod.phases().includes('ingress_done'), false, 'killed while the ingress drain was running');
}

async function restartThenCrash(pod: RunPod): Promise<void> {
  const stopsBefore = (await pod.site.stops()).length;
  await serving(pod);
  const drains = (await pod.api('GET', '/v1/drains')).body.drains as ShutdownDrain[];
  // The first shutdown's two drains (propagation; ingress then egress), and the same two of the one cut short.
  assert.equal(drains.length, 4, 'both earlier shutdowns are listed');
  assert.ok(
    drains.every((d) => d.origin === 'shutdown' && /restart/.test(d.retired?.reason ?? '')),
    'as history',
  );
  // The propagation delay's modify drains never end completed: Envoy still drained the old ingress
  // version when the delay was over. The first shutdown's timed out at its deadline; the one cut
  // short may have been killed before it did, and then the restart ended it with its node as last
  // stored: pushed (an ACK is progress, kept in memory until the drain's next step is stored) or acked.
  const [first, cutShort, ...more] = drains.filter((x) => x.spec.method === 'modify').sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  assert.equal(more.length, 0, 'one modify drain per shutdown');
  assertEnvoyStillDrained(first!);
  if (cutShort!.state === 'cancelled') {
    const [node, ...others] = cutShort!.phases[0]!.nodes;
    assert.equal(others.length, 0);
    assert.ok(node!.state === 'pushed' || node!.state === 'acked', node!.state);
  } else assertEnvoyStillDrained(cutShort!);
  const cut = drains.filter((d) => d.spec.method !== 'modify' && d.state !== 'completed');
  assert.deepEqual(
    cut.map((d) => [d.spec.scope, d.spec.method, d.state]),
    [['all', 'remove', 'cancelled']],
    'the drain the kill cut short has ended',
  );

  process.kill(await pod.envoyPid(), 'SIGKILL');
  assert.equal(await pod.exited, 128 + 9, "drainplane exits with Envoy's code");
  const stops = (await pod.site.stops()).slice(stopsBefore).map((s) => s.name);
  assert.deepEqual(stops, ['router', 'policy-engine'], 'the dependents are stopped in order');
}
