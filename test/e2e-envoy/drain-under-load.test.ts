/**
 * drainplane drains a real Envoy under HTTP/1.1 and HTTP/2 load (suite.ts), over SotW and over
 * Delta ADS. `npm test` runs it against the pinned Envoy; `ENVOY_BIN=... npm run test:envoy`
 * against another.
 */
import { ADS_APIS } from './configs.js';
import { withRealEnvoy } from './envoy-binary.js';
import { registerEnvoyDrainSuite } from './suite.js';

withRealEnvoy('remove drain under load', (envoy) => {
  for (const adsApi of ADS_APIS) registerEnvoyDrainSuite(envoy, adsApi);
});
