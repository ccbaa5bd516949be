/**
 * The fleet-scale benchmark: drainplane (its own process, `drainplane serve`) with thousands of
 * simulated Envoy nodes on real HTTP/2 ADS streams, measured against a transport floor and
 * against go-control-plane.
 *
 *   npm run bench              # 1,000, 5,000 and 10,000 nodes
 *   npm run bench:smoke        # 50 nodes, well under a minute
 *   node dist/bench/fleet/main.js [--nodes 1000,5000,10000] [--smoke] [--workers 2] [--groups 4]
 *     [--delta-percent 20] [--streams-per-connection 100] [--connect-window 250] [--storm]
 *     [--cpu-prof DIR] [--drainplane PATH] [--no-floor] [--no-go] [--out DIR] [--store etcd] [--replicas N]
 *     [--history N]
 *
 * For each fleet size, in order:
 *  1. drainplane starts on a generated config (fleet-config.ts) with a fresh state folder;
 *  2. the generator connects every node and waits until each has ACKed CDS, EDS, LDS and RDS
 *     (time to connect and sync);
 *  3. daemon RSS and heap from GET /metrics, before the fleet connected and after (per node);
 *     with --history N, then N fleet-wide drains created and cancelled (kept as history, as
 *     weeks of rolling restarts leave them), before anything is measured;
 *  4. config reload: PUT /v1/config changing one listener per group, until every node ACKed
 *     the new LDS version;
 *  5. drain: POST /v1/drains selecting every node (scope ingress, method remove, measured by
 *     ACK; the reply a summary, as `drainplane drain` asks for), until every node ACKed the
 *     drained LDS version;
 *  6. the same generator against the transport floor (floor-server.ts): connect and sync, then
 *     the same two pushes, each one pre-encoded LDS response written to every stream on a
 *     trigger: the reloaded config's listeners, then the drained ones (each of drainplane's
 *     pushes is compared with the floor's push of the same listeners);
 *  7. the same generator against go-control-plane (go-peer/main.go: its SnapshotCache and ADS
 *     server on google.golang.org/grpc, serving the same encoded resources, built with the `go`
 *     on PATH and left out without one): connect and sync, then the drain as new snapshots
 *     without each group's ingress listeners.
 *
 * With --store etcd, drainplane runs as --replicas N processes on a throwaway local etcd
 * (replica-fleet.ts), the nodes on the first; with two or more, after the drain the first is
 * SIGKILLed and the nodes fail over to the second (failover.ts).
 *
 * Push latencies run from just before the API request is sent (or the floor's trigger) to the
 * moment each node's generator sent its ACK of the new version; both clocks are the host's
 * wall clock with sub-millisecond precision. The clock starts before the request rather than at
 * its response because drainplane pushes before it answers. Server CPU per push is the
 * difference of `drainplane_process_cpu_seconds_total` (the floor: process.cpuUsage(); the Go
 * peer: getrusage) between just before the trigger and 300 ms after the last ACK.
 *
 * The table goes to stdout, progress to stderr; results go to DIR/fleet-<date>.json (DIR:
 * bench/results; with --smoke, the system's temp folder unless --out is given).
 */
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DaemonMetrics, DaemonProcess } from './daemon-process.js';
import { measureFailover, type FailoverPair, type FailoverResult } from './failover.js';
import { ReplicaFleet, type EtcdTraffic, type StoreKind } from './replica-fleet.js';
import { replicationMarkdown } from './replication-report.js';
import { latencies } from './latencies.js';
import { DEFAULT_SHAPE, FLEET_METADATA, fleetConfigYaml, groupPlans, type FleetShape } from './fleet-config.js';
import type { FloorPush, FloorStats, FromFloor, ToFloor } from './floor-server.js';
import { LoadGenerator, withTimeout, type GeneratorOptions } from './generator.js';
import { GoPeerProcess, goPeerBuild, type GoPeerBuild } from './go-peer-process.js';
import { isDeltaNode, nowMs, type Convergence, type SyncReport } from './protocol.js';
import { ROWS_PER_PHASE } from '../../src/cli/progress.js';
import {
  cpuFits,
  machine,
  markdown,
  resultRecord,
  type BenchSettings,
  type DrainplaneRun,
  type FleetBenchResult,
  type FloorRun,
  type GoControlPlaneRun,
  type MemoryResult,
  type PushResult,
  type ReplicationRun,
  type RssResult,
  type SizeResult,
  type SyncResult,
} from './report.js';

