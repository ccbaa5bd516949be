/**
 * The zero-error evidence: drains a grpc-js-xds replica through drainplane under load, then stops
 * a replica abruptly under the same load, and prints both side by side (see zero-error/scenario.ts).
 *
 *   npm run demo:zero-error
 *   node dist/bench/zero-error.js [--concurrency 200] [--channels 8] [--rpcs-per-phase 50000]
 *     [--streams 20] [--stream-replies 20] [--stream-interval-ms 100] [--event-at 0.3]
 *     [--drain-grace-ms 10000] [--rpc-deadline-ms 5000] [--phase-timeout-ms 60000]
 *     [--no-retries] [--out DIR]
 *
 * The table goes to stdout, progress to stderr; the results are written to
 * DIR/zero-error-<date>.json (DIR: bench/results).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { environment, markdownTable, resultFileName, resultRecord } from './zero-error/report.js';
import { DEFAULT_OPTIONS, runZeroErrorScenario, type ZeroErrorOptions } from './zero-error/scenario.js';

/** bench/results in the repository, from dist/bench/zero-error.js. */
const DEFAULT_OUT = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/** The numeric options, by flag. */
const NUMERIC_FLAGS = {
  concurrency: 'concurrency',
  channels: 'channels',
  'rpcs-per-phase': 'rpcsPerPhase',
  streams: 'streams',
  'stream-replies': 'streamReplies',
  'stream-interval-ms': 'streamIntervalMs',
  'event-at': 'eventAt',
  'drain-grace-ms': 'drainGraceMs',
  'rpc-deadline-ms': 'rpcDeadlineMs',
  'phase-timeout-ms': 'phaseTimeoutMs',
} as const satisfies Record<string, keyof ZeroErrorOptions>;

function usage(): string {
  const flags = Object.entries(NUMERIC_FLAGS).map(([flag, key]) => `  --${flag} N   (default ${DEFAULT_OPTIONS[key]})`);
  return [
    'usage: node dist/bench/zero-error.js [options]',
    ...flags,
    "  --no-retries   turn off gRPC's transparent retry too (default: on, as in every gRPC client: RPCs the server refused unprocessed are resent once)",
    `  --out DIR   where zero-error-<date>.json goes (default ${path.relative(process.cwd(), DEFAULT_OUT) || '.'})`,
  ].join('\n');
}

function parseOptions(argv: string[]): { options: Partial<ZeroErrorOptions>; out: string } | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(Object.keys(NUMERIC_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      'no-retries': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const given: Record<string, string | boolean | undefined> = values;
  const options: Partial<Record<keyof ZeroErrorOptions, number | boolean>> = {};
  for (const [flag, key] of Object.entries(NUMERIC_FLAGS)) {
    const raw = given[flag];
    if (typeof raw !== 'string') continue;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`--${flag} wants a number, got "${raw}"`);
    options[key] = value;
  }
  if (values['no-retries']) options.transparentRetries = false;
  return { options: options as Partial<ZeroErrorOptions>, out: typeof values.out === 'string' ? values.out : DEFAULT_OUT };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`zero-error: ${(err as Error).message}\n${usage()}\n`);
    process.exit(2);
  }
  if (!parsed) {
    console.log(usage());
    return;
  }
  const result = await runZeroErrorScenario(parsed.options, {
    log: (line) => process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${line}\n`),
  });
  const env = environment();
  console.log(markdownTable(result));
  console.log(
    `\nMachine: ${env.nproc} CPUs (${env.cpuModel}), ${env.memoryGiB} GiB, ${env.platform}, Node ${env.node}, ` +
      Object.entries(env.packages)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ') +
      `. Run took ${(result.durationMs / 1000).toFixed(1)} s.`,
  );
  await mkdir(parsed.out, { recursive: true });
  const file = path.join(parsed.out, resultFileName(result));
  await writeFile(file, `${JSON.stringify(resultRecord(result, env), null, 2)}\n`);
  console.log(`Results: ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`zero-error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
