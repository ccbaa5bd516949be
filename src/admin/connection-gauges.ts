import { addConnectionStat } from '../metrics/connection-gauges.js';
import { listenerManagerGauges, type ListenerManagerGauges } from '../metrics/listener-manager.js';

/**
 * Active downstream connections per listener address and per HTTP connection manager, the live
 * signals that a drain is done (`server.total_connections` only refreshes at stats flush), and
 * the listener manager's warming and draining counts, the signal that a modify drain is done.
 */

export interface ConnectionGauges {
  /** `listener.<address>.downstream_cx_active`, keyed by `<address>` (e.g. "0.0.0.0_10000"). */
  readonly listeners: Map<string, number>;
  /** `http.<stat_prefix>.downstream_cx_active`, keyed by `<stat_prefix>`. */
  readonly httpPrefixes: Map<string, number>;
  /** `listener_manager.total_listeners_{warming,draining}`; undefined when /stats lacks them. */
  readonly listenerManager: ListenerManagerGauges | undefined;
}

/** The /stats filter that returns every candidate; names are sorted out below. */
export const CONNECTION_GAUGES_FILTER = '^((listener|http)\\..*\\.downstream_cx_active|listener_manager\\.total_listeners_(warming|draining))$';

export function connectionGauges(stats: ReadonlyMap<string, number>): ConnectionGauges {
  const listeners = new Map<string, number>();
  const httpPrefixes = new Map<string, number>();
  for (const [name, value] of stats) addConnectionStat(name, value, listeners, httpPrefixes);
  return { listeners, httpPrefixes, listenerManager: listenerManagerGauges(stats) };
}
