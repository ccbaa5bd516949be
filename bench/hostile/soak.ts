/**
 * The hostile-client soak: `drainplane serve` in a process of its own, every attack of
 * attacker.ts against it at once for a bounded time, and honest nodes beside them (the fleet
 * benchmark's SotW and Delta nodes, ACKing as Envoy does) that must keep being served: a config
 * change pushed mid-attack reaches and is ACKed by every one of them within a deadline, and a
 * drain created mid-attack completes on them. The daemon's RSS is sampled every 500 ms and its
 * log output counted throughout.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LoadGenerator, withTimeout } from '../fleet/generator.js';
import { vmRssBytes } from '../../test/support/reconnect-storm.js';
import { BULK_CLUSTER, honestPlans, hostileConfigYaml } from './config.js';
import { ServeProcess } from './daemon.js';
import { mergeCounts, type AttackCounts, type AttackKind, type AttackPlan, type FromAttacker, type ToAttacker } from './protocol.js';

const ATTACKER_SCRIPT = fileURLToPath(new URL('./attacker.js', import.meta.url));
const MiB = 1024 * 1024;

/** The findings the bounds answer, at the size each was first shown with. */
export const ORIGINAL_SIZES: Readonly<Record<Exclude<AttackKind, 'nodes-api'>, number>> = {
  /** invented node ids with 3.9 MB of metadata each */
  metadata: 60,
  /** nodes NACKing with a 3.9 MB message */
  nack: 40,
  /** requests naming a different list of 2,000 resources each */
  names: 1000,
  /** streams that never read */
  slow: 3,
  /** requests with a stale nonce from one client */
  stale: 20_000,
};

/** Which attacker process runs which attacks: the two that send 3.9 MB share one buffer. */
const ATTACKERS: readonly (readonly AttackKind[])[] = [
  ['metadata', 'nack', 'slow'],
  ['names', 'stale', 'nodes-api'],
];

export interface HostileOptions {
  /** The attack window. */
  readonly seconds: number;
  /** Times the original sizes (ORIGINAL_SIZES). */
  readonly scale: number;
  readonly honestNodes: number;
  /** Percent of honest nodes on Delta xDS; the rest SotW. */
  readonly deltaPercent: number;
  /** Bytes of the bulk group's listeners, which slow streams ask for and never read. */
  readonly bulkBytes: number;
  /** For the config change to reach every honest node, and for the drain to complete on them. */
  readonly deadlineSeconds: number;
  /** Peak VmRSS allowed. */
  readonly maxRssBytes: number;
  /** How long after the attack the settled RSS is read. */
  readonly settleSeconds: number;
  readonly blobBytes?: number;
  /** Clients polling GET /v1/nodes at once (default 1). */
  readonly nodesApiClients?: number;
  /** The attacks to run (default: all of them). */
  readonly attacks?: readonly AttackKind[];
  readonly log?: (line: string) => void;
}

export interface RssSample {
  /** ms since the attack began (negative before). */
  readonly atMs: number;
  readonly rssBytes: number;
  readonly logBytes: number;
  /** CPU time the daemon used so far (user and system), ms. */
  readonly cpuMs: number;
}

/** The daemon's own account of its memory (GET /metrics), every 2 s. */
export interface HeapSample {
  readonly atMs: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
}

export interface HonestCheck {
  /** Honest nodes that ACKed (config) or were drained (drain), of `honestNodes`. */
  readonly done: number;
  /** ms from the change (config file written, drain created) to the last node; undefined if not all. */
  readonly ms: number | undefined;
  /** When the change was made, ms since the attack began. */
  readonly atMs: number;
  readonly detail: string;
}

