/**
 * Envoy resources between their JSON/YAML form and protobuf, following protobuf's canonical proto3
 * JSON mapping (https://protobuf.dev/programming-guides/json/), the form Envoy's own YAML config
 * uses.
 *
 * An operator's config file becomes the exact bytes sent to Envoy, so neither direction uses
 * protobufjs's fromObject/toObject/encode: fromObject drops unknown fields and coerces bad values,
 * and encode writes map entries in insertion order and explicitly-set default scalars. Parsing is
 * strict and reports every error with its path; encoding is deterministic (fields by number, map
 * and Struct entries by key, Any payloads encoded the same way), so equal content gives equal bytes.
 *
 * Message values use protobufjs's representation: numbers, Long for 64-bit integers, Uint8Array
 * for bytes, enum numbers, and map fields as objects keyed by the key's canonical string (decimal
 * for integer keys, "true"/"false" for bool keys).
 */
import protobuf from 'protobufjs';
import type { ProtoRegistry } from './protos.js';

export interface MappingError {
  /** Where in the document, e.g. `listeners[0].filter_chains[1].filters[0].typed_config.stat_prefix`. */
  path: string;
  message: string;
}

export type MappingResult<T> = { ok: true; value: T } | { ok: false; errors: MappingError[] };

/**
 * JSON value (already parsed from YAML/JSON) -> protobufjs message of `type`. Collects every error
 * (does not stop at the first). basePath prefixes every error path.
 */
export function messageFromJson(
  registry: ProtoRegistry,
  type: protobuf.Type,
  json: unknown,
  basePath = '',
): MappingResult<protobuf.Message> {
  const parser = new JsonParser(registry);
  const message = parser.message(type, json, basePath);
  if (message === undefined || parser.errors.length > 0) return { ok: false, errors: parser.errors };
  return { ok: true, value: message };
}

/**
 * Deterministic encoding: same message content => byte-identical output, whatever order its map
 * entries (Struct fields included) were inserted in, and whether or not default-valued proto3
 * scalars were set explicitly. Any payloads are kept as the bytes they hold; messageFromJson
 * produces them with this function, so they are deterministic at any depth.
 */
export function encodeMessage(type: protobuf.Type, message: protobuf.Message): Uint8Array {
  const writer = protobuf.Writer.create();
  writeFields(writer, type, fieldsOf(message));
  return writer.finish();
}

/** messageFromJson then encodeMessage. */
export function encodeJson(
  registry: ProtoRegistry,
  type: protobuf.Type,
  json: unknown,
  basePath = '',
): MappingResult<Uint8Array> {
  const parsed = messageFromJson(registry, type, json, basePath);
  return parsed.ok ? { ok: true, value: encodeMessage(type, parsed.value) } : parsed;
}

/**
 * Bytes -> canonical proto3 JSON object with the original (snake_case) field names, as Envoy's
 * config_dump prints them: Any expanded with "@type", well-known types in their JSON forms,
 * default-valued scalars omitted, enums by name, 64-bit integers as strings, bytes as base64.
 * Throws when the bytes hold something JSON cannot express (an Any of an unknown type, an
 * out-of-range Duration, ...), or when `type` is written as something other than an object.
 */
export function messageToJson(
  registry: ProtoRegistry,
  type: protobuf.Type,
  bytes: Uint8Array,
): Record<string, unknown> {
  const json = messageToJsonValue(registry, type, bytes);
  if (!isJsonObject(json)) {
    throw new TypeError(`${fullName(type)} is not written as a JSON object; use messageToJsonValue`);
  }
  return json;
}

/** messageToJson for any message type, including those written as strings, arrays, ... (Duration, ListValue). */
export function messageToJsonValue(registry: ProtoRegistry, type: protobuf.Type, bytes: Uint8Array): unknown {
  return new JsonPrinter(registry).message(type, fieldsOf(type.decode(bytes)), '');
}

// ---------------------------------------------------------------------------------------------
// Shared vocabulary

/** A message's fields by name: how protobufjs messages (and plain objects of the same shape) are read. */
type Fields = Record<string, unknown>;
/** Field values by field number, for well-known types whose field names protobufjs may have camelCased. */
type FieldValues = ReadonlyArray<readonly [id: number, value: unknown]>;
type Parsed<T> = { value: T } | { error: string };
/** A map field as reached from a message's fields: MapField extends Field at runtime, though not in the typings. */
type MapField = protobuf.Field & protobuf.MapField;

const fail = (error: string): { error: string } => ({ error });

type WellKnownKind =
  | 'any'
  | 'duration'
  | 'timestamp'
  | 'wrapper'
  | 'struct'
  | 'value'
  | 'list'
  | 'fieldMask'
  | 'empty';

/** Types with a special JSON form; inside an Any they go under "value" rather than beside "@type". */
const WELL_KNOWN = new Map<string, WellKnownKind>([
  ['google.protobuf.Any', 'any'],
  ['google.protobuf.Duration', 'duration'],
  ['google.protobuf.Timestamp', 'timestamp'],
  ['google.protobuf.DoubleValue', 'wrapper'],
  ['google.protobuf.FloatValue', 'wrapper'],
  ['google.protobuf.Int64Value', 'wrapper'],
  ['google.protobuf.UInt64Value', 'wrapper'],
  ['google.protobuf.Int32Value', 'wrapper'],
  ['google.protobuf.UInt32Value', 'wrapper'],
  ['google.protobuf.BoolValue', 'wrapper'],
  ['google.protobuf.StringValue', 'wrapper'],
  ['google.protobuf.BytesValue', 'wrapper'],
  ['google.protobuf.Struct', 'struct'],
  ['google.protobuf.Value', 'value'],
  ['google.protobuf.ListValue', 'list'],
  ['google.protobuf.FieldMask', 'fieldMask'],
  ['google.protobuf.Empty', 'empty'],
]);

