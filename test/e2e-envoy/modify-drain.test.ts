/**
 * Modify drains of a real Envoy (modify-suite.ts), over SotW and over Delta ADS. `npm test` runs
 * it against the pinned Envoy; `ENVOY_VERSION=... node scripts/run-tests.mjs e2e-envoy` against another.
 */
import { ADS_APIS } from './configs.js';
import { withRealEnvoy } from './envoy-binary.js';
import { registerModifyDrainSuite } from './modify-suite.js';

withRealEnvoy('modify drain', (envoy) => {
  for (const adsApi of ADS_APIS) registerModifyDrainSuite(envoy, adsApi);
});
