/**
 * The fleet counted on the server, so a console never has to fetch 10,000 nodes to show how
 * many are connected, or how many listeners are serving, draining or gone, per cluster and
 * locality.
 */
import { DRAIN_STATES, LISTENER_STATES, type DrainState, type ListenerState } from './drain/model.js';
import { isNacking, type FleetRead } from './fleet-read.js';
import { compareKeys, nodeOrderKey } from './node-order.js';

type ListenerCounts = Record<ListenerState, number>;

export interface LocalityCounts {
  readonly cluster: string;
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
  nodes: number;
  connected: number;
  /** Nodes whose last answer of some type was a NACK. */
  nacking: number;
  /** Listeners of the connected nodes, by state. */
  readonly listeners: ListenerCounts;
}

export interface FleetSummary {
  readonly nodes: { total: number; connected: number; nacking: number };
  readonly listeners: ListenerCounts;
  /** By cluster and locality, sorted; at most `maxGroups`, the rest counted in `groupsOmitted`. */
  readonly groups: LocalityCounts[];
  readonly groupsOmitted: number;
  readonly drains: Record<DrainState, number>;
}

/** A count at 0 for each of `states`. */
const zeroes = <S extends string>(states: readonly S[]): Record<S, number> => Object.fromEntries(states.map((s) => [s, 0])) as Record<S, number>;
const noListeners = (): ListenerCounts => zeroes(LISTENER_STATES);

export function summarizeFleet(read: FleetRead, maxGroups = 1000): FleetSummary {
  const nodes = { total: 0, connected: 0, nacking: 0 };
  const listeners = noListeners();
  const groups = new Map<string, { order: string[]; counts: LocalityCounts }>();
  for (const n of read.nodes()) {
    const { cluster, locality } = n.identity;
    const order = nodeOrderKey(n.identity).slice(0, 4);
    const key = order.join('\0');
    let group = groups.get(key)?.counts;
    if (!group) {
      group = { cluster, ...locality, nodes: 0, connected: 0, nacking: 0, listeners: noListeners() };
      groups.set(key, { order, counts: group });
    }
    const nacking = isNacking(n);
    nodes.total += 1;
    group.nodes += 1;
    if (nacking) {
      nodes.nacking += 1;
      group.nacking += 1;
    }
    if (!n.connected) continue;
    nodes.connected += 1;
    group.connected += 1;
    for (const l of read.listeners(n.identity)) {
      listeners[l.state] += 1;
      group.listeners[l.state] += 1;
    }
  }
  const sorted = [...groups.values()].sort((a, b) => compareKeys(a.order, b.order)).map((g) => g.counts);
  const drains = zeroes(DRAIN_STATES);
  for (const d of read.drains()) drains[d.state] += 1;
  return {
    nodes,
    listeners,
    groups: sorted.slice(0, maxGroups),
    groupsOmitted: Math.max(0, sorted.length - maxGroups),
    drains,
  };
}