const DEFAULT_OUT = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
const FLOOR_SCRIPT = fileURLToPath(new URL('./floor-server.js', import.meta.url));
/** After the last ACK, before reading CPU: the server has handled the ACKs (and a drain tick). */
const AFTER_PUSH_MS = 300;

interface Options {
  nodes: number[];
  smoke: boolean;
  workers: number;
  groups: number;
  deltaPercent: number;
  streamsPerConnection: number;
  connectWindow: number;
  /** Fleet-wide drains created and cancelled before the measured pushes: the kept history. */
  history: number;
  cpuProfDir: string | undefined;
  drainplaneBin: string | undefined;
  floor: boolean;
  go: boolean;
  out: string | undefined;
  store: StoreKind;
  replicas: number;
}

const USAGE = `usage: node dist/bench/fleet/main.js [options]
  --nodes N[,N...]              fleet sizes (default 1000,5000,10000; with --smoke 50)
  --smoke                       a quick run that checks everything works: 50 nodes by default
  --workers N                   load generator processes (default 2)
  --groups N                    node groups in the config (default ${DEFAULT_SHAPE.groups})
  --delta-percent P             share of nodes speaking Delta xDS (default 20)
  --streams-per-connection N    simulated nodes per HTTP/2 connection (default 100; 1: one each)
  --connect-window N            nodes per worker connecting at once (default 250)
  --storm                       a connect storm: every node at once, one connection each
  --history N                   first create and cancel N fleet-wide drains, kept as history (default 0)
  --cpu-prof DIR                write a V8 CPU profile of the daemon (node --cpu-prof) to DIR, and
                                go-control-plane's (pprof) as go-control-plane-NODES.pprof
  --drainplane PATH             the drainplane executable to measure (another build's bin/drainplane.js,
                                to compare two builds with the same generator); default this checkout's
  --no-floor                    skip the transport floor
  --no-go                       skip go-control-plane (left out anyway without \`go\` on PATH)
  --out DIR                     where fleet-<date>.json goes (default bench/results)
  --store file|etcd             drainplane's state store (default file; etcd: a local etcd is started)
  --replicas N                  drainplane replicas on the etcd store (default 1); 2 or more adds a failover`;

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      nodes: { type: 'string' },
      smoke: { type: 'boolean' },
      workers: { type: 'string' },
      groups: { type: 'string' },
      'delta-percent': { type: 'string' },
      'streams-per-connection': { type: 'string' },
      'connect-window': { type: 'string' },
      storm: { type: 'boolean' },
      history: { type: 'string' },
      'cpu-prof': { type: 'string' },
      drainplane: { type: 'string' },
      'no-floor': { type: 'boolean' },
      'no-go': { type: 'boolean' },
      out: { type: 'string' },
      store: { type: 'string' },
      replicas: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const int = (flag: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${flag} wants an integer from ${min} to ${max}, got "${raw}"`);
    return v;
  };
  const smoke = values.smoke === true;
  const store = values.store ?? 'file';
  if (store !== 'file' && store !== 'etcd') throw new Error(`--store wants file or etcd, got "${store}"`);
  const replicas = int('replicas', values.replicas, 1, 1, 8);
  if (replicas > 1 && store !== 'etcd') throw new Error('--replicas needs --store etcd');
  const nodes = (values.nodes ?? (smoke ? '50' : '1000,5000,10000')).split(',').map((s) => int('nodes', s.trim(), 0, 1, 100_000));
  return {
    nodes,
    smoke,
    workers: int('workers', values.workers, 2, 1, 16),
    groups: int('groups', values.groups, DEFAULT_SHAPE.groups, 1, 100),
    deltaPercent: int('delta-percent', values['delta-percent'], 20, 0, 100),
    // A connect storm: every node at once, one HTTP/2 connection each (after a daemon restart,
    // a failover, a network blip), rather than nodes multiplexed and paced.
    streamsPerConnection: values.storm ? 1 : int('streams-per-connection', values['streams-per-connection'], 100, 1, 10_000),
    connectWindow: values.storm ? 100_000 : int('connect-window', values['connect-window'], 250, 1, 100_000),
    history: int('history', values.history, 0, 0, 100),
    cpuProfDir: values['cpu-prof'],
    drainplaneBin: values.drainplane,
    floor: values['no-floor'] !== true,
    go: values['no-go'] !== true,
    out: values.out ?? (smoke ? undefined : DEFAULT_OUT),
    store,
    replicas,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Microseconds on the host's monotonic clock: the clock V8 CPU profiles are stamped with. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Phases of a daemon's life on the monotonic clock, to slice its CPU profile by (profile-summary.ts). */
interface Mark {
  readonly name: string;
  readonly startUs: number;
  endUs: number;
}

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${line}\n`);
}

