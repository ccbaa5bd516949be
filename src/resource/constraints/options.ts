/**
 * Reading protoc-gen-validate (PGV) annotations off protobufjs reflection objects.
 *
 * Envoy's API is loaded from file descriptors (../descriptors.ts), which puts each PGV option into
 * the object's `options` under its option name, as the structured value protoc serialized:
 * `options['(validate.rules)']` is the field's FieldRules as a plain object (`{ string: { min_len:
 * '1' } }`, repeated rules as arrays, 64-bit integers as decimal strings, empty messages such as
 * `gt {}` kept).
 *
 * Messages parsed by protobufjs from .proto text (the tests' own) have their rules in another
 * form: protobufjs keeps each option twice, flattened (`options['(validate.rules).string.in']`),
 * which keeps only the last element of a repeated rule and drops empty messages such as `gt {}`,
 * and structured (`parsedOptions`), which keeps both. Those are read from `parsedOptions`.
 *
 * Nothing here trusts their shape: a rule that is missing or of an unexpected type reads as
 * absent, and unknown rule names are never looked at.
 */
import type protobuf from 'protobufjs';

/** One level of a rule message as protobufjs parsed it, e.g. the `{ min_len: 1 }` of `string`. */
export type Raw = Readonly<Record<string, unknown>>;

const FIELD_RULES = '(validate.rules)';
const ONEOF_REQUIRED = '(validate.required)';
/** `disabled` skips a message's own rules and everything below it; newer PGV spells it `ignored`. */
const MESSAGE_OFF = ['(validate.disabled)', '(validate.ignored)'];

/** The field's FieldRules, or undefined when it has none. */
export function fieldRules(field: protobuf.Field): Raw | undefined {
  const structured = record(field.options?.[FIELD_RULES]);
  if (structured) return structured;
  // An array at runtime, though protobufjs's typings declare an object.
  const options: unknown = field.parsedOptions;
  let merged: Raw | undefined;
  for (const option of Array.isArray(options) ? options : []) {
    const rules = record((option as Raw)[FIELD_RULES]);
    if (rules) merged = merged ? deepMerge(merged, rules) : rules;
  }
  return merged;
}

export function oneofRequired(oneof: protobuf.OneOf): boolean {
  return oneof.options?.[ONEOF_REQUIRED] === true;
}

export function validationDisabled(type: protobuf.Type): boolean {
  return MESSAGE_OFF.some((name) => type.options?.[name] === true);
}

export function record(value: unknown): Raw | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Raw) : undefined;
}

export function flag(rules: Raw | undefined, name: string): boolean {
  return rules?.[name] === true;
}

export function text(rules: Raw | undefined, name: string): string | undefined {
  const value = rules?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** A length or count limit (the uint64 `min_len`, `max_items`, ...). */
export function count(rules: Raw | undefined, name: string): number | undefined {
  const value = rules?.[name];
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** A repeated rule (`in`, `not_in`): protobufjs gives a lone element as a scalar, not an array. */
export function list(rules: Raw | undefined, name: string): readonly unknown[] {
  const value = rules?.[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Several `(validate.rules)` options on one field (protobufjs keeps `rules = {...}` and
 * `rules.string.x = ...` forms apart). protoc rejects a singular rule set twice, so a key found in
 * both is a repeated rule, and its elements accumulate.
 */
function deepMerge(a: Raw, b: Raw): Raw {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const before = out[key];
    const left = record(before);
    const right = record(value);
    if (left && right) out[key] = deepMerge(left, right);
    else out[key] = before === undefined ? value : [before, value].flat();
  }
  return out;
}
