/**
 * A Secret's files, read by drainplane and sent as bytes. Envoy would open a DataSource's
 * `filename` on its own host; served over SDS, the name is read here instead, so a rotation is
 * drainplane reading the new files and pushing the one Secret (no listener or cluster changes,
 * so no connection drains).
 */
import protobuf from 'protobufjs';
import type { ProtoRegistry } from '../../resource/protos.js';
import type { ConfigIssue } from '../config-issue.js';
import type { SecretFiles } from './secret-files.js';

type Json = Record<string, unknown>;

const DATA_SOURCE = '.envoy.config.core.v3.DataSource';
const ANY = '.google.protobuf.Any';

export interface InlinedSecret {
  /** The Secret, every `filename` replaced by `inline_bytes`. */
  readonly json: Json;
  /** The absolute paths read. */
  readonly files: readonly string[];
  readonly errors: readonly ConfigIssue[];
}

/** Replaces the file DataSources of a Secret (canonical proto3 JSON) with their contents. */
export function inlineSecretFiles(registry: ProtoRegistry, secret: Json, path: string, files: SecretFiles): InlinedSecret {
  const read: string[] = [];
  const errors: ConfigIssue[] = [];

  const dataSource = (source: Json, at: string): Json => {
    const name = source['filename'];
    if (typeof name !== 'string') return source;
    const file = files.resolve(name);
    try {
      const bytes = files.read(name);
      read.push(file);
      return { inline_bytes: bytes.toString('base64') };
    } catch (err) {
      errors.push({ path: `${at}.filename`, message: `cannot read ${file}: ${(err as Error).message}` });
      return source;
    }
  };

  const message = (type: protobuf.Type, value: Json, at: string): Json => {
    if (type.fullName === DATA_SOURCE) return dataSource(value, at);
    if (type.fullName === ANY) return anyValue(value, at);
    if ('watched_directory' in value) {
      errors.push({
        path: `${at}.watched_directory`,
        message: 'drainplane reads these files and pushes every change itself; watched_directory would have Envoy watch a folder on its own host',
      });
    }
    const out: Json = { ...value };
    for (const field of type.fieldsArray) {
      const fieldValue = value[field.name];
      const fieldType = field.resolve().resolvedType;
      if (fieldValue === undefined || !(fieldType instanceof protobuf.Type)) continue;
      const fieldPath = `${at}.${field.name}`;
      if (field.repeated && Array.isArray(fieldValue)) {
        out[field.name] = fieldValue.map((item: Json, i) => message(fieldType, item, `${fieldPath}[${i}]`));
      } else if (field.map) {
        out[field.name] = Object.fromEntries(
          Object.entries(fieldValue as Json).map(([k, v]) => [k, message(fieldType, v as Json, `${fieldPath}.${k}`)]),
        );
      } else {
        out[field.name] = message(fieldType, fieldValue as Json, fieldPath);
      }
    }
    return out;
  };

  // An extension's config (a private key provider's, say) may hold DataSources of its own.
  const anyValue = (value: Json, at: string): Json => {
    const typeUrl = value['@type'];
    const inner = typeof typeUrl === 'string' ? registry.typeFromUrl(typeUrl) : undefined;
    if (!inner || 'value' in value) return value; // a well-known type: no files in it
    return { '@type': typeUrl, ...message(inner, value, at) };
  };

  const json = message(registry.type('envoy.extensions.transport_sockets.tls.v3.Secret'), secret, path);
  return { json, files: read, errors };
}
