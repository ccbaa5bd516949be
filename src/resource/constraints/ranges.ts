/**
 * The comparison rules PGV shares between numbers, durations and timestamps: const, lt, lte, gt,
 * gte, in and not_in. Values are numbers or bigints (64-bit integers, and durations and timestamps
 * as nanoseconds); JavaScript compares the two kinds exactly, so they may be mixed.
 */
import { list, type Raw } from './options.js';

export type Num = number | bigint;

/** Equality across the two kinds, as `==` has it: 1 and 1n are equal, 1.5 and NaN equal no bigint. */
export function sameNum(a: Num, b: Num): boolean {
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && a === BigInt(b);
  if (typeof a === 'number' && typeof b === 'bigint') return Number.isInteger(a) && BigInt(a) === b;
  return a === b;
}

/** One rule on one value: what is wrong with the value, or undefined when it complies. */
export type Rule<T> = (value: T) => string | undefined;

interface Bound {
  value: Num;
  inclusive: boolean;
}

/**
 * Rules from a numeric rule message. `read` turns one raw rule value into a Num (undefined when
 * it cannot); `show` writes a value for a message.
 */
export function rangeRules(rules: Raw, read: (raw: unknown) => Num | undefined, show: (value: Num) => string): Rule<Num>[] {
  const out: Rule<Num>[] = [];
  const equal = read(rules['const']);
  if (equal !== undefined) {
    out.push((v) => (sameNum(v, equal) ? undefined : `value must equal ${show(equal)}, got ${show(v)}`));
  }
  const lower = bound(read, rules['gt'], rules['gte']);
  const upper = bound(read, rules['lt'], rules['lte']);
  const range = rangeRule(lower, upper, show);
  if (range) out.push(range);
  const allowed = members(rules, 'in', read);
  if (allowed.length > 0) {
    out.push((v) => (allowed.some((a) => sameNum(a, v)) ? undefined : `value must be one of ${allowed.map(show).join(', ')}, got ${show(v)}`));
  }
  const banned = members(rules, 'not_in', read);
  if (banned.length > 0) {
    const which = banned.length === 1 ? show(banned[0]!) : `one of ${banned.map(show).join(', ')}`;
    out.push((v) => (banned.some((b) => sameNum(b, v)) ? `value must not be ${which}` : undefined));
  }
  return out;
}

/** The strict bound when given (gt, lt), else the inclusive one (gte, lte); PGV allows only one. */
function bound(read: (raw: unknown) => Num | undefined, strict: unknown, inclusive: unknown): Bound | undefined {
  const s = read(strict);
  if (s !== undefined) return { value: s, inclusive: false };
  const i = read(inclusive);
  return i === undefined ? undefined : { value: i, inclusive: true };
}

function members(rules: Raw, name: string, read: (raw: unknown) => Num | undefined): Num[] {
  return list(rules, name)
    .map(read)
    .filter((v): v is Num => v !== undefined);
}

/**
 * One rule for both bounds, so that a value is told the whole range it must be in. As in PGV, a
 * lower bound above the upper one means the value must lie outside the gap between them:
 * `{gt: 10, lt: 5}` accepts 3 and 12 but not 7.
 */
function rangeRule(lower: Bound | undefined, upper: Bound | undefined, show: (v: Num) => string): Rule<Num> | undefined {
  if (!lower && !upper) return undefined;
  const above = (v: Num): boolean => !lower || (lower.inclusive ? v >= lower.value : v > lower.value);
  const below = (v: Num): boolean => !upper || (upper.inclusive ? v <= upper.value : v < upper.value);
  const aboveText = lower && `greater than ${lower.inclusive ? 'or equal to ' : ''}${show(lower.value)}`;
  const belowText = upper && `less than ${upper.inclusive ? 'or equal to ' : ''}${show(upper.value)}`;
  if (lower && upper && upper.value <= lower.value) {
    return (v) => (above(v) || below(v) ? undefined : `value must be ${belowText} or ${aboveText}, got ${show(v)}`);
  }
  const wanted = [aboveText, belowText].filter(Boolean).join(' and ');
  return (v) => (above(v) && below(v) ? undefined : `value must be ${wanted}, got ${show(v)}`);
}
