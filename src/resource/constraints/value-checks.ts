/**
 * One field's rules turned into a check of one value: a singular field's value, a repeated
 * field's item or a map's key or value. Values arrive as protobufjs decodes them (Long for 64-bit
 * integers, Uint8Array for bytes, enum numbers, messages for Duration, Timestamp, Any and wrappers).
 */
import protobuf from 'protobufjs';
import type { MappingError } from '../json-mapping.js';
import { list, record, text, type Raw } from './options.js';
import { NUMBER_KINDS, readNumber, showNumber, toNum } from './numbers.js';
import { keyPath } from '../paths.js';
import { rangeRules, type Rule } from './ranges.js';
import { bytesRules, quote, stringRules } from './strings.js';
import { durationRules, timestampRules, toNanos } from './time.js';

/** Checks one value and files each violation under `path`. */
export type ValueCheck = (value: unknown, path: string, out: MappingError[]) => void;

/** What a rule is applied to: a field's type, or a map field's key or value type. */
export type Element = { kind: 'scalar'; type: string } | { kind: 'enum'; type: protobuf.Enum } | { kind: 'message'; type: protobuf.Type };

export function elementOf(field: protobuf.Field): Element {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return { kind: 'message', type: resolved };
  if (resolved instanceof protobuf.Enum) return { kind: 'enum', type: resolved };
  return { kind: 'scalar', type: field.type };
}

const ANY = '.google.protobuf.Any';
const DURATION = '.google.protobuf.Duration';
const TIMESTAMP = '.google.protobuf.Timestamp';

/** PGV applies a scalar's rules to the wrapper type of that scalar, to the wrapped value. */
const WRAPPERS = new Map([
  ['.google.protobuf.DoubleValue', 'double'],
  ['.google.protobuf.FloatValue', 'float'],
  ['.google.protobuf.Int64Value', 'int64'],
  ['.google.protobuf.UInt64Value', 'uint64'],
  ['.google.protobuf.Int32Value', 'int32'],
  ['.google.protobuf.UInt32Value', 'uint32'],
  ['.google.protobuf.BoolValue', 'bool'],
  ['.google.protobuf.StringValue', 'string'],
  ['.google.protobuf.BytesValue', 'bytes'],
]);

/** The FieldRules kinds that constrain one value; `repeated` and `map` are the plan's business. */
const VALUE_KINDS = new Set([...NUMBER_KINDS, 'bool', 'string', 'bytes', 'enum', 'any', 'duration', 'timestamp']);

/**
 * The check for `rules` (a FieldRules) on values of `element`, or undefined when nothing applies.
 * A rule kind that does not fit the element (which protoc-gen-validate would have refused) is
 * ignored, as are kinds this reader does not know.
 */
export function compileValueCheck(rules: Raw | undefined, element: Element): ValueCheck | undefined {
  const kind = Object.keys(rules ?? {}).find((k) => VALUE_KINDS.has(k));
  const kindRules = kind === undefined ? undefined : record(rules?.[kind]);
  if (kind === undefined || kindRules === undefined) return undefined;
  if (element.kind === 'enum') {
    return kind === 'enum' ? checkOf(enumRules(kindRules, element.type), (v) => Number(v ?? 0)) : undefined;
  }
  if (element.kind === 'message') {
    const name = element.type.fullName;
    if (kind === 'any' && name === ANY) return anyCheck(kindRules, element.type.fieldsById[1]!.name);
    if (kind === 'duration' && name === DURATION) return checkOf(durationRules(kindRules), nanosOf);
    if (kind === 'timestamp' && name === TIMESTAMP) return checkOf(timestampRules(kindRules), nanosOf);
  }
  const scalar = element.kind === 'scalar' ? element.type : WRAPPERS.get(element.type.fullName);
  if (scalar === undefined) return undefined;
  const check = scalarCheck(kind, kindRules, scalar);
  if (!check || element.kind === 'scalar') return check;
  // A set wrapper holding the default value has no `value` of its own: protobufjs reads the default.
  return (wrapper, path, out) => check(record(wrapper)?.['value'], path, out);
}