/** Bounded waits, scaled with the fleet. */
const syncTimeoutMs = (nodes: number): number => 60_000 + nodes * 30;
const pushTimeoutMs = (nodes: number): number => 30_000 + nodes * 5;

function syncResult(reports: readonly SyncReport[], serverCpuSeconds: number): SyncResult {
  const started = Math.min(...reports.map((r) => r.startedAt));
  const finished = Math.max(...reports.map((r) => r.finishedAt));
  const nodes = reports.reduce((s, r) => s + r.nodes, 0);
  const totalMs = finished - started;
  return {
    totalMs,
    nodesPerSecond: totalMs > 0 ? (nodes * 1000) / totalMs : 0,
    perNode: latencies(reports.flatMap((r) => r.syncMs)),
    connections: reports.reduce((s, r) => s + r.connections, 0),
    generatorCpuSeconds: reports.reduce((s, r) => s + r.cpuMs, 0) / 1000,
    serverCpuSeconds,
  };
}

function rssResult(nodes: number, before: number, after: number): RssResult {
  return {
    baselineRssBytes: before,
    rssBytes: after,
    rssPerNodeKiB: (after - before) / nodes / 1024,
    rssTotalPerNodeKiB: after / nodes / 1024,
  };
}

function memoryResult(nodes: number, before: { rss: number; heap: number }, after: { rss: number; heap: number }): MemoryResult {
  return {
    ...rssResult(nodes, before.rss, after.rss),
    baselineHeapBytes: before.heap,
    heapBytes: after.heap,
    heapPerNodeKiB: (after.heap - before.heap) / nodes / 1024,
  };
}

function pushResult(t0: number, results: readonly Convergence[], apiResponseMs: number | null, serverCpuSeconds: number): PushResult {
  return {
    latency: latencies(results.flatMap((r) => r.ackTimes.map((t) => t - t0))),
    pending: results.reduce((s, r) => s + r.pending, 0),
    apiResponseMs,
    serverCpuSeconds,
    generatorCpuSeconds: results.reduce((s, r) => s + r.cpuMs, 0) / 1000,
    generatorLoopDelayP99Ms: Math.max(...results.map((r) => r.loopDelayP99Ms)),
  };
}

function describePush(name: string, p: PushResult): string {
  const l = p.latency;
  return (
    `${name}: ${l.count} ACKs, p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(1)} ms` +
    `${p.pending > 0 ? `, ${p.pending} NOT CONVERGED` : ''}, server CPU ${(p.serverCpuSeconds * 1000).toFixed(0)} ms, ` +
    `generator CPU ${(p.generatorCpuSeconds * 1000).toFixed(0)} ms (loop delay p99 ${p.generatorLoopDelayP99Ms.toFixed(1)} ms)`
  );
}

interface Context {
  readonly options: Options;
  readonly shape: FleetShape;
  readonly dir: string;
  /** The go-control-plane peer; null when it is left out, the Error when it did not build. */
  readonly goPeer: GoPeerBuild | Error | null;
}

function generatorOptions(ctx: Context, nodes: number, port: number): GeneratorOptions {
  return {
    workers: ctx.options.workers,
    host: '127.0.0.1',
    port,
    nodes,
    deltaPercent: ctx.options.deltaPercent,
    groups: groupPlans(ctx.shape),
    streamsPerConnection: ctx.options.streamsPerConnection,
    connectWindow: ctx.options.connectWindow,
  };
}

/** Waits until the daemon counts `nodes` open streams (the generator's view is not enough). */
async function waitForStreams(daemon: DaemonProcess, nodes: number): Promise<DaemonMetrics> {
  for (let i = 0; i < 100; i++) {
    const m = await daemon.metrics();
    if (m.streams >= nodes) return m;
    await sleep(100);
  }
  throw new Error(`the daemon reports ${(await daemon.metrics()).streams} open streams, expected ${nodes}`);
}

