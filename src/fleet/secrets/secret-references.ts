/**
 * The secrets a group's listeners and clusters name through SDS (`*_sds_secret_config(s)` in
 * their TLS contexts), checked against the group's `secrets`: Envoy keeps a listener or cluster
 * warming until every secret it names arrives, so a name drainplane does not serve would hold it
 * forever.
 */
import type { ConfigIssue } from '../config-issue.js';
import type { LocatedResource } from '../references.js';

type Json = Record<string, unknown>;

interface SecretReference {
  readonly name: string;
  readonly path: string;
  /**
   * Where Envoy looks for it: the ADS stream (drainplane), its bootstrap's static secrets (no
   * `sds_config`), or some other source.
   */
  readonly source: 'ads' | 'bootstrap' | 'other';
}

export function checkSecretReferences(
  users: readonly LocatedResource[],
  secrets: readonly LocatedResource[],
  declared: ReadonlySet<string>,
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const used = new Set<string>();
  for (const user of users) {
    for (const ref of secretReferences(user.json, user.path)) {
      used.add(ref.name);
      if (ref.source === 'ads' && !declared.has(ref.name)) {
        errors.push({ path: `${ref.path}.name`, message: `secret "${ref.name}" is not among this group's secrets; Envoy would wait for it forever` });
      } else if (ref.source === 'bootstrap' && declared.has(ref.name)) {
        errors.push({
          path: ref.path,
          message:
            `secret "${ref.name}" is one of this group's secrets, but this reference has no sds_config, so Envoy looks for ` +
            'a static secret of that name in its bootstrap; add sds_config: { ads: {}, resource_api_version: V3 }',
        });
      }
    }
  }
  const warnings = secrets
    .filter((s) => !used.has(s.name))
    .map((s) => ({ path: `${s.path}.name`, message: `no listener or cluster of this group uses secret "${s.name}"` }));
  return { errors, warnings };
}

/**
 * How a TLS context field (snake_case) holds SdsSecretConfigs: a list
 * (`tls_certificate_sds_secret_configs`), one (`validation_context_sds_secret_config`,
 * `session_ticket_keys_sds_secret_config`), or none.
 */
export function sdsSecretConfigField(field: string): 'list' | 'one' | undefined {
  return field.endsWith('_sds_secret_configs') ? 'list' : field.endsWith('_sds_secret_config') ? 'one' : undefined;
}

/** Every SdsSecretConfig in a resource, wherever its TLS contexts are (chains, transport socket matches, Anys). */
function* secretReferences(json: unknown, path: string): Generator<SecretReference> {
  if (Array.isArray(json)) {
    for (const [i, item] of json.entries()) yield* secretReferences(item, `${path}[${i}]`);
    return;
  }
  if (typeof json !== 'object' || json === null) return;
  for (const [key, value] of Object.entries(json as Json)) {
    const at = `${path}.${key}`;
    const holds = sdsSecretConfigField(key);
    if (holds === 'list' && Array.isArray(value)) {
      for (const [i, config] of value.entries()) yield* reference(config, `${at}[${i}]`);
    } else if (holds === 'one') {
      yield* reference(value, at);
    } else {
      yield* secretReferences(value, at);
    }
  }
}

function* reference(config: unknown, path: string): Generator<SecretReference> {
  const c = config as Json | undefined;
  if (typeof c?.['name'] !== 'string') return;
  const sdsConfig = c['sds_config'] as Json | undefined;
  const source = sdsConfig === undefined ? 'bootstrap' : 'ads' in sdsConfig || 'self' in sdsConfig ? 'ads' : 'other';
  yield { name: c['name'], path, source };
}