export interface HostileResult {
  readonly honestNodes: number;
  readonly targets: Readonly<Record<string, number>>;
  readonly counts: AttackCounts;
  readonly baselineRssBytes: number;
  /** The most of the samples and of the kernel's high-water mark (VmHWM), read at the end. */
  readonly peakRssBytes: number;
  /** When the peak sample was taken; NaN if the high-water mark, between two samples, was higher. */
  readonly peakAtMs: number;
  readonly endRssBytes: number;
  /** After the attackers stopped and `settleSeconds` passed. */
  readonly settledRssBytes: number;
  readonly settleSeconds: number;
  readonly maxRssBytes: number;
  /** The daemon's CPU time during the attack over its wall time (1: one core all the time). */
  readonly attackCpuShare: number;
  /** The heap live after full GCs: the most during the attack, and after the last one of the run. */
  readonly liveHeapMaxBytes: number;
  readonly liveHeapEndBytes: number;
  readonly fullGcs: number;
  readonly logBytes: number;
  readonly logLines: number;
  readonly linesByEvent: Readonly<Record<string, number>>;
  readonly bytesByEvent: Readonly<Record<string, number>>;
  readonly samples: readonly RssSample[];
  readonly heap: readonly HeapSample[];
  /** When the daemon logged its config and drain events, ms since the attack began. */
  readonly milestones: readonly { readonly atMs: number; readonly event: string }[];
  readonly config: HonestCheck;
  readonly drain: HonestCheck & { readonly state: string };
  /** Honest nodes whose latest listeners are the drained set, at the end. */
  readonly honestDrainedAtEnd: number;
  /** Honest streams that failed (ended, reset, errors), as the generator reported them. */
  readonly honestFailures: readonly string[];
  readonly daemonAlive: boolean;
  /** How the daemon ended, if it did: its exit code or signal and what it wrote to stderr first. */
  readonly daemonExit?: string;
  readonly warnings: readonly string[];
  readonly failures: readonly string[];
}

/** What must be undone at once if the soak is interrupted (Ctrl-C): processes, the temp folder. */
const interruptible = new Set<() => void>();

/** Kills what the hostile soak started and removes its temp folder, synchronously (signal handlers). */
export function cleanUpNow(): void {
  for (const undo of interruptible) {
    try {
      undo();
    } catch {
      // Best effort: the rest still runs.
    }
  }
  interruptible.clear();
}

