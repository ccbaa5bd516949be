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
    clusters:${clusters.map(edsCluster).join('')}
    endpoints:${clusters
      .map(
        (c) => `
      - cluster_name: ${c}
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.endpointPort ?? 8080} } } } }] }]`,
      )
      .join('')}
`;
}

/** An EDS cluster over ADS, as an item of a group's `clusters:` list. */
export function edsCluster(name: string): string {
  return `
      - name: ${name}
        connect_timeout: 1s
        type: EDS
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: V3 } }`;
}

export interface ServiceGroupOptions {
  readonly name: string;
  /** The group's `match`, as YAML flow (e.g. `{ cluster: edge }`). */
  readonly match: string;
  /** The group's listeners, as YAML list items (none by default). */
  readonly listeners?: string;
  /** Also an EDS cluster `static` whose assignment the config writes (one endpoint, 10.9.0.1:80). */
  readonly withStatic?: boolean;
}

/**
 * A group whose EDS cluster `backend` takes its endpoints from the Kubernetes Service
 * shop/backend, port `http` (`serviceEndpoints`).
 */
export function serviceGroup(o: ServiceGroupOptions): string {
  return `
  - name: ${o.name}
    match: ${o.match}${o.listeners ? `\n    listeners:${o.listeners}` : ''}
    clusters:${edsCluster('backend')}${o.withStatic ? edsCluster('static') : ''}
    serviceEndpoints:
      - { clusterName: backend, namespace: shop, service: backend, port: http }${
        o.withStatic
          ? `
    endpoints:
      - cluster_name: static
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 10.9.0.1, port_value: 80 } } } }] }]`
          : ''
      }
`;
}
