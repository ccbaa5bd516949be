/**
 * A rolling restart of the backends behind Envoy: one real Envoy, its app cluster on EDS from
 * `drainplane serve` with two backend processes (test/e2e-envoy/backend-main.ts), wrk through Envoy at a paced
 * rate, and each backend restarted in turn under that load: stopped with SIGTERM, started again
 * on the same address `downSeconds` later. Two ways of stopping a backend:
 *
 *   backend-sigterm   SIGTERM alone: Envoy learns the host is gone when connecting to it fails.
 *   backend-drain     the backend's preStop first, `drainplane prestop --endpoint HOST:PORT`,
 *                     which returns once Envoy has the endpoint DRAINING and no request or
 *                     connection open to it; then SIGTERM. Once the new backend listens, its
 *                     start-up cancels that drain, and Envoy routes to it again.
 *
 * No retries and no health checks on the cluster, as in the measurement this answers: what
 * reaches the client is what Envoy met.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapConfig, fleetConfig, freeLoopbackPorts, readDemoFile } from '../../../test/e2e-envoy/configs.js';
import { Load, type LoadResult } from '../load.js';
import { BenchProcess } from '../processes.js';
import { answers } from '../setup.js';
import { RestartableBackend } from '../../../test/e2e-envoy/restartable-backend.js';

const DRAINPLANE = fileURLToPath(new URL('../../../../bin/drainplane.js', import.meta.url));
const NODE_ID = 'edge';
const CLUSTER = 'backend-restart';
const BACKENDS = ['a', 'b'] as const;
/** The app cluster's stats that tell how Envoy met a backend going away. */
const ENVOY_STATS = ['upstream_cx_connect_fail', 'upstream_cx_destroy_remote_with_active_rq', 'upstream_rq_503', 'upstream_rq_5xx'] as const;

export type BackendArmKind = 'backend-sigterm' | 'backend-drain';

export interface BackendArmOptions {
  readonly baseDir: string;
  readonly envoyBin: string;
  readonly wrkBin: string;
  /** The upstream behind the demo's other clusters (egress). */
  readonly upstreamPort: number;
  readonly rate: number;
  readonly threads: number;
  readonly connections: number;
  /** Load seconds at least; on until the last restart is over plus `tailSeconds`. */
  readonly durationSeconds: number;
  /** Seconds into the load when each backend's restart starts (the second waits for the first). */
  readonly restartAtSeconds: readonly [number, number];
  /** From the backend's exit to its new process. */
  readonly downSeconds: number;
  readonly tailSeconds: number;
  /** The endpoint drain's deadline (the backend's preStop budget). */
  readonly drainDeadlineSeconds: number;
  readonly log: (line: string) => void;
}

export interface BackendRestart {
  readonly backend: string;
  /** Seconds into the load when its restart started. */
  readonly atSeconds: number;
  /** backend-drain: how long the preStop took, and how it ended. */
  readonly prestop?: { readonly seconds: number; readonly outcome: string };
  /** From SIGTERM to the new backend listening. */
  readonly downSeconds: number;
}

export interface BackendArmResult {
  readonly kind: BackendArmKind;
  readonly load: LoadResult;
  readonly restarts: readonly BackendRestart[];
  /** The app cluster's counters in Envoy at the end (see ENVOY_STATS). */
  readonly envoy: Readonly<Record<(typeof ENVOY_STATS)[number], number>>;
}

