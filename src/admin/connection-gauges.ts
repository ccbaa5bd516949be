/**
 * The connection gauges as Envoy's admin /stats lists them: active downstream connections per
 * listener address and per HTTP connection manager, the live signals that a drain is done
 * (`server.total_connections` only refreshes at stats flush), and the listener manager's warming
 * and draining counts, the signal that a modify drain is done.
 */
import { addConnectionStat, type ConnectionGaugeValues } from '../gauges/connection-gauges.js';
import { listenerManagerGauges } from '../gauges/listener-manager.js';

/** The /stats filter that returns every candidate; names are sorted out below. */
export const CONNECTION_GAUGES_FILTER = '^((listener|http)\\..*\\.downstream_cx_active|listener_manager\\.total_listeners_(warming|draining))$';

/** The gauges among a node's /stats: `listenerManager` is absent when /stats lacks it. */
export function connectionGauges(stats: ReadonlyMap<string, number>): ConnectionGaugeValues {
  const listeners = new Map<string, number>();
  const httpPrefixes = new Map<string, number>();
  for (const [name, value] of stats) addConnectionStat(name, value, listeners, httpPrefixes);
  return { listeners, httpPrefixes, listenerManager: listenerManagerGauges(stats) };
}