function scalarCheck(kind: string, rules: Raw, scalar: string): ValueCheck | undefined {
  // Newer PGV's `ignore_empty`: the rules do not apply to the type's zero value.
  const ignoreEmpty = rules['ignore_empty'] === true;
  if (NUMBER_KINDS.has(kind) && NUMBER_KINDS.has(scalar)) {
    const rule = rangeRules(
      rules,
      (raw) => readNumber(raw, kind),
      (v) => showNumber(v, kind),
    );
    return checkOf(rule, (v) => toNum(v, scalar), ignoreEmpty ? (v) => v === 0 || v === 0n : undefined);
  }
  if (kind === 'string' && scalar === 'string') {
    return checkOf(stringRules(rules), (v) => String((v as string | undefined) ?? ''), ignoreEmpty ? (v) => v === '' : undefined);
  }
  if (kind === 'bytes' && scalar === 'bytes') {
    return checkOf(bytesRules(rules), toBytes, ignoreEmpty ? (v) => v.length === 0 : undefined);
  }
  if (kind === 'bool' && scalar === 'bool' && typeof rules['const'] === 'boolean') {
    const equal = rules['const'];
    return checkOf([(v: boolean) => (v === equal ? undefined : `value must be ${equal}, got ${v}`)], Boolean);
  }
  return undefined;
}

/** Runs `rules` on `convert(value)`, unless `exempt` says the value is left alone. */
function checkOf<T>(rules: Rule<T>[], convert: (value: unknown) => T, exempt?: (value: T) => boolean): ValueCheck | undefined {
  if (rules.length === 0) return undefined;
  return (value, path, out) => {
    const v = convert(value);
    if (exempt?.(v)) return;
    for (const rule of rules) {
      const message = rule(v);
      if (message !== undefined) out.push({ path, message });
    }
  };
}

function enumRules(rules: Raw, type: protobuf.Enum): Rule<number>[] {
  const out: Rule<number>[] = [];
  const name = type.fullName.replace(/^\./, '');
  const show = (n: number): string => type.valuesById[n] ?? String(n);
  // Enum rule values are numbers, but accept a value's name too.
  const read = (raw: unknown): number | undefined => (typeof raw === 'string' ? type.values[raw] : typeof raw === 'number' ? raw : undefined);
  const equal = read(rules['const']);
  if (equal !== undefined) out.push((v) => (v === equal ? undefined : `must be ${show(equal)}, got ${show(v)}`));
  // proto3 enums are open: a number the enum does not define survives decoding and reaches here.
  if (rules['defined_only'] === true) {
    out.push((v) => (type.valuesById[v] !== undefined ? undefined : `${v} is not a defined value of ${name}`));
  }
  const allowed = list(rules, 'in')
    .map(read)
    .filter((v): v is number => v !== undefined);
  if (allowed.length > 0) {
    const shown = allowed.map(show).join(', ');
    out.push((v) => (allowed.includes(v) ? undefined : `must be one of ${shown}, got ${show(v)}`));
  }
  const banned = list(rules, 'not_in')
    .map(read)
    .filter((v): v is number => v !== undefined);
  if (banned.length > 0) out.push((v) => (banned.includes(v) ? `must not be ${show(v)}` : undefined));
  return out;
}

/**
 * Any's `in` and `not_in` constrain its type URL, so they are reported at `["@type"]`. The URL is
 * read by field number, as for every well-known type whose field names protobufjs may camelCase.
 */
function anyCheck(rules: Raw, typeUrlField: string): ValueCheck | undefined {
  const strings = (name: string): string[] => list(rules, name).filter((v): v is string => typeof v === 'string');
  const allowed = strings('in');
  const banned = strings('not_in');
  if (allowed.length === 0 && banned.length === 0) return undefined;
  const shown = allowed.map(quote).join(', ');
  return (any, path, out) => {
    const url = text(record(any), typeUrlField) ?? '';
    if (allowed.length > 0 && !allowed.includes(url)) {
      out.push({ path: keyPath(path, '@type'), message: `must be one of ${shown}, got ${quote(url)}` });
    }
    if (banned.includes(url)) out.push({ path: keyPath(path, '@type'), message: `must not be ${quote(url)}` });
  };
}

function nanosOf(message: unknown): bigint {
  return toNanos(message) ?? 0n;
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  return new Uint8Array();
}
