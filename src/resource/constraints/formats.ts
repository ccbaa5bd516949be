/**
 * PGV's well-known string formats. The header expressions are PGV's own; the address formats
 * follow its C++ and Go checks. PGV's C++ has no email or URI check (so Envoy's protos use
 * neither); those follow its Go checks, approximately.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

/**
 * RFC 7230 token characters, optionally after a ':' (HTTP/2 pseudo-headers). This is PGV's own
 * expression, copied as is: `+-.` in it is a range, so ',' is accepted too, as Envoy accepts it.
 */
const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+-.^_|~`]+$/;
/** Any character but the control characters other than horizontal tab. */
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
/** With `strict: false`, names and values only exclude what would split or end a header line. */
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export type KnownRegex = 'HTTP_HEADER_NAME' | 'HTTP_HEADER_VALUE';

/** The enum as protobufjs may hold it: by name, or by number when parsed from a numeric literal. */
export function knownRegex(raw: unknown): KnownRegex | undefined {
  if (raw === 'HTTP_HEADER_NAME' || raw === 1) return 'HTTP_HEADER_NAME';
  if (raw === 'HTTP_HEADER_VALUE' || raw === 2) return 'HTTP_HEADER_VALUE';
  return undefined;
}

export function matchesKnownRegex(value: string, regex: KnownRegex, strict: boolean): boolean {
  if (!strict) return HEADER_LOOSE.test(value);
  return (regex === 'HTTP_HEADER_NAME' ? HEADER_NAME_STRICT : HEADER_VALUE_STRICT).test(value);
}

/**
 * RFC 1034 host names: dot-separated labels of at most 63 letters, digits and inner hyphens (runs
 * of them too, as in punycode's `xn--`), at most 253 characters; one trailing dot allowed.
 */
export function isHostname(value: string): boolean {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => label.length <= 63 && HOSTNAME_LABEL.test(label));
}

export function isIp(value: string): boolean {
  return isIP(value) !== 0;
}

export { isIPv4 as isIpv4, isIPv6 as isIpv6 };

export function isAddress(value: string): boolean {
  return isHostname(value) || isIp(value);
}

/** `local@host` or `Name <local@host>`, with a local part of at most 64 bytes and a valid host name. */
export function isEmail(value: string): boolean {
  const angled = /^[^<>]*<([^<>]+)>$/.exec(value);
  const address = angled ? angled[1]! : value;
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  return Buffer.byteLength(local) <= 64 && !/\s/.test(local) && isHostname(address.slice(at + 1));
}

/** An absolute URI: a scheme, then whatever the WHATWG URL parser accepts. */
export function isUri(value: string): boolean {
  return URI_SCHEME.test(value) && URL.canParse(value);
}

/** An absolute or relative URI reference. */
export function isUriRef(value: string): boolean {
  return isUri(value) || URL.canParse(value, 'http://reference.invalid/');
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
