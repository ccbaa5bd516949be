#!/usr/bin/env node
// The real Kubernetes control plane the Kubernetes tests run (`npm run test:kube`):
// kube-apiserver, kube-controller-manager and kubectl, built with Go from the Go module proxy
// into .kube/<version>/bin/. The version is pinned in package.json ("kubernetes.version"); the
// modules are pinned by test/kube/build/go.mod and go.sum, and the build never changes them.
//
//   node scripts/kube.mjs install [--optional]   build (no-op when present)
//   node scripts/kube.mjs path                   build if needed, print the bin folder
//
// KUBE_BIN_DIR overrides the folder (nothing is built then). Where `go` is not on PATH,
// `--optional` prints one `skipped:` line and exits 0, except under CI=true, where it is an error.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installOutcome, runAsProgram } from './install-cli.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODULE_DIR = path.join(ROOT, 'test', 'kube', 'build');
export const BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kubectl'];
// A cold build takes about 6 minutes on 2 cores, downloads included.
const BUILD_TIMEOUT_MS = 30 * 60_000;

/** package.json's "kubernetes": { version }, checked against the go.mod that builds it. */
export function kubeVersion() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const version = pkg.kubernetes?.version;
  if (!version) throw new Error('package.json: "kubernetes.version" is missing');
  const goMod = readFileSync(path.join(MODULE_DIR, 'go.mod'), 'utf8');
  if (!goMod.includes(`k8s.io/kubernetes v${version}\n`)) {
    throw new Error(`test/kube/build/go.mod must require k8s.io/kubernetes v${version}, the version package.json pins`);
  }
  return version;
}

/** The folder holding the binaries: KUBE_BIN_DIR, else the pinned version's build folder. */
export function kubeBinDir(env = process.env) {
  const given = env.KUBE_BIN_DIR?.trim();
  return given ? path.resolve(given) : path.join(ROOT, '.kube', kubeVersion(), 'bin');
}

/** Returns { dir } once the binaries are there, or { skipped: reason } when `go` is missing. */
export function ensureKube(env = process.env) {
  const dir = kubeBinDir(env);
  if (BINARIES.every((b) => existsSync(path.join(dir, b)))) return { dir };
  if (env.KUBE_BIN_DIR?.trim()) throw new Error(`KUBE_BIN_DIR=${dir} lacks one of ${BINARIES.join(', ')}`);
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) return { skipped: `go is needed to build Kubernetes ${kubeVersion()} (or set KUBE_BIN_DIR)` };

  // Built into a temporary folder renamed into place: a cut-short build never looks complete.
  // One fixed name, so the 300 MB a killed build leaves are removed by the next one.
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const version = kubeVersion();
  console.error(`building Kubernetes ${version} with ${go.stdout.trim()} (a first build takes minutes)`);
  const build = spawnSync(
    'go',
    ['build', '-mod=readonly', `-ldflags=${versionFlags(version)}`, '-o', `${partial}/`, ...BINARIES.map((b) => `k8s.io/kubernetes/cmd/${b}`)],
    { cwd: MODULE_DIR, stdio: ['ignore', 'inherit', 'inherit'], timeout: BUILD_TIMEOUT_MS },
  );
  if (build.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(
      `go build of Kubernetes ${version} failed (${build.error?.message ?? `exit ${build.status ?? build.signal}`}): see its output above`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return { dir };
}

/** What Kubernetes' own release build stamps, so `/version` and `kubectl version` name the release. */
function versionFlags(version) {
  const [major, minor] = version.split('.');
  const stamp = (pkg) =>
    [`gitVersion=v${version}`, `gitMajor=${major}`, `gitMinor=${minor}`, 'gitTreeState=clean'].map((v) => `-X ${pkg}.${v}`).join(' ');
  return `-s -w ${stamp('k8s.io/component-base/version')} ${stamp('k8s.io/client-go/pkg/version')}`;
}

function main(argv) {
  const [command = 'path', ...rest] = argv;
  if (command !== 'install' && command !== 'path') {
    console.error('usage: scripts/kube.mjs install [--optional] | path');
    return 2;
  }
  return installOutcome(ensureKube(), { optional: rest.includes('--optional'), ...(command === 'path' && { print: (found) => found.dir }) });
}

runAsProgram(import.meta.url, main);
