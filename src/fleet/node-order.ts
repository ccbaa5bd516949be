/** The one order nodes are listed and grouped in, everywhere the API lists them. */
import type { NodeIdentity } from '../cache/node.js';

/** Nodes are listed by cluster, then locality, then id: the groups a console shows stay together. */
export function nodeOrderKey(identity: NodeIdentity): string[] {
  const { region, zone, subZone } = identity.locality;
  return [identity.cluster, region, zone, subZone, identity.id];
}

/** Element by element, by UTF-16 code units (the same order everywhere, unlike localeCompare). */
export function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}