const NULL_VALUE = 'google.protobuf.NullValue';

function fullName(object: protobuf.ReflectionObject): string {
  return object.fullName.replace(/^\./, '');
}

function fieldsOf(message: unknown): Fields {
  if (typeof message !== 'object' || message === null) {
    throw new TypeError(`expected a message, got ${describe(message)}`);
  }
  return message as Fields;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Defines rather than assigns, so that a key such as "__proto__" is an ordinary entry. */
function setOwn(target: Fields, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** How a bad value is shown in an error message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return isJsonObject(value) ? 'an object' : `a ${value.constructor?.name ?? 'non-JSON object'}`;
    default:
      return typeof value;
  }
}

// Paths: `a.b[2]["map key"]`. Names that are not identifiers (map keys, "@type", odd unknown
// fields) are bracketed and quoted so that a path can always be read back unambiguously.

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fieldPath(base: string, name: string): string {
  if (!IDENTIFIER.test(name)) return keyPath(base, name);
  return base === '' ? name : `${base}.${name}`;
}

function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

function keyPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}

// ---------------------------------------------------------------------------------------------
// Fields

const byJsonKey = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();
const byNumber = new WeakMap<protobuf.Type, protobuf.Field[]>();

/** The fields of `type` under every name JSON may use for them: the proto name and the JSON name. */
function jsonKeys(type: protobuf.Type): Map<string, protobuf.Field> {
  let keys = byJsonKey.get(type);
  if (!keys) {
    keys = new Map();
    for (const field of type.fieldsArray) {
      keys.set(field.name, field);
      keys.set(jsonName(field), field);
    }
    byJsonKey.set(type, keys);
  }
  return keys;
}

function jsonName(field: protobuf.Field): string {
  const explicit: unknown = field.options?.['json_name'];
  return typeof explicit === 'string' ? explicit : lowerCamel(field.name);
}

/** protoc's rule: drop each underscore and upper-case the character after it. */
function lowerCamel(name: string): string {
  let out = '';
  let upper = false;
  for (const c of name) {
    if (c === '_') {
      upper = true;
    } else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}

/** Fields in number order, the order a deterministic encoding writes them in. */
function fieldsByNumber(type: protobuf.Type): protobuf.Field[] {
  let fields = byNumber.get(type);
  if (!fields) {
    fields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
    byNumber.set(type, fields);
  }
  return fields;
}

function fieldById(type: protobuf.Type, id: number): protobuf.Field {
  const field = type.fieldsById[id];
  if (!field) throw new Error(`${fullName(type)} has no field number ${id}`);
  return field;
}

function messageTypeOf(field: protobuf.Field): protobuf.Type {
  if (!(field.resolvedType instanceof protobuf.Type)) throw new Error(`${field.fullName} is not a message field`);
  return field.resolvedType;
}

/**
 * Whether a singular field is written and printed even when it holds its default: message
 * fields, oneof members, proto3 `optional` fields and proto2 fields. Plain proto3 scalars are not.
 */
function tracksPresence(field: protobuf.Field): boolean {
  return field.resolvedType instanceof protobuf.Type || field.partOf !== null || field.hasPresence;
}

/**
 * Whether a value counts as set: the one rule shared by parsing, encoding and printing, so that
 * a default-valued proto3 scalar is neither written nor printed whether or not it was given.
 */
function isSet(field: protobuf.Field, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (field.map) return Object.keys(value as object).length > 0;
  if (field.repeated) return (value as unknown[]).length > 0;
  return tracksPresence(field) || !isZero(value);
}

function isZero(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
      return Object.is(value, 0); // -0.0 is not the default: proto3 compares the bits
    case 'boolean':
      return !value;
    case 'string':
      return value === '';
    case 'bigint':
      return value === 0n;
    default:
      if (value instanceof Uint8Array || Array.isArray(value)) return value.length === 0;
      return isLong(value) && value.low === 0 && value.high === 0;
  }
}

/** Null stands for "unset" except where it is a value in its own right. */
function acceptsNull(field: protobuf.Field): boolean {
  if (field.map || field.repeated || !field.resolvedType) return false;
  const name = fullName(field.resolvedType);
  return name === 'google.protobuf.Value' || name === NULL_VALUE;
}

/** A message built from values by field number, leaving out what isSet says is unset. */
function build(type: protobuf.Type, values: FieldValues): protobuf.Message {
  const props: Fields = {};
  for (const [id, value] of values) {
    const field = fieldById(type, id);
    if (isSet(field, value)) props[field.name] = value;
  }
  return type.create(props);
}

function fieldValueById(type: protobuf.Type, message: Fields, id: number): unknown {
  return message[fieldById(type, id).name];
}

// ---------------------------------------------------------------------------------------------
// 64-bit integers

/** protobufjs's Long class (from the `long` package it depends on), when present. */
interface LongFactory {
  fromBits(low: number, high: number, unsigned: boolean): protobuf.Long;
}
const LongClass = protobuf.util.Long as unknown as LongFactory | undefined;

function isLong(value: unknown): value is protobuf.Long {
  if (typeof value !== 'object' || value === null) return false;
  const { low, high } = value as Partial<protobuf.Long>;
  return typeof low === 'number' && typeof high === 'number';
}

function toLong(value: bigint, unsigned: boolean): protobuf.Long {
  const low = Number(BigInt.asIntN(32, value));
  const high = Number(BigInt.asIntN(32, value >> 32n));
  return LongClass ? LongClass.fromBits(low, high, unsigned) : { low, high, unsigned };
}