async function runDrainplane(ctx: Context, nodes: number, errors: string[]): Promise<DrainplaneRun> {
  const configFile = path.join(ctx.dir, `drainplane-${nodes}.yaml`);
  await writeFile(configFile, fleetConfigYaml(ctx.shape, 0));
  const fleet = await ReplicaFleet.start(ctx.options.store, ctx.options.replicas, {
    configFile,
    stateDir: path.join(ctx.dir, `state-${nodes}`),
    streamsPerConnection: ctx.options.streamsPerConnection,
    ...(ctx.options.cpuProfDir !== undefined && { cpuProfDir: ctx.options.cpuProfDir }),
    ...(ctx.options.drainplaneBin !== undefined && { bin: ctx.options.drainplaneBin }),
  });
  const daemon = fleet.first;
  for (const d of fleet.daemons) log(`drainplane pid ${d.pid}: xDS on 127.0.0.1:${d.xdsPort}, API ${d.apiUrl}`);
  let generator: LoadGenerator | undefined;
  const marks: Mark[] = [];
  const mark = (name: string): Mark => {
    const m = { name, startUs: monotonicUs(), endUs: 0 };
    marks.push(m);
    return m;
  };
  try {
    await sleep(ctx.options.smoke ? 200 : 1000);
    const before = await daemon.metrics();
    const fleetCpu0 = await fleet.cpuSeconds();
    const etcd0 = await fleet.etcdTraffic();
    const syncMark = mark('sync');
    const connected = await LoadGenerator.connect(generatorOptions(ctx, nodes, daemon.xdsPort), syncTimeoutMs(nodes));
    generator = connected.generator;
    syncMark.endUs = monotonicUs();
    const sync = syncResult(connected.reports, (await daemon.metrics()).cpuSeconds - before.cpuSeconds);
    const syncCpuByReplica = (await fleet.cpuSeconds()).map((c, i) => c - fleetCpu0[i]!);
    const syncEtcd = etcdTrafficSince(etcd0, await fleet.etcdTraffic());
    log(
      `drainplane: ${nodes} nodes synced in ${(sync.totalMs / 1000).toFixed(2)} s over ${sync.connections} connections, ` +
        `server CPU ${(sync.serverCpuSeconds * 1000).toFixed(0)} ms (${((sync.serverCpuSeconds * 1e6) / nodes).toFixed(0)} µs/node)`,
    );
    await waitForStreams(daemon, nodes);
    await sleep(ctx.options.smoke ? 300 : 2000);
    const after = await daemon.metrics();
    const memory = memoryResult(nodes, { rss: before.rssBytes, heap: before.heapUsedBytes }, { rss: after.rssBytes, heap: after.heapUsedBytes });
    log(
      `drainplane: RSS ${(after.rssBytes / 2 ** 20).toFixed(0)} MiB (${memory.rssPerNodeKiB.toFixed(1)} KiB/node), heap ${memory.heapPerNodeKiB.toFixed(1)} KiB/node`,
    );

    // The drain the benchmark measures: every node, ingress listeners removed, judged by the ACK
    // alone (the simulated nodes report no connection gauges).
    const body = JSON.stringify({ selector: { metadata: FLEET_METADATA }, scope: 'ingress', method: 'remove', measure: 'ack' });
    if (ctx.options.history > 0) await keepHistory(daemon, body, ctx.options.history, errors);

    // Config reload: one changed listener per group, so every node gets a new LDS version.
    const yaml = fleetConfigYaml(ctx.shape, 1);
    let t0 = 0;
    let apiMs = 0;
    let put: { status: number; body: { result?: string; nodesChanged?: number; errors?: unknown } } | undefined;
    let cpu0 = (await daemon.metrics()).cpuSeconds;
    const reloadMark = mark('reload');
    const reloadAcks = await generator.measureLdsPush('reload', pushTimeoutMs(nodes), async () => {
      t0 = nowMs();
      put = await daemon.json('PUT', '/v1/config', yaml, 'application/yaml');
      apiMs = nowMs() - t0;
    });
    await sleep(AFTER_PUSH_MS);
    reloadMark.endUs = monotonicUs();
    let cpu1 = (await daemon.metrics()).cpuSeconds;
    if (put?.status !== 200 || put.body.result !== 'applied') errors.push(`PUT /v1/config: HTTP ${put?.status} ${JSON.stringify(put?.body)}`);
    const reload = { ...pushResult(t0, reloadAcks, apiMs, cpu1 - cpu0), nodesChanged: put?.body.nodesChanged ?? 0 };
    if (reload.nodesChanged !== nodes) errors.push(`the reload changed ${reload.nodesChanged} nodes, expected ${nodes}`);
    if (reload.pending > 0) errors.push(`${reload.pending} nodes never ACKed the reloaded listeners`);
    log(`drainplane ${describePush('reload', reload)}`);

    // Drain: the one above.
    let post: { status: number; body: { id?: string; state?: string } } | undefined;
    cpu0 = (await daemon.metrics()).cpuSeconds;
    const drainMark = mark('drain');
    const drainAcks = await generator.measureLdsPush('drain', pushTimeoutMs(nodes), async () => {
      t0 = nowMs();
      // As `drainplane drain` asks: the reply is the drain's summary, not every node.
      post = await daemon.json('POST', `/v1/drains?nodes=${ROWS_PER_PHASE}`, body);
      apiMs = nowMs() - t0;
    });
    await sleep(AFTER_PUSH_MS);
    drainMark.endUs = monotonicUs();
    cpu1 = (await daemon.metrics()).cpuSeconds;
    if (post?.status !== 201 || !post.body.id) errors.push(`POST /v1/drains: HTTP ${post?.status} ${JSON.stringify(post?.body).slice(0, 500)}`);
    const drainPush = pushResult(t0, drainAcks, apiMs, cpu1 - cpu0);
    if (drainPush.pending > 0) errors.push(`${drainPush.pending} nodes never ACKed the drained listeners`);
    log(`drainplane ${describePush('drain', drainPush)}`);

    // The daemon's own view: the drain completes on the first progress tick after the last ACK.
    let drainState = 'unknown';
    let drainCompletedMs: number | null = null;
    const id = post?.body.id;
    for (let i = 0; id && i < 120; i++) {
      const got = await daemon.json<{ state: string }>('GET', `/v1/drains/${id}/summary?nodes=0`);
      drainState = got.body.state;
      if (drainState !== 'running') {
        drainCompletedMs = nowMs() - t0;
        break;
      }
      await sleep(250);
    }
    if (drainState !== 'completed') errors.push(`drain ${id} is ${drainState}, expected completed`);
    const final = await daemon.metrics();
    if (final.nacks > 0) errors.push(`${final.nacks} NACKs counted by the daemon`);
    const replication = syncEtcd && (await replicationRun(fleet, generator, nodes, { syncCpuByReplica, syncEtcd }, errors, mark));
    return {
      sync,
      memory,
      reload,
      drain: { ...drainPush, drainId: id ?? '', drainState, drainCompletedMs },
      nacks: final.nacks,
      ...(replication && { replication }),
    };
  } finally {
    await generator?.close();
    await fleet.stop();
    if (ctx.options.cpuProfDir !== undefined) {
      const file = path.join(ctx.options.cpuProfDir, `marks-${daemon.pid}.json`);
      await writeFile(file, `${JSON.stringify({ pid: daemon.pid, nodes, marks }, null, 2)}\n`);
      log(`CPU profile of pid ${daemon.pid} in ${ctx.options.cpuProfDir}; phases in ${file}`);
    }
    for (const d of fleet.daemons) if (d.output.trim() !== '') log(`drainplane ${d.pid} output (warn and above):\n${d.output.trim().slice(-3000)}`);
  }
}

