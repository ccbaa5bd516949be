/**
 * Config documents for tests, written as operators write them: Envoy v3 YAML inside groups.
 */

export interface DemoOptions {
  /** Listener names and ports; each listener is an HTTP listener routing via RDS. */
  readonly ingress?: readonly { name: string; port: number }[];
  readonly egress?: readonly { name: string; port: number }[];
  /** Added to every listener's metadata, to make a listener change without touching its filter chains. */
  readonly listenerTag?: string;
  readonly clusters?: readonly string[];
  readonly cluster?: string;
  /** Endpoint port of each cluster's load assignment. */
  readonly endpointPort?: number;
  /** The group's name (default "demo"). */
  readonly name?: string;
}

/** A group "demo" matching node.cluster `cluster` (default "test-cluster"). */
export function demoConfig(o: DemoOptions = {}): string {
  return `groups:${demoGroup(o)}`;
}

/** One group of demoConfig, to put several in one document: `groups:${demoGroup(a)}${demoGroup(b)}`. */
export function demoGroup(o: DemoOptions = {}): string {
  const ingress = o.ingress ?? [{ name: 'ingress_http', port: 10000 }];
  const egress = o.egress ?? [{ name: 'egress_http', port: 15001 }];
  const clusters = o.clusters ?? ['app', 'upstream'];
  const listener = (l: { name: string; port: number }, direction: string) => `
      - name: ${l.name}
        traffic_direction: ${direction}
        ${o.listenerTag ? `metadata: { filter_metadata: { drainplane: { tag: "${o.listenerTag}" } } }` : ''}
        address: { socket_address: { address: 127.0.0.1, port_value: ${l.port} } }
        filter_chains:
          - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ${l.name}
                  rds: { route_config_name: ${l.name}_routes, config_source: { ads: {}, resource_api_version: V3 } }
                  http_filters:
                    - name: envoy.filters.http.router
                      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;
  const route = (l: { name: string }, cluster: string) => `
      - name: ${l.name}_routes
        virtual_hosts:
          - name: all
            domains: ["*"]
            routes: [{ match: { prefix: "/" }, route: { cluster: ${cluster} } }]`;
  return `
  - name: ${o.name ?? 'demo'}
    match: { cluster: ${o.cluster ?? 'test-cluster'} }
    listeners:${ingress.map((l) => listener(l, 'INBOUND')).join('')}${egress.map((l) => listener(l, 'OUTBOUND')).join('')}
    routes:${[...ingress, ...egress].map((l) => route(l, clusters[0]!)).join('')}
    clusters:${clusters
      .map(
        (c) => `
      - name: ${c}
        connect_timeout: 1s
        type: EDS
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: V3 } }`,
      )
      .join('')}
    endpoints:${clusters
      .map(
        (c) => `
      - cluster_name: ${c}
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.endpointPort ?? 8080} } } } }] }]`,
      )
      .join('')}
`;
}