/** The value of a 64-bit field in any form protobufjs accepts for one. */
function toBigInt(value: unknown, unsigned: boolean): bigint {
  let bits: bigint;
  if (typeof value === 'bigint') bits = value;
  else if (typeof value === 'number' || typeof value === 'string') bits = BigInt(value);
  else if (isLong(value)) bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  else throw new TypeError(`expected a 64-bit integer, got ${describe(value)}`);
  return unsigned ? BigInt.asUintN(64, bits) : BigInt.asIntN(64, bits);
}

// ---------------------------------------------------------------------------------------------
// Scalars: JSON -> value

interface IntegerKind {
  min: bigint;
  max: bigint;
  wide: boolean;
  unsigned: boolean;
}
const INT32: IntegerKind = { min: -(2n ** 31n), max: 2n ** 31n - 1n, wide: false, unsigned: false };
const UINT32: IntegerKind = { min: 0n, max: 2n ** 32n - 1n, wide: false, unsigned: true };
const INT64: IntegerKind = { min: -(2n ** 63n), max: 2n ** 63n - 1n, wide: true, unsigned: false };
const UINT64: IntegerKind = { min: 0n, max: 2n ** 64n - 1n, wide: true, unsigned: true };

const INTEGER_KINDS = new Map<string, IntegerKind>([
  ['int32', INT32],
  ['sint32', INT32],
  ['sfixed32', INT32],
  ['uint32', UINT32],
  ['fixed32', UINT32],
  ['int64', INT64],
  ['sint64', INT64],
  ['sfixed64', INT64],
  ['uint64', UINT64],
  ['fixed64', UINT64],
]);

function parseScalar(type: string, json: unknown): Parsed<unknown> {
  switch (type) {
    case 'double':
    case 'float':
      return parseFloating(type, json);
    case 'bool':
      return typeof json === 'boolean' ? { value: json } : fail(`expected true or false, got ${describe(json)}`);
    case 'string':
      return parseString(json);
    case 'bytes':
      return parseBytes(json);
    default:
      return parseInteger(type, json);
  }
}

function parseInteger(type: string, json: unknown): Parsed<number | protobuf.Long> {
  const kind = INTEGER_KINDS.get(type);
  if (!kind) return fail(`unsupported field type ${type}`);
  const parsed = integerFrom(json, kind.wide);
  if ('error' in parsed) return parsed;
  const n = parsed.value;
  if (n < kind.min || n > kind.max) {
    return fail(`${describe(json)} is out of range for ${type} (${kind.min} to ${kind.max})`);
  }
  return { value: kind.wide ? toLong(n, kind.unsigned) : Number(n) };
}

function integerFrom(json: unknown, wide: boolean): Parsed<bigint> {
  if (typeof json === 'bigint') return { value: json };
  if (typeof json === 'number') {
    if (!Number.isInteger(json)) return fail(`expected an integer, got ${describe(json)}`);
    // Beyond 2^53 a JSON number may already have been rounded by whatever parsed it.
    if (wide && !Number.isSafeInteger(json)) {
      return fail(`${json} is not exact as a JSON number; write 64-bit integers as strings`);
    }
    return { value: BigInt(json) };
  }
  const value = typeof json === 'string' ? integerFromText(json) : undefined;
  return value === undefined ? fail(`expected an integer, got ${describe(json)}`) : { value };
}

const JSON_NUMBER = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * An integer written as a JSON number in a string; the mapping allows exponents ("1e3") and zero
 * fractions ("5.0"). Absurdly long results are clamped to 10^40, out of range for every type.
 */
function integerFromText(text: string): bigint | undefined {
  const match = JSON_NUMBER.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  let digits = (whole + fraction).replace(/^0+(?=\d)/, '');
  const shift = Number(exponent) - fraction.length;
  if (shift < 0) {
    const cut = digits.length + shift;
    if (/[^0]/.test(digits.slice(Math.max(cut, 0)))) return undefined; // not an integer
    digits = cut > 0 ? digits.slice(0, cut) : '0';
  } else if (digits !== '0') {
    digits = digits.length + shift > 40 ? `1${'0'.repeat(40)}` : digits + '0'.repeat(shift);
  }
  const value = BigInt(digits);
  return sign === '-' ? -value : value;
}

const SPECIAL_FLOATS = new Map([
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
]);

function parseFloating(type: 'float' | 'double', json: unknown): Parsed<number> {
  let value: number | undefined;
  if (typeof json === 'number') value = json; // YAML's .nan and .inf included
  else if (typeof json === 'bigint') value = Number(json);
  else if (typeof json === 'string' && SPECIAL_FLOATS.has(json)) value = SPECIAL_FLOATS.get(json);
  else if (typeof json === 'string' && JSON_NUMBER.test(json)) value = Number(json);
  if (value === undefined) return fail(`expected a number, got ${describe(json)}`);
  if (typeof json === 'string' && !SPECIAL_FLOATS.has(json) && !Number.isFinite(value)) {
    return fail(`${describe(json)} is out of range for ${type}`);
  }
  if (type === 'double') return { value };
  const single = Math.fround(value);
  if (Number.isFinite(value) && !Number.isFinite(single)) return fail(`${describe(json)} is out of range for float`);
  return { value: single };
}

/** Strings become UTF-8 on the wire, which a lone UTF-16 surrogate cannot be written in. */
const LONE_SURROGATE = /\p{Surrogate}/u;

