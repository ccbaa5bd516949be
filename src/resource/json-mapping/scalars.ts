/**
 * Scalar and enum values in both directions: the JSON forms the mapping accepts (strictly, with
 * a reason for each rejection) and the canonical form printed back.
 */
import type protobuf from 'protobufjs';
import { fullName } from './fields.js';
import { toBigInt, toLong } from './int64.js';
import { describe } from './json-values.js';
import { fail, type Parsed } from './result.js';
import { NULL_VALUE } from './well-known-types.js';

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

export const INTEGER_KINDS = new Map<string, IntegerKind>([
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

// ---------------------------------------------------------------------------------------------
// JSON -> value

export function parseScalar(type: string, json: unknown): Parsed<unknown> {
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

/** An integer written as a JSON number or a string, not yet checked against any type's range. */
export function integerFrom(json: unknown, wide: boolean): Parsed<bigint> {
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
  if (typeof json === 'number')
    value = json; // YAML's .nan and .inf included
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

export function parseString(json: unknown): Parsed<string> {
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
  const wellFormed = (BASE64.test(json) || BASE64_URL.test(json)) && body.length % 4 !== 1 && (!padded || json.length % 4 === 0);
  if (!wellFormed) return fail(`invalid base64 ${describe(json)}`);
  return { value: Buffer.from(body, 'base64') }; // node decodes both alphabets
}

export function parseEnum(type: protobuf.Enum, json: unknown): Parsed<number> {
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

// ---------------------------------------------------------------------------------------------
// Value -> JSON

export function enumJson(type: protobuf.Enum, value: number): string | number | null {
  if (fullName(type) === NULL_VALUE) return null;
  // The first name declared for the number, as protoc has it when names are aliases.
  const name = Object.keys(type.values).find((candidate) => type.values[candidate] === value);
  return name ?? value;
}

export function scalarJson(type: string, value: unknown): unknown {
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
