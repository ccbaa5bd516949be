/**
 * String and bytes rules. String lengths are in Unicode code points (PGV's "runes") and byte
 * sizes in UTF-8, as the C++ that Envoy runs measures them.
 */
import { count, flag, list, text, type Raw } from './options.js';
import type { Rule } from './ranges.js';
import * as formats from './formats.js';

export function stringRules(rules: Raw): Rule<string>[] {
  const out: Rule<string>[] = [];
  const equal = text(rules, 'const');
  if (equal !== undefined) out.push((v) => (v === equal ? undefined : `must equal ${quote(equal)}, got ${quote(v)}`));
  const strings = (name: string): string[] => list(rules, name).filter((v): v is string => typeof v === 'string');
  out.push(...membership(strings('in'), strings('not_in'), (a, b) => a === b, quote));
  out.push(...lengthRules<string>(rules, ['len', 'min_len', 'max_len'], codePoints, 'character'));
  const utf8Length = (v: string): number => Buffer.byteLength(v);
  out.push(...lengthRules<string>(rules, ['len_bytes', 'min_bytes', 'max_bytes'], utf8Length, 'byte'));
  out.push(...affixRules(rules));
  const pattern = text(rules, 'pattern');
  const regex = pattern === undefined ? undefined : fullMatch(pattern);
  if (regex) {
    const wanted = `must match the regular expression ${quote(pattern!)}`;
    out.push((v) => (regex.test(v) ? undefined : `${wanted}, got ${quote(v)}`));
  }
  const format = formatRule(rules);
  if (format) out.push(format);
  return out;
}

export function bytesRules(rules: Raw): Rule<Uint8Array>[] {
  const out: Rule<Uint8Array>[] = [];
  const bytes = (name: string): Buffer[] =>
    list(rules, name)
      .map(optionBytes)
      .filter((b) => b !== undefined);
  const equal = optionBytes(rules['const']);
  if (equal) out.push((v) => (equal.equals(v) ? undefined : `must equal ${showBytes(equal)}, got ${showBytes(v)}`));
  out.push(...membership<Uint8Array>(bytes('in'), bytes('not_in'), (a, b) => view(a).equals(b), showBytes));
  out.push(...lengthRules<Uint8Array>(rules, ['len', 'min_len', 'max_len'], (v) => v.length, 'byte'));
  const prefix = optionBytes(rules['prefix']);
  if (prefix) {
    const starts = (v: Uint8Array): boolean => view(v).subarray(0, prefix.length).equals(prefix);
    out.push((v) => (starts(v) ? undefined : `must start with ${showBytes(prefix)}`));
  }
  const suffix = optionBytes(rules['suffix']);
  if (suffix) {
    const ends = (v: Uint8Array): boolean =>
      v.length >= suffix.length &&
      view(v)
        .subarray(v.length - suffix.length)
        .equals(suffix);
    out.push((v) => (ends(v) ? undefined : `must end with ${showBytes(suffix)}`));
  }
  const contains = optionBytes(rules['contains']);
  if (contains) out.push((v) => (view(v).includes(contains) ? undefined : `must contain ${showBytes(contains)}`));
  // An IP address in bytes is its packed form: 4 bytes for IPv4, 16 for IPv6.
  const ipSizes = flag(rules, 'ip') ? [4, 16] : flag(rules, 'ipv4') ? [4] : flag(rules, 'ipv6') ? [16] : [];
  if (ipSizes.length > 0) {
    const what = ipSizes.length === 2 ? 'an IP address (4 or 16 bytes)' : `an IPv${ipSizes[0] === 4 ? 4 : 6} address`;
    out.push((v) => (ipSizes.includes(v.length) ? undefined : `must be ${what}, got ${v.length} bytes`));
  }
  return out;
}

/** `in` and `not_in`. */
function membership<T>(allowed: T[], banned: T[], same: (a: T, b: T) => boolean, show: (v: T) => string): Rule<T>[] {
  const out: Rule<T>[] = [];
  if (allowed.length > 0) {
    const shown = allowed.map(show).join(', ');
    out.push((v) => (allowed.some((a) => same(v, a)) ? undefined : `must be one of ${shown}, got ${show(v)}`));
  }
  if (banned.length > 0) out.push((v) => (banned.some((b) => same(v, b)) ? `must not be ${show(v)}` : undefined));
  return out;
}

