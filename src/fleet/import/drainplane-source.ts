/**
 * How an Envoy reaches drainplane, as envoy/bootstrap.yaml writes it (a test keeps the two the
 * same): listeners and clusters over ADS on an HTTP/2 cluster, and the metrics_service stats sink
 * that streams the connection gauges drains are measured by.
 */
import type { Json } from './written-message.js';

/** Where drainplane's xDS port is, and the static cluster that names it. */
export interface XdsTarget {
  readonly cluster: string;
  readonly host: string;
  readonly port: number;
}

export const METRICS_SINK = 'envoy.stat_sinks.metrics_service';
export const METRICS_SERVICE_CONFIG = 'type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig';

export function dynamicResources(cluster: string): Json {
  return {
    ads_config: {
      api_type: 'GRPC',
      transport_api_version: 'V3',
      set_node_on_first_message_only: true,
      grpc_services: [{ envoy_grpc: { cluster_name: cluster } }],
    },
    lds_config: { ads: {}, resource_api_version: 'V3' },
    cds_config: { ads: {}, resource_api_version: 'V3' },
  };
}

export function xdsCluster(target: XdsTarget): Json {
  return {
    name: target.cluster,
    type: 'STRICT_DNS',
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: target.cluster,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: target.host, port_value: target.port } } } }] }],
    },
  };
}

export function metricsSink(cluster: string): Json {
  return {
    name: METRICS_SINK,
    typed_config: {
      '@type': METRICS_SERVICE_CONFIG,
      transport_api_version: 'V3',
      emit_tags_as_labels: true,
      grpc_service: { envoy_grpc: { cluster_name: cluster } },
    },
  };
}
