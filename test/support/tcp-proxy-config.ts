/**
 * A fleet config with TCP proxy listeners: an ingress (INBOUND) and an egress (OUTBOUND)
 * listener whose one filter is Envoy's tcp_proxy to the cluster `echo`, written without
 * `check_drain_close` unless `checkDrainClose` names a value for a listener. The unit tests
 * load it; the real-Envoy TCP drain suite serves it.
 */
export interface TcpProxyConfigOptions {
  readonly cluster: string;
  readonly ingressPort: number;
  readonly egressPort: number;
  readonly upstreamPort: number;
  /** `check_drain_close` as the file writes it, per listener name; absent: not written. */
  readonly checkDrainClose?: Readonly<Record<string, boolean>>;
}

export const TCP_INGRESS = 'ingress_tcp';
export const TCP_EGRESS = 'egress_tcp';

const DEFAULTS: TcpProxyConfigOptions = { cluster: 'tcp', ingressPort: 15432, egressPort: 15433, upstreamPort: 15434 };

export function tcpProxyConfig(o: TcpProxyConfigOptions = DEFAULTS): string {
  const listener = (name: string, direction: 'INBOUND' | 'OUTBOUND', port: number) => {
    const given = o.checkDrainClose?.[name];
    return `
      - name: ${name}
        traffic_direction: ${direction}
        address:
          socket_address: { address: 127.0.0.1, port_value: ${port} }
        filter_chains:
          - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: ${name}
                  cluster: echo${given === undefined ? '' : `\n                  check_drain_close: ${given}`}`;
  };
  return `groups:
  - name: tcp
    match: { cluster: ${o.cluster} }
    listeners:${listener(TCP_INGRESS, 'INBOUND', o.ingressPort)}${listener(TCP_EGRESS, 'OUTBOUND', o.egressPort)}
    clusters:
      - name: echo
        type: STATIC
        connect_timeout: 1s
        load_assignment:
          cluster_name: echo
          endpoints:
            - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.upstreamPort} } } }
`;
}
