/**
 * What a drain would take, weighed before it starts: its share of the fleet and of each cluster
 * and zone it touches, the connections open on its nodes now, and the nodes whose drain could
 * not be measured (no gauge report, no admin API to poll): each such node holds its batch until
 * the deadline. The console's confirm step shows it; so can any client of the preview.
 */
import type { NodeIdentity } from '../../cache/node.js';
import type { NodeStatus } from '../registry.js';
import type { AdminAvailability, DrainDraft } from './draft.js';
import { drainsByLds } from './model.js';
import type { ConnectionSource } from './ports.js';

export interface Share {
  readonly matched: number;
  readonly total: number;
}

export interface BlastRadius {
  /** Of the connected nodes. */
  readonly fleet: Share;
  /** Each cluster the drain touches. */
  readonly clusters: (Share & { readonly cluster: string })[];
  /** Each zone the drain touches. */
  readonly zones: (Share & { readonly region: string; readonly zone: string })[];
  /** Open on the matched nodes' listeners now (`unknown`: nodes that have not reported lately). */
  readonly connections: { readonly open: number; readonly unknown: number };
  /** Nodes whose drain could not be measured: the first ids, and how many. */
  readonly unmeasurable: { readonly count: number; readonly nodes: string[] };
}

export function blastRadius(
  draft: DrainDraft,
  fleet: Iterable<NodeStatus>,
  connections: ConnectionSource,
  adminUnavailable: AdminAvailability,
  maxIds = 20,
): BlastRadius {
  const connected = [...fleet].filter((n) => n.connected).map((n) => n.identity);
  const matched = new Set(draft.matched.map((n) => n.id));
  const clusters = tally(connected, matched, (n) => [n.cluster]);
  const zones = tally(connected, matched, (n) => [n.locality.region, n.locality.zone]);
  let open = 0;
  let unknown = 0;
  const unmeasurable: string[] = [];
  // Connections measure a listener drain; the other measures need no gauges.
  const measured = draft.spec.measure === 'connections' && drainsByLds(draft.spec.method);
  for (const node of draft.matched) {
    const report = connections.latest(node.id);
    if (report) for (const value of report.listeners.values()) open += value;
    else {
      unknown += 1;
      if (measured && (adminUnavailable === undefined || adminUnavailable(node) !== undefined)) unmeasurable.push(node.id);
    }
  }
  return {
    fleet: { matched: matched.size, total: connected.length },
    clusters: [...clusters.values()].map(({ key: [cluster], ...share }) => ({ cluster: cluster!, ...share })),
    zones: [...zones.values()].map(({ key: [region, zone], ...share }) => ({ region: region!, zone: zone!, ...share })),
    connections: { open, unknown },
    unmeasurable: { count: unmeasurable.length, nodes: unmeasurable.sort().slice(0, maxIds) },
  };
}

/** Matched and total connected nodes of each key the matched nodes have, in key order. */
function tally(
  connected: readonly NodeIdentity[],
  matched: ReadonlySet<string>,
  keyOf: (n: NodeIdentity) => string[],
): Map<string, { key: string[]; matched: number; total: number }> {
  const all = new Map<string, { key: string[]; matched: number; total: number }>();
  for (const n of connected) {
    const key = keyOf(n);
    const id = key.join('\0');
    const entry = all.get(id) ?? { key, matched: 0, total: 0 };
    entry.total += 1;
    if (matched.has(n.id)) entry.matched += 1;
    all.set(id, entry);
  }
  return new Map([...all].filter(([, e]) => e.matched > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