/**
 * Drain history as a fleet has it after weeks of rolling restarts: `count` drains of every node,
 * each cancelled once created, kept by the daemon (its default keeps the newest 100).
 */
async function keepHistory(daemon: DaemonProcess, body: string, count: number, errors: string[]): Promise<void> {
  const t0 = nowMs();
  for (let i = 0; i < count; i++) {
    const created = await daemon.json<{ id?: string }>('POST', '/v1/drains', body);
    const cancelled = created.body.id && (await daemon.json<{ state?: string }>('POST', `/v1/drains/${created.body.id}/cancel`, '{}'));
    if (!cancelled || cancelled.status !== 200 || cancelled.body.state !== 'cancelled') {
      const why = cancelled ? `cancel: HTTP ${cancelled.status} ${JSON.stringify(cancelled.body).slice(0, 300)}` : `create: HTTP ${created.status}`;
      errors.push(`drain history: drain ${i + 1} of ${count} was not created and cancelled (${why})`);
      return;
    }
  }
  // The cancels' pushes and their ACKs settle before the measured pushes.
  await sleep(2000);
  log(`drainplane: ${count} fleet-wide drains created and cancelled in ${((nowMs() - t0) / 1000).toFixed(1)} s, kept as history`);
}

/** The replicas' side of an etcd run: their CPU over the sync, then the failover when there are two. */
async function replicationRun(
  fleet: ReplicaFleet,
  generator: LoadGenerator,
  nodes: number,
  sync: { syncCpuByReplica: readonly number[]; syncEtcd: EtcdTraffic },
  errors: string[],
  mark: (name: string) => Mark,
): Promise<ReplicationRun> {
  const { syncCpuByReplica, syncEtcd } = sync;
  log(`replicas' CPU over the sync: ${syncCpuByReplica.map((c) => `${((c * 1e6) / nodes).toFixed(0)} µs/node`).join(', ')}`);
  log(
    `etcd over the sync: ${JSON.stringify(syncEtcd.calls)}, ${(syncEtcd.receivedBytes / 2 ** 20).toFixed(1)} MiB in, ` +
      `${(syncEtcd.sentBytes / 2 ** 20).toFixed(1)} MiB out`,
  );
  let failover: FailoverResult | null = null;
  if (fleet.daemons.length > 1) {
    try {
      const failoverMark = mark('failover');
      const [first, survivor] = fleet.daemons as [DaemonProcess, DaemonProcess];
      const pair: FailoverPair = {
        killFirst: () => first.kill(),
        survivorPort: survivor.xdsPort,
        survivorCpuSeconds: async () => (await survivor.metrics()).cpuSeconds,
      };
      failover = await measureFailover(generator, pair, syncTimeoutMs(nodes));
      failoverMark.endUs = monotonicUs();
      const l = failover.listenersAgain;
      log(
        `failover: listeners again p50 ${l.p50Ms.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms, max ${l.maxMs.toFixed(0)} ms; ` +
          `replica 2 CPU ${(failover.survivorCpuSeconds * 1000).toFixed(0)} ms`,
      );
    } catch (err) {
      errors.push(`failover: ${(err as Error).message}`);
    }
  }
  const watchRestarts = fleet.watchRestarts();
  log(`etcd watch restarts logged by the replicas: ${watchRestarts}`);
  return { store: 'etcd', replicas: fleet.daemons.length, syncCpuSecondsByReplica: syncCpuByReplica, syncEtcd, watchRestarts, failover };
}

