/**
 * A Secret as printed for people (`drainplane render`): certificates shown, private material
 * replaced, as Envoy's own /config_dump does. The bytes served are not changed.
 */
type Json = Record<string, unknown>;

export const REDACTED = '[redacted]';

/** The DataSources of a Secret (canonical JSON) that hold private material, by the message holding them. */
const PRIVATE: readonly (readonly [holder: string, field: string])[] = [
  ['tls_certificate', 'private_key'],
  ['tls_certificate', 'password'],
  ['generic_secret', 'secret'],
];

export function redactSecret(secret: Json): Json {
  const out: Json = { ...secret };
  for (const [holder, field] of PRIVATE) {
    const message = out[holder] as Json | undefined;
    if (message?.[field] !== undefined) out[holder] = { ...message, [field]: { inline_string: REDACTED } };
  }
  const tickets = out['session_ticket_keys'] as Json | undefined;
  if (Array.isArray(tickets?.['keys'])) out['session_ticket_keys'] = { ...tickets, keys: tickets['keys'].map(() => ({ inline_string: REDACTED })) };
  return out;
}
