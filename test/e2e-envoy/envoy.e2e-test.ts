/**
 * End-to-end: drainplane drains a real Envoy under HTTP/1.1 and HTTP/2 load (suite.ts).
 *
 *   npm run test:envoy                              # envoy on PATH
 *   ENVOY_BIN=/path/to/envoy npm run test:envoy
 *
 * The name keeps it out of `npm test` (which runs *.test.js) and lets node's test runner find it
 * in this folder. Without an Envoy binary it prints one line and exits 0 without running tests;
 * a binary that is found but does not answer `--version` fails the run.
 */
import { findEnvoy } from './envoy-binary.js';

const envoy = findEnvoy(process.env);
if (envoy.kind === 'absent') {
  console.log('skipped: no envoy binary (set ENVOY_BIN)');
} else if (envoy.kind === 'broken') {
  console.error(`error: ${envoy.message}`);
  process.exitCode = 1;
} else {
  const { registerEnvoyDrainSuite } = await import('./suite.js');
  registerEnvoyDrainSuite(envoy);
}
