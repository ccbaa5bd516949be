/**
 * `drainplane run` with the Envoy test double (test/support/envoy-double) as Envoy: the order of
 * what Envoy is told during a shutdown, the budget, and the edge cases of a pod's life.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { startCli, type CliProcess } from '../support/cli.js';
import { envoyDoubleCommand, readEvents, setGauges, writeDoubleBootstrap } from '../support/envoy-double/control.js';
import { demoConfig } from '../support/fleet-configs.js';
import { freeLoopbackPort } from '../support/grpc-xds-node.js';

const INGRESS = '127.0.0.1_10000';
const EGRESS = '127.0.0.1_15001';

interface Pod {
  readonly proc: CliProcess;
  readonly dir: string;
  readonly api: string;
  readonly adminAddress: string;
  /** Envoy's and the dependents' events, in order, from one file. */
  events(): Promise<{ type: string; at: string; [k: string]: unknown }[]>;
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A dependent process that records its SIGTERM in the shared events file, then exits. */
function dependent(name: string, eventsFile: string): { name: string; command: string[]; stopTimeoutSeconds: number } {
  const script =
    `process.on('SIGTERM', () => { require('fs').appendFileSync(${JSON.stringify(eventsFile)}, ` +
    `JSON.stringify({ at: new Date().toISOString(), type: 'dependent_stopped', name: ${JSON.stringify(name)} }) + '\\n');` +
    ` setTimeout(() => process.exit(0), 100); }); setInterval(() => {}, 1000);`;
  return { name, command: [process.execPath, '-e', script], stopTimeoutSeconds: 1 };
}