export async function runHostileSoak(options: HostileOptions): Promise<HostileResult> {
  const log = options.log ?? (() => undefined);
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-hostile-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  interruptible.add(removeDir);
  const configFile = path.join(dir, 'drainplane.yaml');
  const writeConfig = async (revision: number): Promise<void> => {
    // Written beside and renamed: the daemon's watcher never reads half a file.
    const next = path.join(dir, `.next-${revision}.yaml`);
    await writeFile(next, hostileConfigYaml(revision, options.bulkBytes));
    await rename(next, configFile);
  };
  await writeConfig(0);

  const failures: string[] = [];
  let daemon: ServeProcess | undefined;
  let generator: LoadGenerator | undefined;
  const attackers: ChildProcess[] = [];
  const killAll = (): void => {
    daemon?.killNow();
    for (const a of attackers) if (a.exitCode === null) a.kill('SIGKILL');
    for (const pid of generator?.workerPids ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  };
  interruptible.add(killAll);
  let sampler: NodeJS.Timeout | undefined;
  let heapSampler: NodeJS.Timeout | undefined;
  try {
    daemon = await ServeProcess.start({ configFile, stateDir: path.join(dir, 'state') });
    const serve = daemon;
    log(`drainplane serve (pid ${serve.pid}): xDS 127.0.0.1:${serve.xdsPort}, API ${serve.apiUrl}`);

    // RSS and log bytes every 500 ms, from before the honest nodes connect to the end.
    let attackStart = Number.POSITIVE_INFINITY;
    const samples: RssSample[] = [];
    let peak = { rssBytes: 0, atMs: 0 };
    const sample = async (): Promise<number> => {
      // Once the daemon is gone (a crash), its last sample stands.
      if (!serve.running) return samples.at(-1)?.rssBytes ?? 0;
      const [rssBytes, cpuMs] = await Promise.all([vmRssBytes(serve.pid), cpuTimeMs(serve.pid)]);
      const atMs = Date.now() - attackStart;
      samples.push({ atMs: Number.isFinite(atMs) ? atMs : -1, rssBytes, logBytes: serve.stdoutBytes, cpuMs });
      if (rssBytes > peak.rssBytes) peak = { rssBytes, atMs };
      return rssBytes;
    };
    const sampleOrLast = (): Promise<number> => sample().catch(() => samples.at(-1)?.rssBytes ?? 0);
    sampler = setInterval(() => void sampleOrLast(), 500);
    const heap: HeapSample[] = [];
    const sampleHeap = async (): Promise<void> => {
      const text = await fetch(`${serve.apiUrl}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
      const metric = (name: string): number => Number(new RegExp(`^drainplane_${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
      heap.push({
        atMs: Date.now() - attackStart,
        heapUsedBytes: metric('nodejs_heap_size_used_bytes'),
        heapTotalBytes: metric('nodejs_heap_size_total_bytes'),
        externalBytes: metric('nodejs_external_memory_bytes'),
      });
    };
    heapSampler = setInterval(() => void sampleHeap().catch(() => undefined), 2000);

    const plans = honestPlans();
    const connected = await LoadGenerator.connect(
      {
        workers: 1,
        host: '127.0.0.1',
        port: serve.xdsPort,
        nodes: options.honestNodes,
        deltaPercent: options.deltaPercent,
        groups: plans,
        // One connection per node, as Envoys have.
        streamsPerConnection: 1,
        connectWindow: options.honestNodes,
      },
      60_000,
    );
    generator = connected.generator;
    const honest = generator;
    const delta = connected.reports.reduce((s, r) => s + r.delta, 0);
    log(`${options.honestNodes} honest nodes (${options.honestNodes - delta} SotW, ${delta} Delta) synced`);
    await sleep(1000);
    const baselineRssBytes = await sampleOrLast();
    const cpuAtStart = samples.at(-1)!.cpuMs;

    // The attack.
    const durationMs = options.seconds * 1000;
    const targets = Object.fromEntries(Object.entries(ORIGINAL_SIZES).map(([k, n]) => [k, Math.round(n * options.scale)]));
    const attackerCounts = ATTACKERS.map((): AttackCounts => ({}));
    const chosen = ATTACKERS.map((kinds) => kinds.filter((k) => options.attacks?.includes(k) ?? true));
    const attackersDone = chosen.map((kinds, attacker) => {
      const child = fork(ATTACKER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      attackers.push(child);
      const plan: AttackPlan = {
        attacker,
        kinds,
        xdsPort: serve.xdsPort,
        apiUrl: serve.apiUrl,
        durationMs,
        targets,
        clusters: plans.map((p) => p.nodeCluster),
        bulkCluster: BULK_CLUSTER,
        blobBytes: options.blobBytes ?? 3_900_000,
        namesPerRequest: 2000,
        nodesApiClients: options.nodesApiClients ?? 1,
      };
      return new Promise<void>((resolve) => {
        child.on('message', (m: FromAttacker) => {
          if (m.op === 'failure') failures.push(`attacker ${attacker}: ${m.message}`);
          else attackerCounts[attacker] = m.counts;
          if (m.op === 'done') resolve();
        });
        child.once('exit', () => resolve());
        child.send({ op: 'start', plan } satisfies ToAttacker);
      });
    });
    attackStart = Date.now();
    const counts = (): AttackCounts => attackerCounts.reduce(mergeCounts, {});
    log(
      `attack for ${options.seconds} s: ${chosen
        .flat()
        .map((k) => (k === 'nodes-api' ? `nodes-api by ${options.nodesApiClients ?? 1} client(s)` : `${k} ${targets[k]}`))
        .join(', ')}`,
    );
    let cpuBefore = samples.at(-1)?.cpuMs ?? 0;
    const progress = setInterval(() => {
      const c = counts();
      const last = samples.at(-1);
      const cpu = ((last?.cpuMs ?? 0) - cpuBefore) / 5000;
      cpuBefore = last?.cpuMs ?? 0;
      const h = heap.at(-1);
      log(
        `  +${((Date.now() - attackStart) / 1000).toFixed(0)} s: RSS ${mib(last?.rssBytes ?? 0)} (heap ${mib(h?.heapUsedBytes ?? 0)} of ${mib(h?.heapTotalBytes ?? 0)}, ` +
          `external ${mib(h?.externalBytes ?? 0)}; live after the last full GC ${mib(serve.fullGcs.at(-1)?.liveBytes ?? 0)}), CPU ${(cpu * 100).toFixed(0)}%, log ${mib(serve.stdoutBytes)}; ` +
          `metadata ${c['metadata.connections'] ?? 0}, nack ${c['nack.sent'] ?? 0}, names ${c['names.requests'] ?? 0}, ` +
          `slow ${c['slow.opened'] ?? 0} (${c['slow.reset'] ?? 0} reset), stale ${c['stale.requests'] ?? 0}, nodes-api ${c['nodes-api.requests'] ?? 0}`,
      );
    }, 5000);

    // Mid-attack: a config change every honest node must ACK within the deadline...
    const deadlineMs = options.deadlineSeconds * 1000;
    await sleep(durationMs / 4);
    const config = await configChange(honest, deadlineMs, attackStart, () => writeConfig(1));
    const reloaded = serve.milestones.find((m) => m.event.startsWith('reload') && m.at - attackStart >= config.atMs);
    log(
      `config change: ${config.detail}; ${reloaded ? `${reloaded.event} logged ${reloaded.at - attackStart - config.atMs} ms after the write` : 'no reload logged yet'}`,
    );
    // ... and a drain of their ingress listeners, which must complete on them.
    await sleep(attackStart + durationMs / 2 - Date.now());
    const drain = await drainHonest(serve, options, attackStart);
    log(`drain: ${drain.detail}`);

    await sleep(attackStart + durationMs - Date.now());
    for (const a of attackers) if (a.connected) a.send({ op: 'stop' } satisfies ToAttacker);
    await withTimeout('the attackers to stop', 30_000, Promise.all(attackersDone)).catch((err: Error) => failures.push(err.message));
    clearInterval(progress);
    const endRssBytes = await sampleOrLast();
    const attackCpuShare = (samples.at(-1)!.cpuMs - cpuAtStart) / (Date.now() - attackStart);
    const c = counts();
    log(`attack over: RSS ${mib(endRssBytes)} (peak ${mib(peak.rssBytes)} at +${(peak.atMs / 1000).toFixed(1)} s), log ${mib(serve.stdoutBytes)}`);
    await sleep(options.settleSeconds * 1000);
    const settledRssBytes = await sampleOrLast();
    // The kernel's high-water mark catches a peak between two samples.
    const hwmBytes = await vmHwmBytes(serve.pid).catch(() => 0);
    if (hwmBytes > peak.rssBytes) peak = { rssBytes: hwmBytes, atMs: Number.NaN };

    // The honest nodes at the end: still connected, every one on its drained listener set.
    const plan0 = plans[0]!;
    const drainedSet = plan0.outbound.length;
    const lds = await honest.ldsState().catch((err: Error) => (failures.push(err.message), []));
    const honestDrainedAtEnd = lds.filter((n) =>
      n.delta ? n.removed === plan0.inbound.length && n.resources === 0 : n.resources === drainedSet && n.removed === 0,
    ).length;
    const healthy = await fetch(`${serve.apiUrl}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.ok,
      () => false,
    );
    return {
      honestNodes: options.honestNodes,
      targets,
      counts: c,
      baselineRssBytes,
      peakRssBytes: peak.rssBytes,
      peakAtMs: peak.atMs,
      endRssBytes,
      settledRssBytes,
      settleSeconds: options.settleSeconds,
      maxRssBytes: options.maxRssBytes,
      attackCpuShare,
      liveHeapMaxBytes: Math.max(0, ...serve.fullGcs.map((g) => g.liveBytes)),
      liveHeapEndBytes: serve.fullGcs.at(-1)?.liveBytes ?? 0,
      fullGcs: serve.fullGcs.length,
      logBytes: serve.stdoutBytes + serve.stderrBytes,
      logLines: serve.logLines,
      linesByEvent: Object.fromEntries([...serve.linesByEvent].sort((a, b) => b[1] - a[1])),
      bytesByEvent: Object.fromEntries([...serve.bytesByEvent].sort((a, b) => b[1] - a[1])),
      samples,
      heap,
      milestones: serve.milestones.map((m) => ({ atMs: m.at - attackStart, event: m.event })),
      config,
      drain,
      honestDrainedAtEnd,
      honestFailures: [...honest.failures],
      daemonAlive: serve.running && healthy,
      ...(!serve.running && { daemonExit: await describeExit(serve) }),
      warnings: [...serve.warnings],
      failures,
    };
  } finally {
    clearInterval(sampler);
    clearInterval(heapSampler);
    for (const a of attackers) if (a.exitCode === null) a.kill('SIGKILL');
    await generator?.close().catch(() => undefined);
    await daemon?.stop().catch(() => undefined);
    interruptible.delete(killAll);
    removeDir();
    interruptible.delete(removeDir);
  }
}

/** Writes the new config and waits until every honest node ACKed a new listener version. */
async function configChange(honest: LoadGenerator, deadlineMs: number, attackStart: number, write: () => Promise<void>): Promise<HonestCheck> {
  let writtenAt = 0;
  try {
    const results = await honest.measureLdsPush('config', deadlineMs, async () => {
      writtenAt = Date.now();
      await write();
    });
    const acked = results.reduce((s, r) => s + r.ackTimes.length, 0);
    const pending = results.reduce((s, r) => s + r.pending, 0);
    const last = Math.max(...results.flatMap((r) => r.ackTimes));
    const ms = pending === 0 ? Math.round(last - writtenAt) : undefined;
    return {
      done: acked,
      ms,
      atMs: writtenAt - attackStart,
      detail: `${acked} of ${honest.nodes} honest nodes ACKed the new listeners${ms === undefined ? `, ${pending} did not within ${deadlineMs / 1000} s` : ` within ${ms} ms`}`,
    };
  } catch (err) {
    return { done: 0, ms: undefined, atMs: writtenAt - attackStart, detail: `not measured: ${(err as Error).message}` };
  }
}

interface DrainBody {
  id: string;
  state: string;
  finishedAt: string | null;
  createdAt: string;
  phases: { counts: Record<string, number> }[];
}

/** Drains the honest nodes' ingress (remove, measured by the ACK) and waits for it to complete. */
async function drainHonest(serve: ServeProcess, options: HostileOptions, attackStart: number): Promise<HonestCheck & { state: string }> {
  const createdAt = Date.now();
  const atMs = createdAt - attackStart;
  try {
    const created = await serve.json<DrainBody>('POST', '/v1/drains', {
      selector: { metadata: { bench: 'fleet' } },
      scope: 'ingress',
      method: 'remove',
      measure: 'ack',
      deadlineSeconds: options.deadlineSeconds,
    });
    if (created.status !== 201) throw new Error(`POST /v1/drains: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const id = created.body.id;
    let view = created.body;
    while (view.state === 'running' && Date.now() - createdAt < (options.deadlineSeconds + 10) * 1000) {
      await sleep(250);
      view = (await serve.json<DrainBody>('GET', `/v1/drains/${id}`)).body;
    }
    const counts = view.phases[0]?.counts ?? {};
    const drained = counts['drained'] ?? 0;
    const ms = view.state === 'completed' && view.finishedAt ? Date.parse(view.finishedAt) - Date.parse(view.createdAt) : undefined;
    return {
      state: view.state,
      done: drained,
      ms,
      atMs,
      detail: `${id} ${view.state}${ms === undefined ? '' : ` in ${ms} ms`}: ${Object.entries(counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')} of ${options.honestNodes} honest nodes`,
    };
  } catch (err) {
    return { state: 'not created', done: 0, ms: undefined, atMs, detail: `not measured: ${(err as Error).message}` };
  }
}

async function describeExit(serve: ServeProcess): Promise<string> {
  const { code, signal } = await serve.exited;
  return `exited (${signal ?? `code ${code}`}): ${serve.stderrHead.split('\n').slice(0, 3).join(' | ')}`;
}

/** VmHWM: the most resident memory the process ever had. */
async function vmHwmBytes(pid: number): Promise<number> {
  const kib = /^VmHWM:\s+(\d+)\s+kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib ?? 0) * 1024;
}

/** utime + stime of a process (Linux /proc), in ms. */
async function cpuTimeMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux that Node supports. */
const CLOCK_TICKS = 100;

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(0)} MiB`;
}
