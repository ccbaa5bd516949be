import { listenerStatAddress } from '../gauges/connection-gauges.js';
import { networkFilterConfigs } from './listener-filters.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** The stat names under which Envoy reports a listener's connections. */
export interface ListenerStatNames {
  /** X in `listener.X.downstream_cx_active`; null for a listener without a socket address. */
  readonly statAddress: string | null;
  /** P in `http.P.downstream_cx_active`, one per HTTP connection manager of the listener. */
  readonly httpPrefixes: readonly string[];
}

type Json = Record<string, unknown>;

/** Reads the stat names off a listener in canonical proto3 JSON. */
export function listenerStatNames(listener: Json): ListenerStatNames {
  const socket = (listener['address'] as Json | undefined)?.['socket_address'] as { address?: string; port_value?: number } | undefined;
  const statPrefix = listener['stat_prefix'] as string | undefined;
  const statAddress =
    socket?.address !== undefined
      ? listenerStatAddress({ address: socket.address, ...(socket.port_value !== undefined && { port_value: socket.port_value }) }, statPrefix)
      : (statPrefix ?? null);
  const httpPrefixes = new Set<string>();
  for (const config of networkFilterConfigs(listener)) {
    if (config['@type'] === HCM && typeof config['stat_prefix'] === 'string') httpPrefixes.add(config['stat_prefix']);
  }
  return { statAddress, httpPrefixes: [...httpPrefixes] };
}
