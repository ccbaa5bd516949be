import { buildInfo } from '../resource/envoy-api.js';

/** `drainplane --version`: the package's version, then the Envoy API it accepts and encodes. */
export function versionText(): string {
  const { name, version, envoyApi } = buildInfo();
  const api = envoyApi.installed
    ? `Envoy API ${envoyApi.version} (${envoyApi.module}${envoyApi.envoyCommit ? `, envoyproxy/envoy@${envoyApi.envoyCommit.slice(0, 12)}` : ''}, ${envoyApi.files} proto files)`
    : `Envoy API ${envoyApi.version} (not installed: run \`npm ci\` or \`node scripts/envoy-api.mjs install\`)`;
  return `${name} ${version}\n${api}\n`;
}