export async function runBackendArm(kind: BackendArmKind, o: BackendArmOptions): Promise<BackendArmResult> {
  const dir = await mkdtemp(path.join(o.baseDir, `${kind}-`));
  const [ingressPort, egressPort, adminPort, xdsPort, apiPort, ...backendPorts] = (await freeLoopbackPorts(5 + BACKENDS.length)) as [
    number,
    number,
    number,
    number,
    number,
    ...number[],
  ];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const processes: { controlPlane?: BenchProcess; envoy?: BenchProcess; backends: RestartableBackend[] } = { backends: [] };
  const close = async (): Promise<void> => {
    const stops: Promise<unknown>[] = processes.backends.map((b) => b.stop());
    for (const p of [processes.envoy, processes.controlPlane]) if (p) stops.push(p.stop());
    await Promise.allSettled(stops);
  };
  try {
    const configFile = path.join(dir, 'fleet.yaml');
    const node = { id: NODE_ID, ingressPort, egressPort, adminPort };
    await writeFile(
      configFile,
      fleetConfig(await readDemoFile('drainplane.yaml'), { cluster: CLUSTER, nodes: [node], http1Port: o.upstreamPort, edsPorts: backendPorts }),
    );
    processes.controlPlane = BenchProcess.start({
      name: 'drainplane serve',
      command: process.execPath,
      args: [DRAINPLANE, 'serve', '--config', configFile, '--xds-port', String(xdsPort), '--api-port', String(apiPort)].concat([
        '--state-dir',
        path.join(dir, 'state'),
        '--no-watch',
        '--log-level',
        'warn',
      ]),
    });
    for (const port of backendPorts) processes.backends.push(await RestartableBackend.start(port));
    const bootstrapFile = path.join(dir, 'bootstrap.yaml');
    await writeFile(
      bootstrapFile,
      bootstrapConfig(await readDemoFile('bootstrap.yaml'), { nodeId: NODE_ID, cluster: CLUSTER, xdsPort, adminPort, adsApi: 'GRPC' }),
    );
    processes.envoy = BenchProcess.start({
      name: 'envoy',
      command: o.envoyBin,
      args: ['-c', bootstrapFile, '--concurrency', '1', '--disable-hot-restart', '--log-level', 'warning'],
    });
    await untilServing(ingressPort, adminPort, backendPorts);

    const load = Load.start({
      bin: o.wrkBin,
      url: `http://127.0.0.1:${ingressPort}/app`,
      rate: o.rate,
      threads: o.threads,
      connections: o.connections,
      maxSeconds: o.durationSeconds + 120,
      dir,
    });
    const startedAt = performance.now();
    const sinceStart = (): number => (performance.now() - startedAt) / 1000;
    const restarts: BackendRestart[] = [];
    for (const [i, name] of BACKENDS.entries()) {
      await sleep((o.restartAtSeconds[i]! - sinceStart()) * 1000);
      if (!load.running) throw new Error(`wrk ended early`);
      const backend = processes.backends[i]!;
      o.log(`${kind}: restarting backend ${name} (${backend.address}) at ${sinceStart().toFixed(1)} s`);
      restarts.push(await restart(kind, name, backend, sinceStart(), apiUrl, o));
    }
    await sleep(Math.max(o.tailSeconds, o.durationSeconds - sinceStart()) * 1000);
    const result = await load.stop();
    return { kind, load: result, restarts, envoy: await envoyStats(adminPort) };
  } catch (err) {
    const tails = [processes.controlPlane, processes.envoy].map((p) => p && `--- ${p.name}:\n${p.outputTail()}`).join('\n');
    throw new Error(`${kind}: ${(err as Error).message}\n${tails}`, { cause: err });
  } finally {
    await close();
  }
}

async function restart(
  kind: BackendArmKind,
  name: string,
  backend: RestartableBackend,
  atSeconds: number,
  apiUrl: string,
  o: BackendArmOptions,
): Promise<BackendRestart> {
  const { address } = backend;
  let prestop: BackendRestart['prestop'];
  let drainId: string | undefined;
  if (kind === 'backend-drain') {
    const t0 = performance.now();
    let outcome = '';
    const hook = BenchProcess.start({
      name: `prestop ${name}`,
      command: process.execPath,
      args: [DRAINPLANE, 'prestop', '--endpoint', address, '--api', apiUrl, '--deadline', String(o.drainDeadlineSeconds)],
      onLine: (line) => {
        if (line.startsWith('prestop: endpoint')) outcome = line.trim();
      },
    });
    const exit = await hook.exited;
    drainId = /\(drain (\S+)\)/.exec(outcome)?.[1];
    if (exit.code !== 0 || !drainId) throw new Error(`prestop for ${address} ended with ${exit.code}:\n${hook.outputTail()}`);
    prestop = { seconds: round((performance.now() - t0) / 1000), outcome };
    o.log(`  ${outcome}`);
  }
  const t0 = performance.now();
  await backend.stop();
  await sleep(o.downSeconds * 1000);
  await backend.restart();
  const downSeconds = round((performance.now() - t0) / 1000);
  // The new backend's start-up: Envoy may route to it again.
  if (drainId) await cancelDrain(apiUrl, drainId);
  return { backend: name, atSeconds: round(atSeconds), ...(prestop && { prestop }), downSeconds };
}

async function cancelDrain(apiUrl: string, id: string): Promise<void> {
  const res = await fetch(`${apiUrl}/v1/drains/${id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' } });
  if (res.status !== 200) throw new Error(`cancel of ${id} answered ${res.status}: ${await res.text()}`);
}

/** Until ingress answers and Envoy has both backends in the app cluster. */
async function untilServing(ingressPort: number, adminPort: number, backendPorts: readonly number[]): Promise<void> {
  const deadline = performance.now() + 45_000;
  const hosts = async (): Promise<boolean> => {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/clusters`)).text().catch(() => '');
    return backendPorts.every((p) => text.includes(`app::127.0.0.1:${p}::`));
  };
  while (!((await answers(ingressPort).catch(() => false)) && (await hosts().catch(() => false)))) {
    if (performance.now() > deadline) throw new Error('Envoy did not serve both backends within 45 s');
    await sleep(200);
  }
}

async function envoyStats(adminPort: number): Promise<BackendArmResult['envoy']> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/stats?format=json&filter=${encodeURIComponent('^cluster\\.app\\.')}`);
  const { stats } = (await res.json()) as { stats: { name: string; value?: number }[] };
  const value = (stat: string): number => stats.find((s) => s.name === `cluster.app.${stat}`)?.value ?? 0;
  return Object.fromEntries(ENVOY_STATS.map((s) => [s, value(s)])) as BackendArmResult['envoy'];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const round = (n: number): number => Math.round(n * 100) / 100;
