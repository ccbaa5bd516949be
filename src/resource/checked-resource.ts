import type protobuf from 'protobufjs';
import { checkConstraints } from './constraints.js';
import { encodeMessage } from './json-mapping/encode.js';
import { partialMessageFromJson } from './json-mapping/from-json.js';
import type { MappingError } from './json-mapping/result.js';
import type { ProtoRegistry } from './protos.js';

/**
 * A resource from its JSON, with every error Envoy would find listed at once: the JSON
 * mapping's (unknown fields, bad values) and the PGV rules' over everything that did parse. A
 * user fixing a file then meets no third error after fixing two. A rule broken only because a
 * bad value was left unset (a required field, or a required oneof, whose value did not parse)
 * is not listed twice.
 */
export function encodeChecked(
  registry: ProtoRegistry,
  type: protobuf.Type,
  json: unknown,
  basePath = '',
): { ok: true; value: Uint8Array } | { ok: false; errors: MappingError[] } {
  const { message, errors } = partialMessageFromJson(registry, type, json, basePath);
  if (message === undefined) return { ok: false, errors };
  const bytes = encodeMessage(type, message);
  const violations = checkConstraints(registry, type, bytes, basePath).filter((v) => !errors.some((e) => causedBy(v, e)));
  const all = [...errors, ...violations];
  return all.length === 0 ? { ok: true, value: bytes } : { ok: false, errors: all };
}

/**
 * Whether a rule broken in what did parse follows from a mapping error: the error is inside the
 * field the rule is about, or the rule asks for something required and the error is beside it
 * (a oneof's rule is on the oneof's name; the value that did not parse was one of its fields).
 */
function causedBy(violation: MappingError, error: MappingError): boolean {
  if (within(error.path, violation.path)) return true;
  if (!violation.message.startsWith('is required')) return false;
  const parent = violation.path.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, '');
  return parent !== violation.path && within(error.path, parent);
}

/** Whether `path` is `outer` or lies inside it. */
function within(path: string, outer: string): boolean {
  return path === outer || path.startsWith(`${outer}.`) || path.startsWith(`${outer}[`);
}
