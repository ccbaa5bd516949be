/**
 * The programs the benchmark runs: haproxy and wrk from PATH (Debian packages `haproxy`, `wrk`),
 * Envoy from ENVOY_BIN, else the pinned binary scripts/envoy.mjs installs.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findEnvoy, searchPath } from '../../test/e2e-envoy/envoy-binary.js';

const ENVOY_SCRIPT = fileURLToPath(new URL('../../../scripts/envoy.mjs', import.meta.url));

export interface Tools {
  readonly haproxy: string;
  readonly wrk: string;
  readonly envoy: string;
  readonly versions: Record<'envoy' | 'haproxy' | 'wrk', string>;
}

export type ToolLookup =
  | { readonly kind: 'found'; readonly tools: Tools }
  /** Something to install: a skip locally, a failure under CI. */
  | { readonly kind: 'missing'; readonly why: string }
  | { readonly kind: 'broken'; readonly why: string };

export function findTools(env: NodeJS.ProcessEnv = process.env): ToolLookup {
  const haproxy = searchPath('haproxy', env['PATH'] ?? '');
  const wrk = searchPath('wrk', env['PATH'] ?? '');
  const missing = [!haproxy && 'haproxy', !wrk && 'wrk'].filter(Boolean);
  if (missing.length > 0) return { kind: 'missing', why: `no ${missing.join(' and no ')} on PATH (apt-get install ${missing.join(' ')})` };

  let envoyBin = env['ENVOY_BIN']?.trim();
  if (!envoyBin) {
    const run = spawnSync(process.execPath, [ENVOY_SCRIPT, 'path'], { encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) return { kind: 'missing', why: `no envoy binary (set ENVOY_BIN): ${(run.stderr || run.stdout).trim()}` };
    envoyBin = run.stdout.trim().split('\n').pop()!;
  }
  const envoy = findEnvoy({ ...env, ENVOY_BIN: envoyBin });
  if (envoy.kind === 'broken') return { kind: 'broken', why: envoy.message };
  if (envoy.kind === 'absent') return { kind: 'missing', why: 'no envoy binary (set ENVOY_BIN)' };
  return {
    kind: 'found',
    tools: {
      haproxy: haproxy!,
      wrk: wrk!,
      envoy: envoy.bin,
      versions: { envoy: envoy.version, haproxy: firstLine(haproxy!, ['-v']), wrk: firstLine(wrk!, ['--version']) },
    },
  };
}

function firstLine(bin: string, args: string[]): string {
  const run = spawnSync(bin, args, { encoding: 'utf8', timeout: 10_000 });
  return `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n')[0] ?? 'unknown';
}
