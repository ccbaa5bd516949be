/**
 * The rolling-restart benchmark: a rolling restart of two real Envoy replicas behind an L4
 * balancer under a paced HTTP load, once per way of shutting Envoy down, each arm on fresh
 * processes (see arm.ts for what happens and pod.ts for the four setups); then the other half,
 * the backends behind one Envoy restarted in turn under the same load, with plain SIGTERM and
 * with an endpoint drain first (backends/backend-arm.ts).
 *
 *   npm run bench:rolling-restart
 *   node dist/bench/rolling-restart/main.js [--rate 3800] [--duration 60] [--arms a,b,c,d] ...
 *
 * Needs haproxy and wrk on PATH; without them it prints one `skipped:` line and exits 0 (under
 * CI=true it fails). The table and targets go to stdout, progress to stderr, the results to
 * DIR/rolling-restart-<date>.json (DIR: bench/results). Exits 0 when the run completed, whether
 * or not the targets were met; 1 when it could not run.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { environment } from '../zero-error/report.js';
import { runArm, type ArmOptions, type ArmResult } from './arm.js';
import type { ArmKind } from './pod.js';
import { killEverything, killEverythingOnExit } from './processes.js';
import { ARM_TITLES, evaluateTargets, markdownTable, targetLines } from './report.js';
import { findTools } from './tools.js';
import { runBackendArm, type BackendArmKind, type BackendArmOptions, type BackendArmResult } from './backends/backend-arm.js';
import { BACKEND_ARM_TITLES, backendErrors, backendTable, backendTargets } from './backends/backend-report.js';
import { startUpstream } from './upstream.js';

const DEFAULT_OUT = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
const ARMS: Record<string, ArmKind | BackendArmKind> = {
  a: 'sigterm',
  b: 'prestop',
  e: 'prestop-covering',
  c: 'drainplane',
  d: 'drainplane-kept-state',
  f: 'backend-sigterm',
  g: 'backend-drain',
};
const DEFAULT_ARMS = 'a,b,e,c,d,f,g';
const isBackendArm = (kind: ArmKind | BackendArmKind): kind is BackendArmKind => kind.startsWith('backend-');
/** The rate the experiment this reproduces ran at (wso2/api-platform#2121): at least this. */
const MIN_RATE = 3_700;
/** The whole run is bounded: a hang anywhere ends in a failure, not a stuck CI job. */
const RUN_BOUND_MS = 15 * 60_000;

const FLAGS = {
  rate: ['requests a second, paced', 3_800],
  duration: ['load seconds per arm (at least)', 60],
  // Enough that a latency spike on a loaded machine does not hold wrk below the rate.
  connections: ['wrk connections', 100],
  threads: ['wrk threads', 2],
  grace: ["the pods' terminationGracePeriodSeconds", 30],
  'endpoint-delay': ['seconds from termination (or readiness) to the endpoint change reaching the balancer, as kube-proxy', 2],
  'prestop-sleep': ["arm (b)'s fixed sleep after /drain_listeners?graceful (Istio's terminationDrainDuration)", 5],
  'prestop-margin': ["arm (e): its preStop sleep is the slowest app's --app-work plus this", 2],
  'first-restart': ['seconds into the load when replica a is terminated', 8],
  'second-restart': ['seconds into the load when replica b is terminated (or later: after a is back and settled)', 34],
  'backend-duration': ['load seconds per backend arm (at least)', 30],
  'backend-down': ['arms f, g: seconds from a backend exiting to its new process', 2],
  'backend-deadline': ["arm g: the endpoint drain's deadline (the backend's preStop budget)", 30],
} as const;
type Flag = keyof typeof FLAGS;

