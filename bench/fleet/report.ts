/** The fleet benchmark's results: what was measured, a markdown table, and the JSON record. */
import os from 'node:os';
import { environment, type Environment } from '../zero-error/report.js';
import type { FailoverResult } from './failover.js';
import type { Latencies } from './latencies.js';
import type { EtcdTraffic } from './replica-fleet.js';

/** One fleet-wide LDS push: from the trigger to each node's ACK of the new version. */
export interface PushResult {
  readonly latency: Latencies;
  /** Nodes that had not ACKed a new LDS version when the wait ended (0 on success). */
  readonly pending: number;
  /** From sending the API request to reading its response (null for the floor's trigger). */
  readonly apiResponseMs: number | null;
  /** CPU the server spent from the trigger until 300 ms after the last ACK. */
  readonly serverCpuSeconds: number;
  readonly generatorCpuSeconds: number;
  /** Worst event-loop delay p99 among the generator workers during the push. */
  readonly generatorLoopDelayP99Ms: number;
}

export interface SyncResult {
  /** From the first stream opened to the last node synced (ACKed CDS, EDS, LDS and RDS). */
  readonly totalMs: number;
  readonly nodesPerSecond: number;
  /** Per node, stream opened to fourth ACK. */
  readonly perNode: Latencies;
  readonly connections: number;
  readonly generatorCpuSeconds: number;
  /** The server's CPU from before the first connection to the last node synced. */
  readonly serverCpuSeconds: number;
}

export interface RssResult {
  readonly baselineRssBytes: number;
  readonly rssBytes: number;
  /** (RSS with the fleet connected - RSS before) / nodes. */
  readonly rssPerNodeKiB: number;
  /** RSS with the fleet connected / nodes (includes the process's fixed size). */
  readonly rssTotalPerNodeKiB: number;
}

export interface MemoryResult extends RssResult {
  readonly baselineHeapBytes: number;
  readonly heapBytes: number;
  readonly heapPerNodeKiB: number;
}

export interface DrainplaneRun {
  readonly sync: SyncResult;
  readonly memory: MemoryResult;
  readonly reload: PushResult & { readonly nodesChanged: number };
  readonly drain: PushResult & { readonly drainId: string; readonly drainState: string; readonly drainCompletedMs: number | null };
  readonly nacks: number;
  /** Present when the run was on an etcd store. */
  readonly replication?: ReplicationRun;
}

export interface FloorRun {
  readonly sync: SyncResult;
  readonly memory: MemoryResult;
  /** The drain's listeners written to every stream. */
  readonly push: PushResult & { readonly writeLoopMs: number };
  /** The reloaded config's listeners written to every stream (absent from results before it was measured). */
  readonly reload?: PushResult & { readonly writeLoopMs: number };
}

/** go-control-plane's SnapshotCache and ADS server (go-peer/main.go), measured like the floor. */
export interface GoControlPlaneRun {
  readonly sync: SyncResult;
  /** A Go process has no V8 heap: RSS only. */
  readonly memory: RssResult;
  /** The drain: every group's snapshot set again without its ingress listeners. */
  readonly push: PushResult & { readonly setSnapshotsMs: number };
  /** With --replicas 2 or more: the nodes failing over to a second process. */
  readonly failover?: FailoverResult;
}

/** drainplane's replicas on an etcd store: what they cost through the sync, and their failover. */
export interface ReplicationRun {
  readonly store: 'etcd';
  readonly replicas: number;
  /** Each replica's CPU over the connect and sync (the nodes connect to the first). */
  readonly syncCpuSecondsByReplica: readonly number[];
  /** What etcd served over the connect and sync. */
  readonly syncEtcd: EtcdTraffic;
  /** `store_watch_restarted` events the replicas logged over the whole run. */
  readonly watchRestarts: number;
  /** Null with a single replica. */
  readonly failover: FailoverResult | null;
}

export interface SizeResult {
  readonly nodes: number;
  readonly sotw: number;
  readonly delta: number;
  readonly drainplane: DrainplaneRun | null;
  readonly floor: FloorRun | null;
  /** null when left out (--no-go, or no Go toolchain); absent in records from before it was measured. */
  readonly goControlPlane?: GoControlPlaneRun | null;
  readonly errors: string[];
}

