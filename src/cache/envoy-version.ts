/**
 * Ordering of Envoy release numbers ("1.34.1", "1.35.0-dev").
 *
 * A build between releases carries the next version with a suffix ("1.35.0-dev"). Whether such a
 * build already has a feature of that release depends on the commit, so a suffixed version ranks
 * below the plain release, as in semver: version gates stay on the safe side for dev builds.
 */

import type { NodeIdentity } from './node.js';

interface ParsedVersion {
  readonly parts: readonly [number, number, number];
  readonly suffixed: boolean;
}

const VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?(-[0-9A-Za-z.-]+)?$/;

function parse(version: string): ParsedVersion {
  const m = VERSION.exec(version.trim());
  if (!m) throw new RangeError(`not an Envoy version: "${version}"`);
  return { parts: [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)], suffixed: m[4] !== undefined };
}

/** True when `version` is the same release as `minimum` or a later one. Throws on malformed input. */
export function atLeast(version: string, minimum: string): boolean {
  const v = parse(version);
  const min = parse(minimum);
  for (let i = 0; i < 3; i++) {
    if (v.parts[i] !== min.parts[i]) return v.parts[i]! > min.parts[i]!;
  }
  return !v.suffixed || min.suffixed;
}

/**
 * True when the node said it is an Envoy of `minimum` or later (its user agent, from the first
 * discovery request). Another client (a proxyless gRPC node), a missing or unreadable version
 * answer false: a feature gate must never send a field to a node that may not know it.
 */
export function nodeRunsEnvoyAtLeast(node: Pick<NodeIdentity, 'userAgentName' | 'userAgentVersion'>, minimum: string): boolean {
  if (node.userAgentName !== 'envoy' || !VERSION.test(node.userAgentVersion.trim())) return false;
  return atLeast(node.userAgentVersion, minimum);
}