function usage(): string {
  return [
    'usage: node dist/bench/rolling-restart/main.js [options]',
    ...Object.entries(FLAGS).map(([flag, [what, value]]) => `  --${flag} N   ${what} (default ${value})`),
    "  --app-work LIST   seconds each replica's app keeps calling out after SIGTERM, by replica (a,b); one value for both (default 3,8)",
    '  --arms LIST   which arms, of a (plain SIGTERM), b (Envoy preStop, --prestop-sleep), e (Envoy preStop sleeping to cover the slowest app), c (drainplane run), d (run restarted on its state folder);',
    `                the backends behind Envoy restarted: f (plain SIGTERM), g (preStop: drainplane prestop --endpoint); default ${DEFAULT_ARMS}`,
    `  --out DIR     where rolling-restart-<date>.json goes (default ${path.relative(process.cwd(), DEFAULT_OUT) || '.'})`,
  ].join('\n');
}

interface Parsed {
  readonly values: Record<Flag, number>;
  /** Seconds each replica's app calls out after SIGTERM, replica a first. */
  readonly appWork: readonly [number, number];
  readonly arms: (ArmKind | BackendArmKind)[];
  readonly out: string;
}

function parse(argv: string[]): Parsed | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
      arms: { type: 'string' },
      'app-work': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const given = values as Record<string, string | boolean | undefined>;
  const numbers = {} as Record<Flag, number>;
  for (const [flag, [, fallback]] of Object.entries(FLAGS) as [Flag, readonly [string, number]][]) {
    const raw = given[flag];
    const value = typeof raw === 'string' ? Number(raw) : fallback;
    if (!Number.isFinite(value) || value < 0 || (typeof raw === 'string' && raw.trim() === ''))
      throw new Error(`--${flag} wants a number >= 0, got "${raw}"`);
    numbers[flag] = value;
  }
  const arms = (typeof values.arms === 'string' ? values.arms : DEFAULT_ARMS).split(',').map((a) => {
    const kind = ARMS[a.trim()];
    if (!kind) throw new Error(`--arms: unknown arm "${a}" (${Object.keys(ARMS).join(', ')})`);
    return kind;
  });
  const work = (typeof values['app-work'] === 'string' ? values['app-work'] : '3,8').split(',').map((w) => Number(w));
  if (work.length < 1 || work.length > 2 || work.some((w) => !Number.isFinite(w) || w < 0)) {
    throw new Error(`--app-work wants one or two numbers >= 0 (replica a, b), got "${values['app-work']}"`);
  }
  const appWork: [number, number] = [work[0]!, work[1] ?? work[0]!];
  return { values: numbers, appWork, arms, out: typeof values.out === 'string' ? values.out : DEFAULT_OUT };
}

