/**
 * A group with one HTTPS ingress listener whose certificate comes over SDS: the listener names
 * the Secret `edge-cert`, which drainplane reads from a certificate and key file.
 */
export const SECRET_NAME = 'edge-cert';
export const HTTPS_LISTENER = 'ingress_https';

export interface SdsConfigOptions {
  readonly cluster: string;
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  /** The body of the listener's direct response. */
  readonly body?: string;
}

export function sdsConfig(o: SdsConfigOptions): string {
  return `groups:
  - name: tls
    match: { cluster: ${o.cluster} }
    secrets:
      - name: ${SECRET_NAME}
        tls_certificate:
          certificate_chain: { filename: ${JSON.stringify(o.certFile)} }
          private_key: { filename: ${JSON.stringify(o.keyFile)} }
    listeners:
      - name: ${HTTPS_LISTENER}
        traffic_direction: INBOUND
        address: { socket_address: { address: 127.0.0.1, port_value: ${o.port} } }
        filter_chains:
          - transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                common_tls_context:
                  tls_certificate_sds_secret_configs:
                    - name: ${SECRET_NAME}
                      sds_config: { ads: {}, resource_api_version: V3 }
            filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ${HTTPS_LISTENER}
                  route_config:
                    virtual_hosts:
                      - name: all
                        domains: ["*"]
                        routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "${o.body ?? 'hello over TLS'}" } } }]
                  http_filters:
                    - name: envoy.filters.http.router
                      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`;
}