/** The exact, minimum and maximum length rules with these names, measured by `size`. */
function lengthRules<T>(rules: Raw, [exact, min, max]: [string, string, string], size: (v: T) => number, unit: 'character' | 'byte'): Rule<T>[] {
  const out: Rule<T>[] = [];
  const units = (n: number): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const len = count(rules, exact);
  if (len !== undefined) {
    out.push((v) => (size(v) === len ? undefined : `must be exactly ${units(len)} long, got ${size(v)}`));
  }
  const least = count(rules, min);
  if (least !== undefined) out.push((v) => (size(v) >= least ? undefined : `must be at least ${units(least)} long`));
  const most = count(rules, max);
  if (most !== undefined) {
    out.push((v) => (size(v) <= most ? undefined : `must be at most ${units(most)} long, got ${size(v)}`));
  }
  return out;
}

function affixRules(rules: Raw): Rule<string>[] {
  const affixes: Array<[string, (v: string, affix: string) => boolean, string]> = [
    ['prefix', (v, affix) => v.startsWith(affix), 'must start with'],
    ['suffix', (v, affix) => v.endsWith(affix), 'must end with'],
    ['contains', (v, affix) => v.includes(affix), 'must contain'],
    ['not_contains', (v, affix) => !v.includes(affix), 'must not contain'],
  ];
  const out: Rule<string>[] = [];
  for (const [name, holds, wanted] of affixes) {
    const affix = text(rules, name);
    if (affix) out.push((v) => (holds(v, affix) ? undefined : `${wanted} ${quote(affix)}, got ${quote(v)}`));
  }
  return out;
}

/** PGV's `well_known` oneof: at most one format per field. */
const FORMATS: ReadonlyArray<[string, (v: string) => boolean, string]> = [
  ['email', formats.isEmail, 'email address'],
  ['hostname', formats.isHostname, 'hostname'],
  ['ip', formats.isIp, 'IP address'],
  ['ipv4', formats.isIpv4, 'IPv4 address'],
  ['ipv6', formats.isIpv6, 'IPv6 address'],
  ['uri', formats.isUri, 'absolute URI'],
  ['uri_ref', formats.isUriRef, 'URI reference'],
  ['address', formats.isAddress, 'hostname or IP address'],
  ['uuid', formats.isUuid, 'UUID'],
];

function formatRule(rules: Raw): Rule<string> | undefined {
  const regex = formats.knownRegex(rules['well_known_regex']);
  if (regex) {
    // `strict` defaults to true: only an explicit false relaxes the check.
    const strict = rules['strict'] !== false;
    const what = regex === 'HTTP_HEADER_NAME' ? 'HTTP header name' : 'HTTP header value';
    const valid = (v: string): boolean => formats.matchesKnownRegex(v, regex, strict);
    return (v) => (valid(v) ? undefined : `must be a valid ${what}, got ${quote(v)}`);
  }
  const format = FORMATS.find(([name]) => flag(rules, name));
  if (!format) return undefined;
  const [, valid, what] = format;
  return (v) => (valid(v) ? undefined : `must be a valid ${what}, got ${quote(v)}`);
}

/**
 * The C++ PGV that Envoy runs matches patterns with RE2::FullMatch, so the whole value must match.
 * RE2 and JavaScript agree on the syntax Envoy's patterns use; with the `u` flag JavaScript rejects
 * the RE2 escapes it lacks (`\z`, `\C`, ...) instead of reading them as literals, and a pattern it
 * cannot compile is not checked rather than checked wrongly.
 */
function fullMatch(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return undefined;
  }
}

function codePoints(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++, n++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return n;
}

/** A value for a message, cut short so that one huge value does not drown the report. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

/**
 * A bytes rule value. protobufjs gives it as the string literal from the .proto file with its
 * escapes resolved: characters up to U+00FF are the bytes themselves (`"\xff"`), anything wider
 * was written as UTF-8 text.
 */
function optionBytes(raw: unknown): Buffer | undefined {
  if (raw instanceof Uint8Array) return Buffer.from(raw);
  if (typeof raw !== 'string') return undefined;
  return Buffer.from(raw, /^[\u0000-\u00ff]*$/.test(raw) ? 'latin1' : 'utf8');
}

function view(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Bytes as proto3 JSON writes them: base64. */
function showBytes(value: Uint8Array): string {
  return JSON.stringify(view(value).toString('base64'));
}