function parseString(json: unknown): Parsed<string> {
  if (typeof json !== 'string') return fail(`expected a string, got ${describe(json)}`);
  if (LONE_SURROGATE.test(json)) return fail('string is not valid Unicode: it contains a lone surrogate');
  return { value: json };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Standard or URL-safe base64 (not a mix of the two), with or without padding. */
function parseBytes(json: unknown): Parsed<Uint8Array> {
  if (typeof json !== 'string') return fail(`expected base64-encoded bytes, got ${describe(json)}`);
  const body = json.replace(/=+$/, '');
  const padded = body.length !== json.length;
  const wellFormed =
    (BASE64.test(json) || BASE64_URL.test(json)) && body.length % 4 !== 1 && (!padded || json.length % 4 === 0);
  if (!wellFormed) return fail(`invalid base64 ${describe(json)}`);
  return { value: Buffer.from(body, 'base64') }; // node decodes both alphabets
}

function parseEnum(type: protobuf.Enum, json: unknown): Parsed<number> {
  if (json === null && fullName(type) === NULL_VALUE) return { value: 0 };
  if (typeof json === 'string') {
    if (Object.hasOwn(type.values, json)) return { value: type.values[json]! };
    return fail(`${describe(json)} is not a value of ${fullName(type)} (${enumChoices(type)})`);
  }
  // Proto3 enums are open: any int32 is a valid value, named or not.
  if (typeof json === 'number' || typeof json === 'bigint') return parseInteger('int32', json) as Parsed<number>;
  return fail(`expected a value of ${fullName(type)}, got ${describe(json)}`);
}

function enumChoices(type: protobuf.Enum): string {
  const names = Object.keys(type.values);
  const shown = names.slice(0, 12).join(', ');
  return names.length > 12 ? `one of ${shown}, ... (${names.length} values)` : `one of ${shown}`;
}

/** A map key, always a JSON string, in its canonical form (the form encoding reads). */
function parseMapKey(keyType: string, key: string): Parsed<string> {
  if (keyType === 'string') return parseString(key);
  if (keyType === 'bool') {
    if (key === 'true' || key === 'false') return { value: key };
    return fail(`expected "true" or "false" as a bool map key, got ${describe(key)}`);
  }
  const kind = INTEGER_KINDS.get(keyType);
  if (!kind) return fail(`unsupported map key type ${keyType}`);
  const parsed = integerFrom(key, kind.wide);
  if ('error' in parsed) return parsed;
  if (parsed.value < kind.min || parsed.value > kind.max) {
    return fail(`map key ${describe(key)} is out of range for ${keyType}`);
  }
  return { value: String(parsed.value) };
}

/** Sort order of map keys in a deterministic encoding: numeric, false before true, or UTF-8 bytes. */
function compareMapKeys(keyType: string): (a: string, b: string) => number {
  if (keyType === 'string') return (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (keyType === 'bool') return (a, b) => Number(a === 'true') - Number(b === 'true');
  return (a, b) => {
    const x = decimalKey(a);
    const y = decimalKey(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

function decimalKey(key: string): bigint {
  if (!/^-?\d+$/.test(key)) throw new TypeError(`integer map key ${describe(key)} is not a decimal integer`);
  return BigInt(key);
}

// ---------------------------------------------------------------------------------------------
// Well-known types: JSON <-> field values

const MAX_DURATION_SECONDS = 315_576_000_000n;
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n; // 0001-01-01T00:00:00Z
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n; // 9999-12-31T23:59:59Z
const MAX_NANOS = 999_999_999;

const DURATION = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/;

function parseDuration(json: unknown): Parsed<FieldValues> {
  if (typeof json !== 'string') return fail(`expected a duration string such as "1.5s", got ${describe(json)}`);
  const match = DURATION.exec(json);
  if (!match) {
    const expected = 'seconds with up to 9 fractional digits and an "s" suffix, such as "1.5s"';
    return fail(`invalid duration ${describe(json)}: expected ${expected}`);
  }
  const seconds = BigInt(match[2]!);
  if (seconds > MAX_DURATION_SECONDS) {
    return fail(`duration ${describe(json)} is out of range (at most ${MAX_DURATION_SECONDS}s)`);
  }
  const nanos = nanosFrom(match[3]);
  const negative = match[1] === '-';
  const signedNanos = negative && nanos !== 0 ? -nanos : nanos; // not -0, which is not the default
  return { value: [[1, toLong(negative ? -seconds : seconds, false)], [2, signedNanos]] };
}

function formatDuration(seconds: bigint, nanos: number): Parsed<string> {
  const valid =
    seconds >= -MAX_DURATION_SECONDS &&
    seconds <= MAX_DURATION_SECONDS &&
    Math.abs(nanos) <= MAX_NANOS &&
    !(seconds < 0n && nanos > 0) &&
    !(seconds > 0n && nanos < 0);
  if (!valid) return fail(`invalid google.protobuf.Duration (seconds ${seconds}, nanos ${nanos})`);
  const sign = seconds < 0n || nanos < 0 ? '-' : '';
  return { value: `${sign}${seconds < 0n ? -seconds : seconds}${fraction(Math.abs(nanos))}s` };
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function parseTimestamp(json: unknown): Parsed<FieldValues> {
  const example = 'such as "2024-01-31T12:00:00Z"';
  if (typeof json !== 'string') return fail(`expected an RFC 3339 timestamp string ${example}, got ${describe(json)}`);
  const match = TIMESTAMP.exec(json);
  if (!match) return fail(`invalid timestamp ${describe(json)}: expected RFC 3339, ${example}`);
  const local = utcSeconds(match.slice(1, 7).map(Number));
  const offset = utcOffset(match[8], Number(match[9]), Number(match[10]));
  if (local === undefined || offset === undefined) {
    return fail(`invalid timestamp ${describe(json)}: no such date, time or offset`);
  }
  const seconds = BigInt(local - offset);
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) {
    return fail(`timestamp ${describe(json)} is out of range (years 0001 to 9999)`);
  }
  return { value: [[1, toLong(seconds, false)], [2, nanosFrom(match[7])]] };
}

/** Seconds since the epoch of a calendar date and time of day, in UTC; undefined if there is no such date or time. */
function utcSeconds([year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0]: number[]): number | undefined {
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0-99 as 1900-1999
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date.getTime() / 1000 + hour * 3600 + minute * 60 + second;
}

/** Seconds east of UTC; no sign means "Z". */
function utcOffset(sign: string | undefined, hours: number, minutes: number): number | undefined {
  if (sign === undefined) return 0;
  if (hours > 23 || minutes > 59) return undefined;
  return (sign === '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
}

function formatTimestamp(seconds: bigint, nanos: number): Parsed<string> {
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS || nanos < 0 || nanos > MAX_NANOS) {
    return fail(`invalid google.protobuf.Timestamp (seconds ${seconds}, nanos ${nanos})`);
  }
  const iso = new Date(Number(seconds) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return { value: `${iso.slice(0, 19)}${fraction(nanos)}Z` };
}

function nanosFrom(digits: string | undefined): number {
  return Number((digits ?? '').padEnd(9, '0'));
}

/** Canonical fractional seconds: none, or 3, 6 or 9 digits. */
function fraction(nanos: number): string {
  if (nanos === 0) return '';
  const digits = String(nanos).padStart(9, '0');
  if (nanos % 1_000_000 === 0) return `.${digits.slice(0, 3)}`;
  if (nanos % 1_000 === 0) return `.${digits.slice(0, 6)}`;
  return `.${digits}`;
}

const FIELD_MASK_PATH = /^[a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*$/;

function parseFieldMask(json: unknown): Parsed<FieldValues> {
  if (typeof json !== 'string') {
    return fail(`expected a field mask string such as "name,address.portValue", got ${describe(json)}`);
  }
  const paths = json === '' ? [] : json.split(',');
  const bad = paths.find((path) => !FIELD_MASK_PATH.test(path));
  if (bad !== undefined) {
    return fail(`invalid field mask path ${describe(bad)}: expected lowerCamel names joined by "."`);
  }
  return { value: [[1, paths.map(snakeCase)]] };
}

function formatFieldMask(paths: readonly string[]): Parsed<string> {
  const camel = paths.map((path) => path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
  const bad = camel.findIndex((path, i) => !FIELD_MASK_PATH.test(path) || snakeCase(path) !== paths[i]);
  if (bad >= 0) return fail(`field mask path ${describe(paths[bad])} has no lowerCamel JSON form`);
  return { value: camel.join(',') };
}

function snakeCase(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// ---------------------------------------------------------------------------------------------
// JSON -> message

class JsonParser {
  readonly errors: MappingError[] = [];

  constructor(private readonly registry: ProtoRegistry) {}

  message(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    switch (WELL_KNOWN.get(fullName(type))) {
      case 'any':
        return this.any(type, json, path);
      case 'duration':
        return this.built(type, parseDuration(json), path);
      case 'timestamp':
        return this.built(type, parseTimestamp(json), path);
      case 'fieldMask':
        return this.built(type, parseFieldMask(json), path);
      case 'wrapper':
        return this.wrapper(type, json, path);
      case 'struct':
        return this.struct(type, json, path);
      case 'value':
        return this.value(type, json, path);
      case 'list':
        return this.listValue(type, json, path);
      case 'empty':
      case undefined:
        break;
    }
    if (!isJsonObject(json)) return this.fail(path, `expected an object (${fullName(type)}), got ${describe(json)}`);
    return this.fields(type, json, path);
  }

  /** An ordinary message's fields; `skip` is a key that is not a field ("@type" in an Any). */
  private fields(type: protobuf.Type, json: Record<string, unknown>, path: string, skip?: string): protobuf.Message {
    const props: Fields = {};
    const given = new Map<string, string>(); // field name -> the key it was given under
    const oneofs = new Map<string, string>(); // oneof name -> the key that set it
    for (const [key, raw] of Object.entries(json)) {
      if (key === skip || raw === undefined) continue; // undefined: absent, as JSON.stringify has it
      const at = fieldPath(path, key);
      const field = this.lookup(type, key, at);
      if (!field || !this.firstMention(given, field, key, at)) continue;
      if (raw === null && !acceptsNull(field)) continue; // null: the field keeps its default
      if (!this.claimOneof(oneofs, field, key, at)) continue;
      const value = this.fieldValue(field, raw, at);
      if (isSet(field, value)) props[field.name] = value;
    }
    return type.create(props);
  }

  private lookup(type: protobuf.Type, key: string, at: string): protobuf.Field | undefined {
    const field = jsonKeys(type).get(key);
    if (field) return field;
    const hint = lookalike(type, key);
    const suggestion = hint === undefined ? '' : `; did you mean "${hint}"?`;
    return this.fail(at, `unknown field ${JSON.stringify(key)} in ${fullName(type)}${suggestion}`);
  }

  /** A field may be given once, under either of its names. */
  private firstMention(given: Map<string, string>, field: protobuf.Field, key: string, at: string): boolean {
    const earlier = given.get(field.name);
    if (earlier !== undefined) {
      this.fail(at, `field "${field.name}" is given twice, as "${earlier}" and as "${key}"`);
      return false;
    }
    given.set(field.name, key);
    return true;
  }

  private claimOneof(oneofs: Map<string, string>, field: protobuf.Field, key: string, at: string): boolean {
    const oneof = field.partOf;
    if (!oneof) return true;
    const earlier = oneofs.get(oneof.name);
    if (earlier !== undefined) {
      this.fail(at, `"${earlier}" and "${key}" are both set, but they belong to oneof "${oneof.name}": set only one`);
      return false;
    }
    oneofs.set(oneof.name, key);
    return true;
  }

  private fieldValue(field: protobuf.Field, json: unknown, path: string): unknown {
    if (field instanceof protobuf.MapField) return this.map(field, json, path);
    if (field.repeated) return this.list(field, json, path);
    return this.singular(field, json, path);
  }

  /** One value of the field's type: the field itself, a list element or a map value. */
  private singular(field: protobuf.Field, json: unknown, path: string): unknown {
    const target = field.resolvedType;
    if (target instanceof protobuf.Type) return this.message(target, json, path);
    if (target instanceof protobuf.Enum) return this.parsed(parseEnum(target, json), path);
    return this.parsed(parseScalar(field.type, json), path);
  }

  private list(field: protobuf.Field, json: unknown, path: string): unknown[] | undefined {
    if (!Array.isArray(json)) {
      return this.fail(path, `expected an array for repeated field "${field.name}", got ${describe(json)}`);
    }
    const values: unknown[] = [];
    json.forEach((item: unknown, i) => {
      const value = this.singular(field, item, indexPath(path, i));
      if (value !== undefined) values.push(value);
    });
    return values;
  }

  /**
   * Entries are inserted in key order, the order encodeMessage writes them in, so that even
   * protobufjs's own encoder (which follows insertion order) gives the same bytes.
   */
  private map(field: MapField, json: unknown, path: string): Fields | undefined {
    if (!isJsonObject(json)) {
      return this.fail(path, `expected an object for map field "${field.name}", got ${describe(json)}`);
    }
    const entries = new Map<string, unknown>();
    for (const [rawKey, raw] of Object.entries(json)) {
      const at = keyPath(path, rawKey);
      const key = this.parsed(parseMapKey(field.keyType, rawKey), at);
      if (key === undefined) continue;
      if (entries.has(key)) {
        this.fail(at, `map key ${describe(rawKey)} repeats key ${describe(key)}`);
        continue;
      }
      const value = this.singular(field, raw, at);
      if (value !== undefined) entries.set(key, value);
    }
    const map: Fields = {};
    for (const key of [...entries.keys()].sort(compareMapKeys(field.keyType))) setOwn(map, key, entries.get(key));
    return map;
  }

  private any(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    if (!isJsonObject(json)) {
      return this.fail(path, `expected an object with "@type" (google.protobuf.Any), got ${describe(json)}`);
    }
    if (Object.keys(json).length === 0) return type.create(); // the empty Any
    const typeUrl = json['@type'];
    const at = keyPath(path, '@type');
    if (typeUrl === undefined) return this.fail(at, 'missing "@type": an Any needs the type URL of the message it holds');
    if (typeof typeUrl !== 'string') return this.fail(at, `expected a type URL string, got ${describe(typeUrl)}`);
    const inner = this.registry.typeFromUrl(typeUrl);
    if (!inner) {
      const expected = '"type.googleapis.com/" and the full name of a known message type';
      return this.fail(at, `unknown type URL ${JSON.stringify(typeUrl)}: expected ${expected}`);
    }
    const payload = WELL_KNOWN.has(fullName(inner))
      ? this.anyValue(inner, json, path)
      : this.fields(inner, json, path, '@type');
    return payload && build(type, [[1, typeUrl], [2, encodeMessage(inner, payload)]]);
  }

  /** A well-known type inside an Any: {"@type": ..., "value": <its JSON form>}. */
  private anyValue(inner: protobuf.Type, json: Record<string, unknown>, path: string): protobuf.Message | undefined {
    for (const key of Object.keys(json)) {
      if (key !== '@type' && key !== 'value') {
        const message = `unknown field ${JSON.stringify(key)}: an Any holding ${fullName(inner)} has only "@type" and "value"`;
        this.fail(fieldPath(path, key), message);
      }
    }
    const at = fieldPath(path, 'value');
    if (!Object.hasOwn(json, 'value')) {
      return this.fail(at, `missing "value": an Any holding ${fullName(inner)} puts its JSON form there`);
    }
    return this.message(inner, json['value'], at);
  }

  private wrapper(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    const value = this.singular(fieldById(type, 1), json, path);
    return value === undefined ? undefined : build(type, [[1, value]]);
  }

  private struct(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    if (!isJsonObject(json)) return this.fail(path, `expected an object (google.protobuf.Struct), got ${describe(json)}`);
    const field = fieldById(type, 1);
    const fields = field instanceof protobuf.MapField ? this.map(field, json, path) : undefined;
    return fields && build(type, [[1, fields]]);
  }

  /** google.protobuf.Value: whichever JSON value it is, kept as that kind. */
  private value(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    const kind = (id: number, value: unknown): protobuf.Message | undefined =>
      value === undefined ? undefined : build(type, [[id, value]]);
    if (json === null) return kind(1, 0);
    if (Array.isArray(json)) return kind(6, this.message(messageTypeOf(fieldById(type, 6)), json, path));
    if (isJsonObject(json)) return kind(5, this.message(messageTypeOf(fieldById(type, 5)), json, path));
    switch (typeof json) {
      case 'boolean':
        return kind(4, json);
      case 'string':
        return kind(3, this.parsed(parseString(json), path));
      case 'number':
      case 'bigint': {
        const number = Number(json);
        const exact = Number.isFinite(number) && (typeof json === 'number' || BigInt(number) === json);
        return exact ? kind(2, number) : this.fail(path, `a JSON value cannot hold ${describe(json)}`);
      }
      default:
        return this.fail(path, `expected a JSON value, got ${describe(json)}`);
    }
  }

  private listValue(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    if (!Array.isArray(json)) return this.fail(path, `expected an array (google.protobuf.ListValue), got ${describe(json)}`);
    const values = this.list(fieldById(type, 1), json, path);
    return values && build(type, [[1, values]]);
  }

  private built(type: protobuf.Type, values: Parsed<FieldValues>, path: string): protobuf.Message | undefined {
    const parsed = this.parsed(values, path);
    return parsed && build(type, parsed);
  }

  private parsed<T>(parsed: Parsed<T>, path: string): T | undefined {
    return 'error' in parsed ? this.fail(path, parsed.error) : parsed.value;
  }

  private fail(path: string, message: string): undefined {
    this.errors.push({ path, message });
    return undefined;
  }
}

/** A field whose name differs from `key` only in case, underscores or dashes (`statPrefx` is no match). */
function lookalike(type: protobuf.Type, key: string): string | undefined {
  const loose = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');
  const wanted = loose(key);
  return type.fieldsArray.find((field) => loose(field.name) === wanted)?.name;
}

// ---------------------------------------------------------------------------------------------
// Message -> bytes

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

/** Wire types of the scalar types; all but string and bytes may be packed. */
const SCALAR_WIRE_TYPES = new Map<string, number>([
  ['double', FIXED64],
  ['float', FIXED32],
  ['int32', VARINT],
  ['uint32', VARINT],
  ['sint32', VARINT],
  ['fixed32', FIXED32],
  ['sfixed32', FIXED32],
  ['int64', VARINT],
  ['uint64', VARINT],
  ['sint64', VARINT],
  ['fixed64', FIXED64],
  ['sfixed64', FIXED64],
  ['bool', VARINT],
  ['string', LENGTH_DELIMITED],
  ['bytes', LENGTH_DELIMITED],
]);

function writeFields(writer: protobuf.Writer, type: protobuf.Type, message: Fields): void {
  for (const field of fieldsByNumber(type)) {
    // Own properties only: protobufjs keeps defaults on the prototype.
    if (!Object.hasOwn(message, field.name)) continue;
    const value = message[field.name];
    if (!isSet(field, value)) continue;
    if (field instanceof protobuf.MapField) writeMap(writer, field, fieldsOf(value));
    else if (field.repeated) writeRepeated(writer, field, value as unknown[]);
    else writeValue(writer, field.id, field, value);
  }
}

/** Entries in key order, each with both key and value written, as protoc's deterministic mode does. */
function writeMap(writer: protobuf.Writer, field: MapField, entries: Fields): void {
  for (const key of Object.keys(entries).sort(compareMapKeys(field.keyType))) {
    writeTag(writer, field.id, LENGTH_DELIMITED);
    writer.fork();
    writeTag(writer, 1, wireType(field.keyType));
    writeScalar(writer, field.keyType, mapKeyValue(field.keyType, key));
    writeValue(writer, 2, field, entries[key]);
    writer.ldelim();
  }
}

function mapKeyValue(keyType: string, key: string): unknown {
  if (keyType === 'string') return key;
  if (keyType === 'bool') return key === 'true';
  return decimalKey(key);
}

function writeRepeated(writer: protobuf.Writer, field: protobuf.Field, values: readonly unknown[]): void {
  const scalar = scalarTypeOf(field);
  if (scalar !== undefined && scalar !== 'string' && scalar !== 'bytes' && field.packed) {
    writeTag(writer, field.id, LENGTH_DELIMITED);
    writer.fork();
    for (const value of values) writeScalar(writer, scalar, value);
    writer.ldelim();
    return;
  }
  for (const value of values) writeValue(writer, field.id, field, value);
}

function writeValue(writer: protobuf.Writer, id: number, field: protobuf.Field, value: unknown): void {
  const target = field.resolvedType;
  if (target instanceof protobuf.Type) {
    const message = fieldsOf(value ?? {}); // a map entry may hold a message without its value
    if (field.delimited) {
      writeTag(writer, id, START_GROUP);
      writeFields(writer, target, message);
      writeTag(writer, id, END_GROUP);
    } else {
      writeTag(writer, id, LENGTH_DELIMITED);
      writer.fork();
      writeFields(writer, target, message);
      writer.ldelim();
    }
    return;
  }
  const scalar = scalarTypeOf(field) ?? field.type;
  writeTag(writer, id, wireType(scalar));
  writeScalar(writer, scalar, value);
}

/** The scalar type a field's values are written as (enums as int32), or undefined for messages. */
function scalarTypeOf(field: protobuf.Field): string | undefined {
  if (field.resolvedType instanceof protobuf.Enum) return 'int32';
  return field.resolvedType instanceof protobuf.Type ? undefined : field.type;
}

function wireType(scalar: string): number {
  const wire = SCALAR_WIRE_TYPES.get(scalar);
  if (wire === undefined) throw new TypeError(`unsupported field type ${scalar}`);
  return wire;
}

function writeTag(writer: protobuf.Writer, id: number, wire: number): void {
  writer.uint32(((id << 3) | wire) >>> 0);
}

function writeScalar(writer: protobuf.Writer, type: string, value: unknown): void {
  switch (type) {
    case 'double':
      writer.double(value as number);
      break;
    case 'float':
      writer.float(value as number);
      break;
    case 'int32':
      writer.int32(Number(value));
      break;
    case 'uint32':
      writer.uint32(Number(value));
      break;
    case 'sint32':
      writer.sint32(Number(value));
      break;
    case 'fixed32':
      writer.fixed32(Number(value));
      break;
    case 'sfixed32':
      writer.sfixed32(Number(value));
      break;
    case 'int64':
      writer.int64(toLong(toBigInt(value, false), false));
      break;
    case 'uint64':
      writer.uint64(toLong(toBigInt(value, true), true));
      break;
    case 'sint64':
      writer.sint64(toLong(toBigInt(value, false), false));
      break;
    case 'fixed64':
      writer.fixed64(toLong(toBigInt(value, true), true));
      break;
    case 'sfixed64':
      writer.sfixed64(toLong(toBigInt(value, false), false));
      break;
    case 'bool':
      writer.bool(value as boolean);
      break;
    case 'string':
      writer.string(value as string);
      break;
    case 'bytes':
      writer.bytes(value as Uint8Array);
      break;
    default:
      throw new TypeError(`unsupported field type ${type}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Message -> JSON

class JsonPrinter {
  constructor(private readonly registry: ProtoRegistry) {}

  message(type: protobuf.Type, message: Fields, path: string): unknown {
    const byId = (id: number): unknown => fieldValueById(type, message, id);
    switch (WELL_KNOWN.get(fullName(type))) {
      case 'any':
        return this.any(type, message, path);
      case 'duration':
        return checked(formatDuration(toBigInt(byId(1), false), Number(byId(2))), path);
      case 'timestamp':
        return checked(formatTimestamp(toBigInt(byId(1), false), Number(byId(2))), path);
      case 'fieldMask':
        return checked(formatFieldMask(byId(1) as string[]), path);
      case 'wrapper':
        return this.singular(fieldById(type, 1), byId(1), path);
      case 'struct':
      case 'list':
        return this.fieldValue(fieldById(type, 1), byId(1), path);
      case 'value':
        return this.value(type, message, path);
      case 'empty':
      case undefined:
        return this.fields(type, message, path);
    }
  }

  private fields(type: protobuf.Type, message: Fields, path: string): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    for (const field of type.fieldsArray) {
      // Own properties only: protobufjs keeps defaults on the prototype.
      if (!Object.hasOwn(message, field.name)) continue;
      const value = message[field.name];
      if (isSet(field, value)) json[field.name] = this.fieldValue(field, value, fieldPath(path, field.name));
    }
    return json;
  }

  private fieldValue(field: protobuf.Field, value: unknown, path: string): unknown {
    if (field instanceof protobuf.MapField) return this.map(field, fieldsOf(value), path);
    if (field.repeated) return (value as unknown[]).map((item, i) => this.singular(field, item, indexPath(path, i)));
    return this.singular(field, value, path);
  }

  private singular(field: protobuf.Field, value: unknown, path: string): unknown {
    const target = field.resolvedType;
    if (target instanceof protobuf.Type) return this.message(target, fieldsOf(value ?? target.create()), path);
    if (target instanceof protobuf.Enum) return enumJson(target, Number(value));
    return scalarJson(field.type, value);
  }

  private map(field: MapField, entries: Fields, path: string): Record<string, unknown> {
    const keys = new Map(Object.keys(entries).map((raw) => [decodedMapKey(field.keyType, raw), raw]));
    const json: Record<string, unknown> = {};
    for (const key of [...keys.keys()].sort(compareMapKeys(field.keyType))) {
      setOwn(json, key, this.singular(field, entries[keys.get(key)!], keyPath(path, key)));
    }
    return json;
  }

  private any(type: protobuf.Type, message: Fields, path: string): Record<string, unknown> {
    const typeUrl = String(fieldValueById(type, message, 1) ?? '');
    const payload = (fieldValueById(type, message, 2) ?? new Uint8Array()) as Uint8Array;
    if (typeUrl === '' && payload.length === 0) return {};
    const inner = this.registry.typeFromUrl(typeUrl);
    if (!inner) return unprintable(path, `an Any holds unknown type ${JSON.stringify(typeUrl)}`);
    const decoded = fieldsOf(inner.decode(payload));
    if (WELL_KNOWN.has(fullName(inner))) {
      return { '@type': typeUrl, value: this.message(inner, decoded, fieldPath(path, 'value')) };
    }
    return { '@type': typeUrl, ...this.fields(inner, decoded, path) };
  }

  private value(type: protobuf.Type, message: Fields, path: string): unknown {
    const kind = type.fieldsArray.find((field) => Object.hasOwn(message, field.name) && message[field.name] != null);
    if (!kind) return unprintable(path, 'a google.protobuf.Value has no kind set');
    const value = message[kind.name];
    if (kind.id === 2 && !Number.isFinite(value)) return unprintable(path, `a JSON value cannot hold ${describe(value)}`);
    return this.singular(kind, value, path);
  }
}

function checked<T>(parsed: Parsed<T>, path: string): T {
  return 'error' in parsed ? unprintable(path, parsed.error) : parsed.value;
}

function unprintable(path: string, message: string): never {
  throw new Error(`cannot write ${path === '' ? 'the message' : path} as JSON: ${message}`);
}

/** protobufjs decodes 64-bit map keys to its 8-character "hash" strings; every other key is already canonical. */
function decodedMapKey(keyType: string, raw: string): string {
  const kind = INTEGER_KINDS.get(keyType);
  if (!kind?.wide) return raw;
  return String(toBigInt(protobuf.util.longFromHash(raw, kind.unsigned), kind.unsigned));
}

function enumJson(type: protobuf.Enum, value: number): string | number | null {
  if (fullName(type) === NULL_VALUE) return null;
  // The first name declared for the number, as protoc has it when names are aliases.
  const name = Object.keys(type.values).find((candidate) => type.values[candidate] === value);
  return name ?? value;
}

function scalarJson(type: string, value: unknown): unknown {
  switch (type) {
    case 'double':
      return floatJson(Number(value), false);
    case 'float':
      return floatJson(Number(value), true);
    case 'bytes':
      // An unset bytes field reads as protobufjs's shared empty array, not a Uint8Array.
      return Buffer.from(value as Uint8Array | number[]).toString('base64');
    default: {
      const kind = INTEGER_KINDS.get(type);
      return kind?.wide ? toBigInt(value, kind.unsigned).toString() : value;
    }
  }
}

function floatJson(value: number, single: boolean): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return single && value !== 0 ? shortestFloat32(value) : value;
}

/** The shortest decimal that reads back as the same 32-bit float: 0.1, not 0.10000000149011612. */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}
