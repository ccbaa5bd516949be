/** Envoy bootstraps with static listeners and clusters, as `drainplane import` reads them. */
import YAML from 'yaml';

type Json = Record<string, any>; // tests edit the bootstraps freely before they are written out

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** An HTTP listener routing everything to one cluster, with an inline route config. */
export function httpListener(name: string, port: number, cluster: string, extra: Json = {}): Json {
  return {
    name,
    ...extra,
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: name,
              route_config: {
                name: `${name}_routes`,
                virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }],
              },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
            },
          },
        ],
      },
    ],
  };
}

export function staticCluster(name: string, port: number): Json {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
    },
  };
}

/** An edge Envoy: ingress (INBOUND) to the app, egress (OUTBOUND) to an API, statsd stats to a static cluster. */
export function edgeBootstrap(): Json {
  return {
    node: { id: 'edge-1', cluster: 'edge' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
    stats_flush_interval: '1s',
    stats_sinks: [
      {
        name: 'envoy.stat_sinks.statsd',
        typed_config: { '@type': 'type.googleapis.com/envoy.config.metrics.v3.StatsdSink', tcp_cluster_name: 'statsd' },
      },
    ],
    static_resources: {
      listeners: [
        httpListener('ingress_http', 10000, 'app', { traffic_direction: 'INBOUND' }),
        httpListener('egress_http', 15001, 'api', { traffic_direction: 'OUTBOUND' }),
      ],
      clusters: [staticCluster('app', 8080), staticCluster('api', 8081), staticCluster('statsd', 8125)],
    },
  };
}

export function yaml(value: unknown): string {
  return YAML.stringify(value);
}
