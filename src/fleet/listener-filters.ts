type Json = Record<string, unknown>;

/**
 * The typed configs of a listener's network filters (canonical proto3 JSON), every filter chain
 * and the default chain, in order. Filters are the same object as in the listener: a caller may
 * change them on a copy of the listener.
 */
export function networkFilterConfigs(listener: Json): Json[] {
  const chains = [...((listener['filter_chains'] as Json[] | undefined) ?? [])];
  const fallback = listener['default_filter_chain'] as Json | undefined;
  if (fallback) chains.push(fallback);
  const configs: Json[] = [];
  for (const chain of chains) {
    for (const filter of (chain['filters'] as Json[] | undefined) ?? []) {
      const config = filter['typed_config'] as Json | undefined;
      if (config) configs.push(config);
    }
  }
  return configs;
}