function etcdTrafficSince(before: EtcdTraffic | undefined, after: EtcdTraffic | undefined): EtcdTraffic | undefined {
  if (!before || !after) return undefined;
  const calls = Object.fromEntries(Object.entries(after.calls).map(([method, n]) => [method, n - (before.calls[method] ?? 0)]));
  return { calls, receivedBytes: after.receivedBytes - before.receivedBytes, sentBytes: after.sentBytes - before.sentBytes };
}

class FloorProcess {
  readonly #queue: FromFloor[] = [];
  readonly #waiters: ((m: FromFloor) => void)[] = [];
  readonly exited: Promise<void>;

  constructor(readonly child = fork(FLOOR_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })) {
    child.on('message', (m: FromFloor) => {
      const w = this.#waiters.shift();
      if (w) w(m);
      else this.#queue.push(m);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  async request<T extends FromFloor['op']>(message: ToFloor, reply: T): Promise<Extract<FromFloor, { op: T }>> {
    this.child.send(message);
    const m = await withTimeout(`the floor server's ${reply}`, 60_000, this.#next());
    if (m.op === 'error') throw new Error(`floor server: ${m.message}`);
    if (m.op !== reply) throw new Error(`floor server answered ${m.op}, expected ${reply}`);
    return m as Extract<FromFloor, { op: T }>;
  }

  #next(): Promise<FromFloor> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async stats(): Promise<FloorStats> {
    return (await this.request({ op: 'stats' }, 'stats')).stats;
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ op: 'stop' } satisfies ToFloor);
    try {
      await withTimeout('the floor server to exit', 10_000, this.exited);
    } catch {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

async function runFloor(ctx: Context, nodes: number, errors: string[], sizes: Record<string, number>): Promise<FloorRun> {
  const configFile = path.join(ctx.dir, `floor-${nodes}.yaml`);
  const reloadedFile = path.join(ctx.dir, `floor-${nodes}-reloaded.yaml`);
  await writeFile(configFile, fleetConfigYaml(ctx.shape, 0));
  await writeFile(reloadedFile, fleetConfigYaml(ctx.shape, 1));
  const floor = new FloorProcess();
  let generator: LoadGenerator | undefined;
  try {
    const listening = await floor.request({ op: 'start', configFile, reloadedFile }, 'listening');
    Object.assign(sizes, listening.responseBytes);
    log(`floor pid ${floor.child.pid}: 127.0.0.1:${listening.port}`);
    await sleep(ctx.options.smoke ? 200 : 1000);
    const before = await floor.stats();
    const connected = await LoadGenerator.connect(generatorOptions(ctx, nodes, listening.port), syncTimeoutMs(nodes));
    generator = connected.generator;
    const sync = syncResult(connected.reports, ((await floor.stats()).cpuMs - before.cpuMs) / 1000);
    log(`floor: ${nodes} nodes synced in ${(sync.totalMs / 1000).toFixed(2)} s, server CPU ${(sync.serverCpuSeconds * 1000).toFixed(0)} ms`);
    await sleep(ctx.options.smoke ? 300 : 2000);
    const after = await floor.stats();
    if (after.streams !== nodes) errors.push(`the floor counts ${after.streams} streams, expected ${nodes}`);
    const memory = memoryResult(nodes, { rss: before.rssBytes, heap: before.heapUsedBytes }, { rss: after.rssBytes, heap: after.heapUsedBytes });
    // The same two pushes as drainplane's, in its order: the reload's listeners, then the drain's.
    const measure = async (which: FloorPush): Promise<FloorRun['push']> => {
      let t0 = 0;
      let writeLoopMs = 0;
      const cpu0 = (await floor.stats()).cpuMs;
      const acks = await generator!.measureLdsPush(`floor ${which}`, pushTimeoutMs(nodes), async () => {
        t0 = nowMs();
        writeLoopMs = (await floor.request({ op: 'trigger', push: which }, 'triggered')).writeMs;
      });
      await sleep(AFTER_PUSH_MS);
      const cpu1 = (await floor.stats()).cpuMs;
      const push = { ...pushResult(t0, acks, null, (cpu1 - cpu0) / 1000), writeLoopMs };
      if (push.pending > 0) errors.push(`${push.pending} nodes never ACKed the floor's ${which} push`);
      log(`floor ${describePush(which, push)}`);
      return push;
    };
    const reload = await measure('reload');
    const push = await measure('drain');
    return { sync, memory, push, reload };
  } finally {
    await generator?.close();
    await floor.stop();
  }
}

async function runGoControlPlane(ctx: Context, nodes: number, errors: string[]): Promise<GoControlPlaneRun | null> {
  if (ctx.goPeer === null) return null;
  if (ctx.goPeer instanceof Error) throw ctx.goPeer;
  const configFile = path.join(ctx.dir, `go-control-plane-${nodes}.yaml`);
  await writeFile(configFile, fleetConfigYaml(ctx.shape, 0));
  const cpuProfile = ctx.options.cpuProfDir && path.join(ctx.options.cpuProfDir, `go-control-plane-${nodes}.pprof`);
  const { peer, port } = await GoPeerProcess.start(ctx.goPeer.binary, configFile, cpuProfile);
  // With replicas, a second process the nodes fail over to, as drainplane's replica 2 (go-control-plane
  // shares nothing between processes: each serves the same snapshots on its own).
  const standby = ctx.options.replicas > 1 ? await GoPeerProcess.start(ctx.goPeer.binary, configFile) : undefined;
  let generator: LoadGenerator | undefined;
  try {
    log(`go-control-plane pid ${peer.pid}: 127.0.0.1:${port}`);
    await sleep(ctx.options.smoke ? 200 : 1000);
    const before = await peer.stats();
    const connected = await LoadGenerator.connect(generatorOptions(ctx, nodes, port), syncTimeoutMs(nodes));
    generator = connected.generator;
    const sync = syncResult(connected.reports, ((await peer.stats()).cpuMs - before.cpuMs) / 1000);
    log(
      `go-control-plane: ${nodes} nodes synced in ${(sync.totalMs / 1000).toFixed(2)} s, server CPU ${(sync.serverCpuSeconds * 1000).toFixed(0)} ms`,
    );
    await sleep(ctx.options.smoke ? 300 : 2000);
    const after = await peer.stats();
    if (after.streams !== nodes) errors.push(`go-control-plane counts ${after.streams} streams, expected ${nodes}`);
    const memory = rssResult(nodes, before.rssBytes, after.rssBytes);
    let t0 = 0;
    let setSnapshotsMs = 0;
    const cpu0 = (await peer.stats()).cpuMs;
    const acks = await generator.measureLdsPush('go-control-plane', pushTimeoutMs(nodes), async () => {
      t0 = nowMs();
      setSnapshotsMs = await peer.drain();
    });
    await standby?.peer.drain();
    await sleep(AFTER_PUSH_MS);
    const cpu1 = (await peer.stats()).cpuMs;
    const push = { ...pushResult(t0, acks, null, (cpu1 - cpu0) / 1000), setSnapshotsMs };
    if (push.pending > 0) errors.push(`${push.pending} nodes never ACKed go-control-plane's drained listeners`);
    log(`go-control-plane ${describePush('drain', push)}`);
    const failover = standby ? await goFailover(generator, peer, standby, nodes, errors) : undefined;
    return { sync, memory, push, ...(failover && { failover }) };
  } finally {
    await generator?.close();
    await peer.stop();
    await standby?.peer.stop();
  }
}

/** The nodes on `first` fail over to `standby` when it is SIGKILLed (failover.ts). */
async function goFailover(
  generator: LoadGenerator,
  first: GoPeerProcess,
  standby: { peer: GoPeerProcess; port: number },
  nodes: number,
  errors: string[],
): Promise<FailoverResult | undefined> {
  try {
    const failover = await measureFailover(
      generator,
      { killFirst: () => first.kill(), survivorPort: standby.port, survivorCpuSeconds: async () => (await standby.peer.stats()).cpuMs / 1000 },
      syncTimeoutMs(nodes),
    );
    const l = failover.listenersAgain;
    log(`go-control-plane failover: listeners again p50 ${l.p50Ms.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms, max ${l.maxMs.toFixed(0)} ms`);
    return failover;
  } catch (err) {
    errors.push(`go-control-plane failover: ${(err as Error).message}`);
    return undefined;
  }
}

/** The peer, built now so that building it overlaps no measurement. */
async function prepareGoPeer(options: Options): Promise<GoPeerBuild | Error | null> {
  if (!options.go) return null;
  try {
    const build = await goPeerBuild(log);
    if (build === null) process.stderr.write('skipped: go-control-plane peer (no go on PATH)\n');
    return build;
  } catch (err) {
    return err as Error;
  }
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fleet bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const started = Date.now();
  const { env, loadAverage } = machine();
  const shape: FleetShape = { ...DEFAULT_SHAPE, groups: options.groups };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'drainplane-fleet-'));
  if (options.cpuProfDir) await mkdir(options.cpuProfDir, { recursive: true });
  const ctx: Context = { options, shape, dir, goPeer: await prepareGoPeer(options) };
  const responseBytes: Record<string, number> = {};
  const sizes: SizeResult[] = [];
  log(`fleet bench: nodes ${options.nodes.join(', ')}; ${env.nproc} CPUs, load average ${loadAverage.map((l) => l.toFixed(2)).join(' ')}`);
  try {
    for (const nodes of options.nodes) {
      const errors: string[] = [];
      let delta = 0;
      for (let i = 0; i < nodes; i++) if (isDeltaNode(i, options.deltaPercent)) delta++;
      let drainplane: DrainplaneRun | null = null;
      let floor: FloorRun | null = null;
      let goControlPlane: GoControlPlaneRun | null = null;
      try {
        drainplane = await runDrainplane(ctx, nodes, errors);
      } catch (err) {
        errors.push(`drainplane: ${(err as Error).message}`);
      }
      if (options.floor) {
        try {
          floor = await runFloor(ctx, nodes, errors, responseBytes);
        } catch (err) {
          errors.push(`floor: ${(err as Error).message}`);
        }
      }
      try {
        goControlPlane = await runGoControlPlane(ctx, nodes, errors);
      } catch (err) {
        errors.push(`go-control-plane: ${(err as Error).message}`);
      }
      for (const e of errors) log(`ERROR (${nodes} nodes): ${e}`);
      sizes.push({ nodes, sotw: nodes - delta, delta, drainplane, floor, goControlPlane, errors });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const settings: BenchSettings = {
    workers: options.workers,
    groups: shape.groups,
    listenersPerGroup: shape.listeners,
    clustersPerGroup: shape.clusters,
    deltaPercent: options.deltaPercent,
    streamsPerConnection: options.streamsPerConnection,
    connectWindow: options.connectWindow,
    history: options.history,
    smoke: options.smoke,
    responseBytes,
    goControlPlane: ctx.goPeer === null || ctx.goPeer instanceof Error ? null : { go: ctx.goPeer.go, modules: ctx.goPeer.modules },
  };
  const result: FleetBenchResult = {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    settings,
    sizes,
    cpuFit: cpuFits(sizes),
    loadAverageAtStart: loadAverage,
  };
  console.log(markdown(result, env));
  const replication = replicationMarkdown(sizes);
  if (replication !== '') console.log(`\n${replication}`);
  const out = options.out ?? (await mkdtemp(path.join(os.tmpdir(), 'drainplane-fleet-results-')));
  await mkdir(out, { recursive: true });
  const file = path.join(out, `fleet-${result.startedAt.slice(0, 10)}${options.smoke ? '-smoke' : ''}.json`);
  await writeFile(file, `${JSON.stringify(resultRecord(result, env), null, 2)}\n`);
  console.log(`\nResults: ${file.startsWith(process.cwd()) ? path.relative(process.cwd(), file) : file}`);
  return sizes.some((s) => s.errors.length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fleet bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
