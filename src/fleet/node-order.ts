/** The one order nodes are listed and grouped in, everywhere the API lists them. */
import type { NodeIdentity } from '../cache/node.js';

/** Nodes are listed by cluster, then locality, then id: the groups a console shows stay together. */
export function nodeOrderKey(identity: NodeIdentity): string[] {
  const { region, zone, subZone } = identity.locality;
  return [identity.cluster, region, zone, subZone, identity.id];
}

/** Element by element, each in natural order (compareNatural). */
export function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareNatural(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

const RUNS = /\d+|\D+/g;

/**
 * Runs of digits by their value, the rest by UTF-16 code units, so `10.2.1.2` comes before
 * `10.2.1.10` and `edge-9` before `edge-10` (ids are read as numbers). Not localeCompare: the
 * order must be the same on every replica and in every page cursor. Strings that differ only in
 * leading zeros (`07`, `7`) are told apart by code units, so the order is total.
 */
export function compareNatural(a: string, b: string): number {
  if (a === b) return 0;
  const x = a.match(RUNS) ?? [];
  const y = b.match(RUNS) ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i]!, y[i]!];
    if (p === q) continue;
    const digits = /^\d/.test(p) && /^\d/.test(q);
    // Numbers of any length: the shorter one without leading zeros is smaller.
    const [m, n] = digits ? [p.replace(/^0+/, ''), q.replace(/^0+/, '')] : [p, q];
    if (digits && m.length !== n.length) return m.length - n.length;
    if (m !== n) return m < n ? -1 : 1;
  }
  if (x.length !== y.length) return x.length - y.length;
  return a < b ? -1 : 1;
}

/**
 * The first `n` items in `compare`'s order, as a stable sort and a slice would give them, without
 * sorting the rest: a phase of 10,000 nodes shown as 20 rows (or none) costs one pass, not a sort.
 */
export function firstInOrder<T>(items: readonly T[], n: number, compare: (a: T, b: T) => number): T[] {
  const first: T[] = [];
  if (n <= 0) return first;
  for (const item of items) {
    if (first.length === n && compare(item, first[n - 1]!) >= 0) continue;
    // After every item it does not come before: items that compare equal keep their order.
    let lo = 0;
    let hi = first.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(item, first[mid]!) < 0) hi = mid;
      else lo = mid + 1;
    }
    first.splice(lo, 0, item);
    if (first.length > n) first.pop();
  }
  return first;
}
