/**
 * The well-known types written as JSON strings: Duration ("1.5s"), Timestamp (RFC 3339) and
 * FieldMask ("name,address.portValue"), in both directions. Parsing gives field values by number
 * for `build`; formatting takes the decoded fields.
 */
import type { FieldValues } from './fields.js';
import { toLong } from './int64.js';
import { describe } from './json-values.js';
import { fail, type Parsed } from './result.js';

const MAX_DURATION_SECONDS = 315_576_000_000n;
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n; // 0001-01-01T00:00:00Z
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n; // 9999-12-31T23:59:59Z
const MAX_NANOS = 999_999_999;

const DURATION = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/;

export function parseDuration(json: unknown): Parsed<FieldValues> {
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
  return {
    value: [
      [1, toLong(negative ? -seconds : seconds, false)],
      [2, signedNanos],
    ],
  };
}

export function formatDuration(seconds: bigint, nanos: number): Parsed<string> {
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

export function parseTimestamp(json: unknown): Parsed<FieldValues> {
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
  return {
    value: [
      [1, toLong(seconds, false)],
      [2, nanosFrom(match[7])],
    ],
  };
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

export function formatTimestamp(seconds: bigint, nanos: number): Parsed<string> {
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

export function parseFieldMask(json: unknown): Parsed<FieldValues> {
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

export function formatFieldMask(paths: readonly string[]): Parsed<string> {
  const camel = paths.map((path) => path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
  const bad = camel.findIndex((path, i) => !FIELD_MASK_PATH.test(path) || snakeCase(path) !== paths[i]);
  if (bad >= 0) return fail(`field mask path ${describe(paths[bad])} has no lowerCamel JSON form`);
  return { value: camel.join(',') };
}

function snakeCase(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