async function startPod(flags: string[] = [], options: { envoyArgs?: string[]; adminPort?: number } = {}): Promise<Pod> {
  const [xdsPort, apiPort, adminPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
  const boot = await writeDoubleBootstrap({
    nodeId: 'pod-1',
    cluster: 'test-cluster',
    xdsAddress: `127.0.0.1:${xdsPort}`,
    adminPort: options.adminPort ?? adminPort,
    statsFlushIntervalMs: 200,
  });
  const dir = boot.dir;
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const eventsFile = path.join(dir, 'events.jsonl');
  const config = path.join(dir, 'fleet.yaml');
  const dependents = [dependent('router', eventsFile), dependent('policy-engine', eventsFile)];
  await writeFile(config, `${demoConfig()}dependents: ${JSON.stringify(dependents)}\n`);
  const proc = startCli(
    [
      'run',
      '--config', config,
      '--xds-port', String(xdsPort),
      '--api-port', String(apiPort),
      '--probe-port', '0',
      '--state-dir', path.join(dir, 'state'),
      '--envoy-admin', `127.0.0.1:${adminPort}`,
      ...flags,
      '--',
      ...envoyDoubleCommand(['-c', boot.file, ...(options.envoyArgs ?? [])]),
    ],
    { ENVOY_DOUBLE_EVENTS: eventsFile },
  );
  cleanups.push(() => proc.child.kill('SIGKILL'));
  return {
    proc,
    dir,
    api: `http://127.0.0.1:${apiPort}`,
    adminAddress: `127.0.0.1:${adminPort}`,
    events: async () => (await readEvents(eventsFile).catch(() => [])) as never,
  };
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readyz = async (pod: Pod): Promise<number> => (await fetch(`${pod.api}/readyz`).catch(() => ({ status: 0 }))).status;

describe('drainplane run', { timeout: 120_000 }, () => {
  test('SIGTERM: health fail, ingress modify, ingress removal, ingress drained, egress removal, SIGTERM to Envoy, dependents in order; within the budget', async () => {
    const pod = await startPod(['--grace-period', '12', '--propagation-delay', '1', '--ingress-deadline', '4', '--egress-deadline', '3']);
    await until('readiness', async () => (await readyz(pod)) === 200 || undefined);
    await setGauges(pod.adminAddress, { listeners: { [INGRESS]: 2, [EGRESS]: 1 } });
    const t0 = Date.now();
    pod.proc.child.kill('SIGTERM');
    await until('readiness 503', async () => (await readyz(pod)) === 503 || (await readyz(pod)) === 0 || undefined);
    // Ingress connections go once the listener is removed; egress ones once egress is.
    await until('ingress removal', async () => (await pod.events()).find((e) => e.type === 'listener_removed' && e['name'] === 'ingress_http'));
    await setGauges(pod.adminAddress, { listeners: { [EGRESS]: 1 } });
    await until('egress removal', async () => (await pod.events()).find((e) => e.type === 'listener_removed' && e['name'] === 'egress_http'));
    await setGauges(pod.adminAddress, { listeners: {} });
    const code = await pod.proc.exited;
    const elapsed = (Date.now() - t0) / 1000;
    assert.equal(code, 0, "drainplane exits with Envoy's exit code");
    assert.ok(elapsed < 12, `the whole shutdown fits the 12 s budget (took ${elapsed}s)`);

    const events = await pod.events();
    const order = events
      .map((e) => {
        if (e.type === 'healthcheck_fail') return 'health fail';
        if (e.type === 'listener_modified' && e['name'] === 'ingress_http') return 'ingress modify';
        if (e.type === 'listener_removed') return `${e['name'] === 'ingress_http' ? 'ingress' : 'egress'} removal`;
        if (e.type === 'signal') return `envoy ${e['signal'] as string}`;
        if (e.type === 'dependent_stopped') return `${e['name'] as string} stopped`;
        return undefined;
      })
      .filter((x) => x !== undefined);
    assert.deepEqual(order, [
      'health fail',
      'ingress modify',
      'ingress removal',
      'egress removal',
      'envoy SIGTERM',
      'router stopped',
      'policy-engine stopped',
    ]);
    const phases = pod.proc.logs.filter((l) => l['event'] === 'shutdown_phase').map((l) => l['phase']);
    assert.ok(phases.indexOf('ingress_done') < phases.indexOf('egress'), 'egress starts after ingress drained');
    const ingressDone = pod.proc.logs.find((l) => l['phase'] === 'ingress_done')!;
    assert.match(String(ingressDone['msg']), /ingress phase completed/);
    assert.ok(pod.proc.logs.every((l) => l['event'] !== 'shutdown_phase' || typeof l['remaining'] === 'number'));
  });

  test('Envoy crashing by itself: drainplane stops the dependents and exits with its code', async () => {
    const pod = await startPod();
    await until('readiness', async () => (await readyz(pod)) === 200 || undefined);
    const started = (await pod.events()).find((e) => e.type === 'started')!;
    process.kill(Number(started['pid']), 'SIGKILL');
    const code = await pod.proc.exited;
    assert.equal(code, 128 + 9);
    const stopped = (await pod.events()).filter((e) => e.type === 'dependent_stopped').map((e) => e['name']);
    assert.deepEqual(stopped, ['router', 'policy-engine']);
  });

  test('SIGTERM during start-up still runs the plan and exits', async () => {
    const pod = await startPod(['--grace-period', '6']);
    await pod.proc.waitForLog((l) => l['event'] === 'envoy_started');
    pod.proc.child.kill('SIGTERM');
    const code = await pod.proc.exited;
    // Envoy may still be starting when told to stop: its own code, or 128 + SIGTERM.
    assert.ok(code === 0 || code === 128 + 15, `exit code ${code}`);
    assert.ok(pod.proc.logs.some((l) => l['phase'] === 'done'));
  });

  test('an unreachable admin API does not block the shutdown', async () => {
    // The double listens on another port than the one drainplane is told.
    const pod = await startPod(['--grace-period', '8', '--propagation-delay', '0.5'], { adminPort: await freeLoopbackPort() });
    await pod.proc.waitForLog((l) => l['event'] === 'envoy_started');
    await until('envoy synced', async () => (await pod.events()).find((e) => e.type === 'listener_added'));
    const t0 = Date.now();
    pod.proc.child.kill('SIGTERM');
    assert.equal(await pod.proc.exited, 0);
    assert.ok((Date.now() - t0) / 1000 < 8);
    assert.ok(pod.proc.logs.some((l) => l['event'] === 'healthcheck_fail_failed'));
  });

  test('a budget too small for the phases is shortened in proportion, with a warning giving the numbers', async () => {
    const pod = await startPod(['--grace-period', '6', '--propagation-delay', '5', '--ingress-deadline', '10', '--egress-deadline', '10']);
    const warning = await pod.proc.waitForLog((l) => l['event'] === 'plan_warning');
    assert.match(String(warning['msg']), /do not fit the grace period: 6s .* each is shortened to/);
    await until('readiness', async () => (await readyz(pod)) === 200 || undefined);
    const t0 = Date.now();
    pod.proc.child.kill('SIGTERM');
    assert.equal(await pod.proc.exited, 0);
    assert.ok((Date.now() - t0) / 1000 < 6, 'still within the grace period');
  });

  test('a second SIGTERM joins the shutdown under way', async () => {
    const pod = await startPod(['--grace-period', '6', '--propagation-delay', '1']);
    await until('readiness', async () => (await readyz(pod)) === 200 || undefined);
    pod.proc.child.kill('SIGTERM');
    await pod.proc.waitForLog((l) => l['phase'] === 'propagation');
    pod.proc.child.kill('SIGTERM');
    assert.equal(await pod.proc.exited, 0);
    assert.ok(pod.proc.logs.some((l) => l['event'] === 'shutdown_joined'));
    assert.equal(pod.proc.logs.filter((l) => l['phase'] === 'shutdown').length, 1, 'one shutdown, not two');
  });

  test('preStop, then SIGTERM: the hook returns when drained, and SIGTERM stops Envoy without a second drain', async () => {
    const pod = await startPod(['--grace-period', '10', '--propagation-delay', '0.5', '--ingress-deadline', '3', '--egress-deadline', '2']);
    await until('readiness', async () => (await readyz(pod)) === 200 || undefined);
    const prestop = startCli(['prestop', '--api', pod.api]);
    cleanups.push(() => prestop.child.kill('SIGKILL'));
    assert.equal(await prestop.exited, 0);
    const events = await pod.events();
    assert.ok(events.some((e) => e.type === 'listener_removed' && e['name'] === 'egress_http'), 'drained before the hook returned');
    assert.ok(!events.some((e) => e.type === 'signal'), 'Envoy still runs until SIGTERM');
    pod.proc.child.kill('SIGTERM');
    assert.equal(await pod.proc.exited, 0);
    assert.equal(pod.proc.logs.filter((l) => l['phase'] === 'shutdown').length, 1);
    assert.ok((await pod.events()).some((e) => e.type === 'signal' && e['signal'] === 'SIGTERM'));
  });

  test("Envoy's drain flags come from the plan", async () => {
    const pod = await startPod(['--grace-period', '20']);
    const started = await until('started', async () => (await pod.events()).find((e) => e.type === 'started'));
    assert.equal(started['drain_strategy'], 'immediate');
    // 20 s - 2 s margin - 2 s Envoy stop - 2 x 1 s dependent stops = 14 s of drain phases.
    assert.equal(started['drain_time_s'], 14);
    pod.proc.child.kill('SIGTERM');
    await pod.proc.exited;
  });
});