export interface BenchSettings {
  readonly workers: number;
  readonly groups: number;
  readonly listenersPerGroup: number;
  readonly clustersPerGroup: number;
  readonly deltaPercent: number;
  readonly streamsPerConnection: number;
  readonly connectWindow: number;
  /** Fleet-wide drains kept as history before the measured pushes (absent in older records: none). */
  readonly history?: number;
  readonly smoke: boolean;
  readonly responseBytes: Readonly<Record<string, number>>;
  /** The go-control-plane peer's Go release and module versions; null when it was left out, absent in older records. */
  readonly goControlPlane?: { readonly go: string; readonly modules: Readonly<Record<string, string>> } | null;
}

export interface FleetBenchResult {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly settings: BenchSettings;
  readonly sizes: SizeResult[];
  /** Least-squares fit of server CPU per push against nodes: fixed part and per-node part. */
  readonly cpuFit: Record<string, { fixedMs: number; perNodeUs: number } | null>;
  readonly loadAverageAtStart: number[];
}

/** y = a + b·x by least squares, over at least two distinct x. */
export function linearFit(points: readonly { x: number; y: number }[]): { a: number; b: number } | null {
  if (new Set(points.map((p) => p.x)).size < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

export function cpuFits(sizes: readonly SizeResult[]): FleetBenchResult['cpuFit'] {
  const fit = (pick: (s: SizeResult) => number | undefined) => {
    const points = sizes.flatMap((s) => {
      const y = pick(s);
      return y === undefined ? [] : [{ x: s.nodes, y }];
    });
    const f = linearFit(points);
    return f && { fixedMs: round(f.a * 1000, 1), perNodeUs: round(f.b * 1e6, 1) };
  };
  return {
    drain: fit((s) => s.drainplane?.drain.serverCpuSeconds),
    reload: fit((s) => s.drainplane?.reload.serverCpuSeconds),
    floor: fit((s) => s.floor?.push.serverCpuSeconds),
    goControlPlane: fit((s) => s.goControlPlane?.push.serverCpuSeconds),
  };
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
const n = (v: number): string => v.toLocaleString('en-US');
const ms = (v: number): string => (Number.isNaN(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const kib = (v: number): string => `${v.toFixed(1)} KiB`;
const perNode = (cpuSeconds: number, nodes: number): string => `${((cpuSeconds * 1e6) / nodes).toFixed(0)} µs`;
const cell = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const ratio = (a: number, b: number): string => (b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '—');

/** The figures every server has, one per row: drainplane, the grpc-js floor and go-control-plane side by side. */
function serversTable(sizes: readonly SizeResult[]): string[] {
  const lines = ['| Nodes | | drainplane | grpc-js floor | go-control-plane |', '| ---: | --- | ---: | ---: | ---: |'];
  for (const s of sizes) {
    const servers = [
      s.drainplane && { sync: s.drainplane.sync, push: s.drainplane.drain, memory: s.drainplane.memory },
      s.floor,
      s.goControlPlane ?? null,
    ];
    const row = (name: string, value: (r: { sync: SyncResult; push: PushResult; memory: RssResult }) => number, digits: number): string =>
      `| ${n(s.nodes)} | ${name} | ${servers.map((r) => cell(r ? value(r) : undefined, digits)).join(' | ')} |`;
    lines.push(
      row('connect + first config to every node (s)', (r) => r.sync.totalMs / 1000, 2),
      row('server CPU per node for that (µs)', (r) => (r.sync.serverCpuSeconds * 1e6) / s.nodes, 0),
      row("drain: last node's new listeners p99 (ms)", (r) => r.push.latency.p99Ms, 1),
      row('server CPU per node for the drain (µs)', (r) => (r.push.serverCpuSeconds * 1e6) / s.nodes, 0),
      row('RSS per node (KiB)', (r) => r.memory.rssPerNodeKiB, 1),
    );
  }
  return lines;
}

function goPeerText(settings: BenchSettings): string {
  const peer = settings.goControlPlane;
  if (!peer) return '';
  return `, go-control-plane peer built with ${peer.go} (${Object.entries(peer.modules)
    .map(([module, version]) => `${module} ${version}`)
    .join(', ')})`;
}

export function markdown(result: FleetBenchResult, env: Environment): string {
  const { settings } = result;
  const lines: string[] = [];
  lines.push(
    `Fleet: ${settings.groups} node groups of ${settings.listenersPerGroup} listeners (half INBOUND, half OUTBOUND, HCM over RDS), ` +
      `${settings.clustersPerGroup} EDS clusters and ${settings.listenersPerGroup} route configurations; ` +
      `${100 - settings.deltaPercent}% SotW / ${settings.deltaPercent}% Delta ADS streams, ` +
      `${settings.streamsPerConnection} streams per HTTP/2 connection, ${settings.workers} generator processes` +
      (settings.history ? `; ${settings.history} fleet-wide drains kept as history.` : '.'),
    '',
    ...serversTable(result.sizes),
    '',
    '| Nodes | Connect + sync | Sync per node p99 | Daemon CPU / node | Floor connect + sync | Floor CPU / node | Daemon RSS | RSS / node | Heap / node | Floor RSS / node |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const s of result.sizes) {
    const d = s.drainplane;
    const f = s.floor;
    lines.push(
      `| ${n(s.nodes)} | ${d ? `${ms(d.sync.totalMs)} (${n(Math.round(d.sync.nodesPerSecond))}/s)` : '—'} | ${d ? ms(d.sync.perNode.p99Ms) : '—'} | ` +
        `${d ? perNode(d.sync.serverCpuSeconds, s.nodes) : '—'} | ${f ? ms(f.sync.totalMs) : '—'} | ${f ? perNode(f.sync.serverCpuSeconds, s.nodes) : '—'} | ` +
        `${d ? mib(d.memory.rssBytes) : '—'} | ${d ? kib(d.memory.rssPerNodeKiB) : '—'} | ${d ? kib(d.memory.heapPerNodeKiB) : '—'} | ` +
        `${f ? kib(f.memory.rssPerNodeKiB) : '—'} |`,
    );
  }
  lines.push(
    '',
    '| Nodes | Push | p50 | p99 | max | API response | Daemon CPU | CPU / node | Floor p50 | Floor p99 | Floor max | p99 vs floor |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const s of result.sizes) {
    const d = s.drainplane;
    // Each push against the floor writing the same listeners.
    const row = (name: string, p: PushResult | undefined, f: PushResult | undefined): string => {
      const floorCols = f ? `${ms(f.latency.p50Ms)} | ${ms(f.latency.p99Ms)} | ${ms(f.latency.maxMs)}` : '— | — | —';
      return p
        ? `| ${n(s.nodes)} | ${name} | ${ms(p.latency.p50Ms)} | ${ms(p.latency.p99Ms)} | ${ms(p.latency.maxMs)} | ` +
            `${p.apiResponseMs === null ? '—' : ms(p.apiResponseMs)} | ${ms(p.serverCpuSeconds * 1000)} | ` +
            `${perNode(p.serverCpuSeconds, s.nodes)} | ${floorCols} | ${f ? ratio(p.latency.p99Ms, f.latency.p99Ms) : '—'} |`
        : `| ${n(s.nodes)} | ${name} | — | — | — | — | — | — | ${floorCols} | — |`;
    };
    lines.push(row('drain (ingress, remove)', d?.drain, s.floor?.push), row('config reload', d?.reload, s.floor?.reload));
  }
  const fits = result.cpuFit;
  const fitText = (name: string, f: { fixedMs: number; perNodeUs: number } | null): string =>
    f ? `${name} ${f.fixedMs} ms + ${f.perNodeUs} µs/node` : `${name} —`;
  lines.push(
    '',
    `CPU per fleet-wide push, fitted over the sizes: ${fitText('drain', fits['drain'] ?? null)}; ${fitText('reload', fits['reload'] ?? null)}; ` +
      `${fitText('transport floor', fits['floor'] ?? null)}; ${fitText('go-control-plane drain', fits['goControlPlane'] ?? null)}.`,
    '',
    `Machine: ${env.nproc} CPUs (${env.cpuModel}), ${env.memoryGiB} GiB, ${env.platform}, Node ${env.node}, ` +
      `@grpc/grpc-js ${env.packages['@grpc/grpc-js']}${goPeerText(settings)}; load average at start ${result.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}. ` +
      `Run took ${(result.durationMs / 1000).toFixed(0)} s.`,
  );
  const errors = result.sizes.flatMap((s) => s.errors.map((e) => `- ${n(s.nodes)} nodes: ${e}`));
  if (errors.length > 0) lines.push('', 'Errors:', ...errors);
  return lines.join('\n');
}

export function machine(): { env: Environment; loadAverage: number[] } {
  return { env: environment(), loadAverage: os.loadavg() };
}

export function resultRecord(result: FleetBenchResult, env: Environment): object {
  return { benchmark: 'fleet', environment: env, ...result };
}
