/**
 * 64-bit integers: protobufjs holds them as Long (or a plain {low, high} object when the `long`
 * package is missing); arithmetic and range checks here are done on bigint.
 */
import protobuf from 'protobufjs';
import { describe } from './json-values.js';

/** protobufjs's Long class (from the `long` package it depends on), when present. */
interface LongFactory {
  fromBits(low: number, high: number, unsigned: boolean): protobuf.Long;
}
const LongClass = protobuf.util.Long as unknown as LongFactory | undefined;

export function isLong(value: unknown): value is protobuf.Long {
  if (typeof value !== 'object' || value === null) return false;
  const { low, high } = value as Partial<protobuf.Long>;
  return typeof low === 'number' && typeof high === 'number';
}

export function toLong(value: bigint, unsigned: boolean): protobuf.Long {
  const low = Number(BigInt.asIntN(32, value));
  const high = Number(BigInt.asIntN(32, value >> 32n));
  return LongClass ? LongClass.fromBits(low, high, unsigned) : { low, high, unsigned };
}

/** The value of a 64-bit field in any form protobufjs accepts for one. */
export function toBigInt(value: unknown, unsigned: boolean): bigint {
  let bits: bigint;
  if (typeof value === 'bigint') bits = value;
  else if (typeof value === 'number' || typeof value === 'string') bits = BigInt(value);
  else if (isLong(value)) bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  else throw new TypeError(`expected a 64-bit integer, got ${describe(value)}`);
  return unsigned ? BigInt.asUintN(64, bits) : BigInt.asIntN(64, bits);
}
