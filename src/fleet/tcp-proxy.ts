/**
 * TCP proxy listeners: recognised by a filter whose typed_config is Envoy's TcpProxy
 * (`envoy.filters.network.tcp_proxy`) in any filter chain, the default chain included.
 *
 * Before Envoy 1.39 a draining TCP proxy connection gets no signal at all: it stays open until
 * `--drain-time-s` ends and is then cut without flushing. 1.39 added TcpProxy `check_drain_close`:
 * while its listener drains, a connection is closed (its pending data flushed) at its next read or
 * write. drainplane sends it, set to true, to every Envoy of 1.39 or later, on every TcpProxy
 * filter whose config leaves it unset (one the file sets, true or false, is sent as written).
 *
 * It is sent from the start, not only while a node drains, for two reasons:
 *  - Envoy drains a listener's connections with the config they were accepted under. Adding the
 *    field when a drain starts would itself be a filter chain change: Envoy would drain the
 *    chain's connections under the old config (no check) and only new connections would have it;
 *    a removed listener cannot be changed at all. Set from the start, the drain push stays only
 *    the removal or the metadata change, and every connection already checks.
 *  - Envoy reads the field only while the listener drains, so outside drains it changes nothing;
 *    and drains drainplane does not push (/healthcheck/fail, /drain_listeners, a hot restart) get
 *    the graceful close too.
 * The cost: a node that runs Envoy 1.39 or later sees its TCP proxy listeners change once, the
 * first time it is served by a drainplane that sets the field (a filter chain update: the
 * connections of those chains drain once).
 */
import { nodeRunsEnvoyAtLeast } from '../cache/envoy-version.js';
import type { NodeIdentity } from '../cache/node.js';
import { networkFilterConfigs } from './listener-filters.js';

export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** The first Envoy release with TcpProxy `check_drain_close`. */
export const CHECK_DRAIN_CLOSE_SINCE = '1.39.0';

type Json = Record<string, unknown>;

/** What a listener's TcpProxy filters are, as the file wrote them. */
export interface TcpProxyFilters {
  /** How many TcpProxy filters its chains have (at least 1). */
  readonly filters: number;
  /** How many of them the file sets `check_drain_close: false` on: never closed on a read or write while draining. */
  readonly drainCloseOff: number;
}

/** The listener's TcpProxy filters (canonical proto3 JSON), or undefined when it has none. */
export function tcpProxyFilters(listener: Json): TcpProxyFilters | undefined {
  const configs = tcpProxyConfigs(listener);
  if (configs.length === 0) return undefined;
  return { filters: configs.length, drainCloseOff: configs.filter((c) => c['check_drain_close'] === false).length };
}

/**
 * The listener as Envoy 1.39 and later get it: `check_drain_close: true` on each TcpProxy filter
 * whose config leaves it unset. Undefined when that changes nothing (no TcpProxy filter, or every
 * one sets the field). The input is not changed.
 */
export function withDrainClose(listener: Json): Json | undefined {
  const copy = structuredClone(listener);
  const unset = tcpProxyConfigs(copy).filter((c) => c['check_drain_close'] === undefined);
  if (unset.length === 0) return undefined;
  for (const config of unset) config['check_drain_close'] = true;
  return copy;
}

/** True when drainplane sends this node its listeners with `check_drain_close` (withDrainClose). */
export function checksDrainClose(node: Pick<NodeIdentity, 'userAgentName' | 'userAgentVersion'>): boolean {
  return nodeRunsEnvoyAtLeast(node, CHECK_DRAIN_CLOSE_SINCE);
}

function tcpProxyConfigs(listener: Json): Json[] {
  return networkFilterConfigs(listener).filter((c) => c['@type'] === TCP_PROXY_TYPE);
}
