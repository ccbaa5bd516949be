/**
 * Envoy v3 resources that a grpc-js-xds XdsServer node (see grpc-xds-node.ts) accepts, as proto3
 * JSON objects with the snake_case field names used in Envoy YAML and "@type" on typed configs.
 */

/**
 * The bootstrap's `server_listener_resource_name_template`. XdsServer substitutes the address
 * string given to bindAsync (`127.0.0.1:PORT`) for %s and watches a Listener of that name.
 */
export const SERVER_LISTENER_NAME_TEMPLATE = 'grpc/server?xds.resource.listening_address=%s';

/** The filter_metadata namespace under which grpcServerListener puts its `metadata`. */
export const LISTENER_METADATA_NAMESPACE = 'drainplane';

export const LISTENER_TYPE_URL = 'type.googleapis.com/envoy.config.listener.v3.Listener';

const HCM_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** The Listener name a node serving on 127.0.0.1:port watches. */
export function grpcServerListenerName(port: number): string {
  return SERVER_LISTENER_NAME_TEMPLATE.replace('%s', `127.0.0.1:${port}`);
}

export interface GrpcServerListenerOptions {
  /** Defaults to grpcServerListenerName(port), the only name the node will ask for. */
  name?: string;
  port: number;
  /** String values put in metadata.filter_metadata[LISTENER_METADATA_NAMESPACE]. */
  metadata?: Record<string, string>;
}

/** A proto3 JSON envoy.config.listener.v3.Listener. */
export type ListenerJson = Record<string, unknown> & { name: string };

/**
 * A server-side Listener as gRFC A36 requires it: socket_address equal to the node's bound
 * address, one filter chain holding only the HTTP connection manager, an inline route config
 * whose routes use non_forwarding_action, and the router as the last HTTP filter.
 */
export function grpcServerListener(opts: GrpcServerListenerOptions): ListenerJson {
  const listener: ListenerJson = {
    name: opts.name ?? grpcServerListenerName(opts.port),
    address: { socket_address: { address: '127.0.0.1', port_value: opts.port } },
    traffic_direction: 'INBOUND',
    filter_chains: [
      {
        name: 'grpc-server',
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM_TYPE_URL,
              stat_prefix: 'grpc_server',
              route_config: {
                name: 'grpc-server',
                virtual_hosts: [
                  {
                    name: 'all',
                    domains: ['*'],
                    routes: [{ match: { prefix: '/' }, non_forwarding_action: {} }],
                  },
                ],
              },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } }],
            },
          },
        ],
      },
    ],
  };
  if (opts.metadata) {
    listener.metadata = { filter_metadata: { [LISTENER_METADATA_NAMESPACE]: { ...opts.metadata } } };
  }
  return listener;
}
