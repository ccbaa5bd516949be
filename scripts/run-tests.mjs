#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner.
// Arguments narrow the run to files whose path contains one of them: `npm test -- xds/sotw`.
//
// The real-Envoy suites run the pinned official Envoy (scripts/envoy.mjs installs it when
// missing) through ENVOY_BIN; ENVOY_BIN or ENVOY_VERSION given here choose another one.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureEnvoy } from './envoy.mjs';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = testFiles('dist/test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const env = { ...process.env };
const envoy = ensureEnvoy();
if ('skipped' in envoy) {
  // The suites that need Envoy print their own `skipped:` line (and fail under CI=true).
  console.log(`note: ${envoy.skipped}`);
} else {
  env.ENVOY_BIN = envoy.bin;
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
