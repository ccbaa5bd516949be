/**
 * Envoy builds a listener's filter chains in order and refuses one where a terminal filter (one
 * that ends the chain: the HTTP connection manager, the TCP proxy, the HTTP router, ...) is not
 * the last, or where an HTTP filter chain does not end with one: "terminal filter named
 * envoy.filters.http.router ... must be the last filter in a http filter chain". It also needs
 * each filter's typed_config to know which filter it is. Caught here, before anything is served;
 * Envoy would NACK the listener.
 */
import type { ConfigIssue } from './config-issue.js';
import type { LocatedResource } from './references.js';

type Json = Record<string, unknown>;

const API = 'type.googleapis.com/envoy.extensions.filters';
const HCM = `${API}.network.http_connection_manager.v3.HttpConnectionManager`;

/** Network filters whose factories say they end a chain (isTerminalFilterByProto), by config type. */
const TERMINAL_NETWORK = new Set([
  HCM,
  `${API}.network.tcp_proxy.v3.TcpProxy`,
  `${API}.network.redis_proxy.v3.RedisProxy`,
  `${API}.network.thrift_proxy.v3.ThriftProxy`,
  `${API}.network.dubbo_proxy.v3.DubboProxy`,
  `${API}.network.direct_response.v3.Config`,
  `${API}.network.echo.v3.Echo`,
  `${API}.network.generic_proxy.v3.GenericProxy`,
]);
const TERMINAL_HTTP = new Set([`${API}.http.router.v3.Router`]);
/** Dynamic-module filters end a chain when their config says so. */
const DYNAMIC_MODULES = new Set([
  `${API}.network.dynamic_modules.v3.DynamicModuleNetworkFilter`,
  `${API}.http.dynamic_modules.v3.DynamicModuleFilter`,
]);

export function checkFilterOrder(listener: LocatedResource): ConfigIssue[] {
  const errors: ConfigIssue[] = [];
  const chains = ((listener.json['filter_chains'] as Json[] | undefined) ?? []).map((c, i): [Json, string] => [
    c,
    `${listener.path}.filter_chains[${i}]`,
  ]);
  const fallback = listener.json['default_filter_chain'] as Json | undefined;
  if (fallback) chains.push([fallback, `${listener.path}.default_filter_chain`]);
  for (const [chain, chainPath] of chains) {
    const filters = (chain['filters'] as Json[] | undefined) ?? [];
    errors.push(...checkChain(filters, `${chainPath}.filters`, 'network', TERMINAL_NETWORK, listener.name));
    filters.forEach((filter, i) => {
      const config = filter['typed_config'] as Json | undefined;
      if (config?.['@type'] !== HCM) return;
      const httpFilters = (config['http_filters'] as Json[] | undefined) ?? [];
      errors.push(...checkChain(httpFilters, `${chainPath}.filters[${i}].typed_config.http_filters`, 'HTTP', TERMINAL_HTTP, listener.name));
      // Envoy ends an empty HTTP filter list with a router of its own; a non-empty one must end with a terminal filter.
      const last = httpFilters.at(-1);
      if (last && configType(last) !== undefined && !isTerminal(last, TERMINAL_HTTP)) {
        errors.push({
          path: `${chainPath}.filters[${i}].typed_config.http_filters[${httpFilters.length - 1}]`,
          message: `the last HTTP filter of listener "${listener.name}" must be a terminal filter such as envoy.filters.http.router; Envoy would reject the listener`,
        });
      }
    });
  }
  return errors;
}

function checkChain(filters: readonly Json[], path: string, kind: string, terminal: ReadonlySet<string>, listener: string): ConfigIssue[] {
  const errors: ConfigIssue[] = [];
  filters.forEach((filter, i) => {
    if (configType(filter) === undefined && filter['config_discovery'] === undefined) {
      errors.push({ path: `${path}[${i}].typed_config`, message: `is required: Envoy finds the ${kind} filter by its typed_config's "@type"` });
    } else if (i < filters.length - 1 && isTerminal(filter, terminal)) {
      errors.push({
        path: `${path}[${i}]`,
        message: `${kind} filter "${String(filter['name'])}" ends a filter chain, so it must be the last one (listener "${listener}"); Envoy would reject the listener`,
      });
    }
  });
  return errors;
}

function configType(filter: Json): string | undefined {
  const type = (filter['typed_config'] as Json | undefined)?.['@type'];
  return typeof type === 'string' && type !== '' ? type : undefined;
}

function isTerminal(filter: Json, terminal: ReadonlySet<string>): boolean {
  const type = configType(filter);
  if (type === undefined) return false;
  return terminal.has(type) || (DYNAMIC_MODULES.has(type) && (filter['typed_config'] as Json)['terminal_filter'] === true);
}
