/**
 * google.protobuf.Duration and Timestamp rules. Both are compared as whole nanoseconds (bigint),
 * which orders them exactly whatever the split between seconds and nanos.
 */
import { flag, record, type Raw } from './options.js';
import { rangeRules, type Num, type Rule } from './ranges.js';
import { toNum } from './numbers.js';

const NANOS_PER_SECOND = 1_000_000_000n;

/** A decoded Duration or Timestamp message, or a rule's `{seconds, nanos}`, as nanoseconds. */
export function toNanos(message: unknown): bigint | undefined {
  const fields = record(message);
  if (!fields) return undefined;
  const seconds = toNum(fields['seconds'] ?? 0, 'int64');
  const nanos = toNum(fields['nanos'] ?? 0, 'int32');
  if (!isInteger(seconds) || !isInteger(nanos)) return undefined;
  return BigInt(seconds) * NANOS_PER_SECOND + BigInt(nanos);
}

function isInteger(n: Num): boolean {
  return typeof n === 'bigint' || Number.isInteger(n);
}

/** The proto3 JSON form: "5s", "0.250s", "-1.000000001s". */
export function showDuration(nanos: Num): string {
  const total = BigInt(nanos);
  const sign = total < 0n ? '-' : '';
  const abs = total < 0n ? -total : total;
  const seconds = abs / NANOS_PER_SECOND;
  const fraction = abs % NANOS_PER_SECOND;
  if (fraction === 0n) return `${sign}${seconds}s`;
  let digits = fraction.toString().padStart(9, '0');
  while (digits.endsWith('000')) digits = digits.slice(0, -3);
  return `${sign}${seconds}.${digits}s`;
}

/** RFC 3339, as proto3 JSON writes timestamps (to the millisecond; enough to tell values apart in a message). */
export function showTimestamp(nanos: Num): string {
  const millis = Number(BigInt(nanos) / 1_000_000n);
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? `${nanos}ns since the epoch` : date.toISOString();
}

export function durationRules(rules: Raw): Rule<bigint>[] {
  return rangeRules(rules, toNanos, showDuration);
}

/** The range rules plus lt_now, gt_now and within, which compare with the time of the check. */
export function timestampRules(rules: Raw): Rule<bigint>[] {
  const out: Rule<bigint>[] = rangeRules(rules, toNanos, showTimestamp);
  const now = (): bigint => BigInt(Date.now()) * 1_000_000n;
  if (flag(rules, 'lt_now')) {
    out.push((v) => (v < now() ? undefined : `value must be in the past, got ${showTimestamp(v)}`));
  }
  if (flag(rules, 'gt_now')) {
    out.push((v) => (v > now() ? undefined : `value must be in the future, got ${showTimestamp(v)}`));
  }
  const within = toNanos(rules['within']);
  if (within !== undefined) {
    out.push((v) => {
      const gap = v - now();
      return (gap < 0n ? -gap : gap) <= within ? undefined : `value must be within ${showDuration(within)} of now, got ${showTimestamp(v)}`;
    });
  }
  return out;
}
