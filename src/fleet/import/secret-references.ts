/**
 * The static secrets of a bootstrap as drainplane serves them. Listeners and clusters name a
 * static secret by an SdsSecretConfig without `sds_config` (Envoy looks in its bootstrap); once
 * the secret moves to drainplane, the reference asks the ADS stream for it instead.
 */
import { sdsSecretConfigField } from '../secrets/secret-references.js';
import { isObject, snakeCase, type Json } from './written-message.js';

const ADS_SOURCE = { ads: {}, resource_api_version: 'V3' };

/** The names of the bootstrap secrets a part of the config names (from its bootstrap). */
export function staticSecretNames(json: unknown, found: Set<string> = new Set()): Set<string> {
  visit(json, (config) => {
    if (!hasSource(config) && typeof config['name'] === 'string') found.add(config['name']);
    return config;
  });
  return found;
}

/** `json` with every reference to one of `moved` (a static secret) asking ADS for it. */
export function overAds(json: Json, moved: ReadonlySet<string>): Json {
  return visit(json, (config) =>
    !hasSource(config) && typeof config['name'] === 'string' && moved.has(config['name']) ? { ...config, sds_config: ADS_SOURCE } : config,
  ) as Json;
}

/** A copy of `json` with each SdsSecretConfig (in either spelling of its field) passed through `change`. */
function visit(json: unknown, change: (config: Json) => Json): unknown {
  if (Array.isArray(json)) return json.map((item) => visit(item, change));
  if (!isObject(json)) return json;
  const out: Json = {};
  for (const [key, value] of Object.entries(json)) {
    const holds = sdsSecretConfigField(snakeCase(key));
    if (holds === 'list' && Array.isArray(value)) out[key] = value.map((c: unknown) => (isObject(c) ? change(c) : c));
    else if (holds === 'one' && isObject(value)) out[key] = change(value);
    else out[key] = visit(value, change);
  }
  return out;
}

function hasSource(config: Json): boolean {
  return config['sds_config'] !== undefined || config['sdsConfig'] !== undefined;
}
