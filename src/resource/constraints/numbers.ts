/**
 * Numeric values as the constraint rules see them: 32-bit integers and floating point as numbers,
 * 64-bit integers as bigints (protobufjs decodes them as Long objects).
 */
import type { Num } from './ranges.js';

/** PGV's numeric rule messages, named after the scalar type they apply to. */
export const NUMBER_KINDS: ReadonlySet<string> = new Set([
  'float',
  'double',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
]);

const UNSIGNED_64 = new Set(['uint64', 'fixed64']);

interface LongBits {
  low: number;
  high: number;
  unsigned?: boolean;
}

function isLongBits(value: unknown): value is LongBits {
  if (typeof value !== 'object' || value === null) return false;
  const { low, high } = value as Partial<LongBits>;
  return typeof low === 'number' && typeof high === 'number';
}

/** A decoded numeric field value of scalar type `kind` (Long, number or bigint) as a Num. */
export function toNum(value: unknown, kind: string): Num {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (isLongBits(value)) {
    const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
    return UNSIGNED_64.has(kind) || value.unsigned === true ? bits : BigInt.asIntN(64, bits);
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return Number(value ?? 0);
}

/**
 * A rule's bound for a value of type `kind`, or undefined when it is not a number. Bounds on float
 * fields are rounded to float32 as the generated C++ compares them, so that `gte: 0.1` accepts a
 * float field holding 0.1.
 */
export function readNumber(raw: unknown, kind: string): Num | undefined {
  let n: Num | undefined;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'bigint') n = raw;
  else if (typeof raw === 'string' && /^-?\d+$/.test(raw)) n = BigInt(raw);
  else if (isLongBits(raw)) n = toNum(raw, kind);
  if (kind === 'float' && n !== undefined) return Math.fround(Number(n));
  return n;
}

/** A value for a message; float32 values in their shortest form (0.1, not 0.10000000149011612). */
export function showNumber(value: Num, kind: string): string {
  if (kind !== 'float' || typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  for (let digits = 1; digits <= 9; digits++) {
    const short = Number(value.toPrecision(digits));
    if (Math.fround(short) === value) return String(short);
  }
  return String(value);
}
