/**
 * One real Envoy node with drainplane (node-suite.ts), over SotW and over Delta ADS: sync, listener
 * roles, the admin API version by version, admin-stopped listeners against LDS, signals.
 */
import { ADS_APIS } from './configs.js';
import { withRealEnvoy } from './envoy-binary.js';
import { registerNodeSuite } from './node-suite.js';

withRealEnvoy('one Envoy node', (envoy) => {
  for (const adsApi of ADS_APIS) registerNodeSuite(envoy, adsApi);
});
