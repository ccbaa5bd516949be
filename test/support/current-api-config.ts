/**
 * A fleet config that uses fields of Envoy's current API that older API trees lack: TcpProxy
 * `check_drain_close` (Envoy 1.39) and `max_early_data_bytes`, and HttpConnectionManager
 * `drain_timeout_jitter` (1.39). The unit tests encode it; the real-Envoy test serves it.
 */
export interface CurrentApiPorts {
  readonly cluster: string;
  readonly tcpPort: number;
  readonly httpPort: number;
  readonly upstreamPort: number;
}

export const TCP_LISTENER = 'tcp_current_api';
export const HTTP_LISTENER = 'http_current_api';
export const MAX_EARLY_DATA_BYTES = 16_384;
export const DRAIN_TIMEOUT_JITTER_PERCENT = 20;

export function currentApiConfig(o: CurrentApiPorts = { cluster: 'current-api', tcpPort: 15432, httpPort: 18080, upstreamPort: 15433 }): string {
  return `groups:
  - name: current-api
    match: { cluster: ${o.cluster} }
    listeners:
      - name: ${TCP_LISTENER}
        traffic_direction: INBOUND
        address:
          socket_address: { address: 127.0.0.1, port_value: ${o.tcpPort} }
        filter_chains:
          - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp_current_api
                  cluster: upstream
                  max_early_data_bytes: ${MAX_EARLY_DATA_BYTES}
                  check_drain_close: true
      - name: ${HTTP_LISTENER}
        traffic_direction: INBOUND
        address:
          socket_address: { address: 127.0.0.1, port_value: ${o.httpPort} }
        filter_chains:
          - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: http_current_api
                  drain_timeout: 5s
                  drainTimeoutJitter: { value: ${DRAIN_TIMEOUT_JITTER_PERCENT} }
                  route_config:
                    name: current_api_routes
                    virtual_hosts:
                      - name: all
                        domains: ["*"]
                        routes:
                          - match: { prefix: "/" }
                            direct_response: { status: 200 }
                  http_filters:
                    - name: envoy.filters.http.router
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
    clusters:
      - name: upstream
        type: STATIC
        connect_timeout: 1s
        load_assignment:
          cluster_name: upstream
          endpoints:
            - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.upstreamPort} } } }
`;
}