async function main(): Promise<number> {
  let parsed: Parsed | undefined;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`rolling-restart: ${(err as Error).message}\n${usage()}\n`);
    return 2;
  }
  if (!parsed) {
    console.log(usage());
    return 0;
  }
  const lookup = findTools();
  if (lookup.kind !== 'found') {
    if (lookup.kind === 'missing' && process.env['CI'] !== 'true') {
      console.log(`skipped: rolling-restart benchmark: ${lookup.why}`);
      return 0;
    }
    console.error(`error: rolling-restart benchmark: ${lookup.why}`);
    return 1;
  }
  const { tools } = lookup;
  const v = parsed.values;
  const log = (line: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${line}\n`);
  killEverythingOnExit();
  const bound = setTimeout(() => {
    log(`the run exceeded ${RUN_BOUND_MS / 60_000} minutes: stopping everything`);
    killEverything();
    process.exit(1);
  }, RUN_BOUND_MS);
  bound.unref();

  const loadBefore = os.loadavg();
  const startedAt = performance.now();
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'drainplane-rolling-restart-'));
  // Also on Ctrl-C or the run bound, which leave through process.exit.
  process.once('exit', () => rmSync(baseDir, { recursive: true, force: true }));
  const upstream = await startUpstream();
  const arms: ArmResult[] = [];
  const backendArms: BackendArmResult[] = [];
  try {
    const options: ArmOptions = {
      baseDir,
      envoyBin: tools.envoy,
      haproxyBin: tools.haproxy,
      wrkBin: tools.wrk,
      upstreamPort: upstream.port,
      graceSeconds: v.grace,
      prestopSleepSeconds: v['prestop-sleep'],
      rate: v.rate,
      threads: v.threads,
      connections: v.connections,
      endpointDelaySeconds: v['endpoint-delay'],
      appWorkSeconds: parsed.appWork,
      // What an operator sets so that no app loses egress: the slowest app's need plus a margin.
      coveringSleepSeconds: Math.max(...parsed.appWork) + v['prestop-margin'],
      schedule: { durationSeconds: v.duration, restartAtSeconds: [v['first-restart'], v['second-restart']], settleSeconds: 6, tailSeconds: 6 },
      log,
    };
    log(
      `envoy ${tools.versions.envoy}, ${tools.versions.haproxy}, ${tools.versions.wrk}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
    );
    const backendOptions: BackendArmOptions = {
      baseDir,
      envoyBin: tools.envoy,
      wrkBin: tools.wrk,
      upstreamPort: upstream.port,
      rate: v.rate,
      threads: v.threads,
      connections: v.connections,
      durationSeconds: v['backend-duration'],
      restartAtSeconds: [5, 15],
      downSeconds: v['backend-down'],
      tailSeconds: 5,
      drainDeadlineSeconds: v['backend-deadline'],
      log,
    };
    for (const kind of parsed.arms) {
      if (isBackendArm(kind)) {
        log(`arm ${BACKEND_ARM_TITLES[kind]}: starting`);
        const result = await runBackendArm(kind, backendOptions);
        log(`arm ${BACKEND_ARM_TITLES[kind]}: ${result.load.requests} requests at ${result.load.rate} req/s, ${backendErrors(result)} failed`);
        backendArms.push(result);
        continue;
      }
      log(`arm ${ARM_TITLES[kind]}: starting`);
      const result = await runArm(kind, options);
      log(
        `arm ${ARM_TITLES[kind]}: ${result.load.requests} requests at ${result.load.rate} req/s, ${result.load.socketErrors} socket errors, ${result.load.non2xx} non-2xx`,
      );
      arms.push(result);
    }
  } finally {
    await upstream.process.stop();
  }

  const loadAfter = os.loadavg();
  const targets = [...(arms.length > 0 ? evaluateTargets(arms, MIN_RATE) : []), ...backendTargets(backendArms, MIN_RATE)];
  const durationSeconds = Math.round((performance.now() - startedAt) / 100) / 10;
  if (arms.length > 0) console.log(markdownTable(arms));
  if (backendArms.length > 0) console.log(`${arms.length > 0 ? '\nThe backends behind Envoy restarted:\n' : ''}${backendTable(backendArms)}`);
  console.log(`\nTargets:\n${targetLines(targets)}`);
  const env = environment();
  console.log(
    `\nEnvoy ${tools.versions.envoy}, ${tools.versions.haproxy}, ${tools.versions.wrk}. ${env.nproc} CPUs (${env.cpuModel}), Node ${env.node}. ` +
      `Load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}. Run took ${durationSeconds} s.`,
  );
  await mkdir(parsed.out, { recursive: true });
  const file = path.join(parsed.out, `rolling-restart-${new Date().toISOString().slice(0, 10)}.json`);
  const record = {
    date: new Date().toISOString(),
    durationSeconds,
    options: { ...v, 'app-work': parsed.appWork },
    tools: tools.versions,
    environment: env,
    loadAverage: { before: loadBefore, after: loadAfter },
    targets,
    arms,
    backendArms,
  };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`Results: ${path.relative(process.cwd(), file)}`);
  return 0;
}

main().then(
  (code) => {
    killEverything();
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`rolling-restart: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killEverything();
    process.exit(1);
  },
);
