/**
 * Map keys. A message holds them as canonical strings (decimal for integer keys, "true"/"false"
 * for bool keys); JSON always writes them as strings; encoding sorts them by their typed value.
 */
import protobuf from 'protobufjs';
import { toBigInt } from './int64.js';
import { describe } from './json-values.js';
import { fail, type Parsed } from './result.js';
import { INTEGER_KINDS, integerFrom, parseString } from './scalars.js';

/** A map key, always a JSON string, in its canonical form (the form encoding reads). */
export function parseMapKey(keyType: string, key: string): Parsed<string> {
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
export function compareMapKeys(keyType: string): (a: string, b: string) => number {
  if (keyType === 'string') return (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (keyType === 'bool') return (a, b) => Number(a === 'true') - Number(b === 'true');
  return (a, b) => {
    const x = decimalKey(a);
    const y = decimalKey(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/** A canonical key as the value the writer takes for the key's type. */
export function mapKeyValue(keyType: string, key: string): unknown {
  if (keyType === 'string') return key;
  if (keyType === 'bool') return key === 'true';
  return decimalKey(key);
}

/** protobufjs decodes 64-bit map keys to its 8-character "hash" strings; every other key is already canonical. */
export function decodedMapKey(keyType: string, raw: string): string {
  const kind = INTEGER_KINDS.get(keyType);
  if (!kind?.wide) return raw;
  return String(toBigInt(protobuf.util.longFromHash(raw, kind.unsigned), kind.unsigned));
}

function decimalKey(key: string): bigint {
  if (!/^-?\d+$/.test(key)) throw new TypeError(`integer map key ${describe(key)} is not a decimal integer`);
  return BigInt(key);
}
