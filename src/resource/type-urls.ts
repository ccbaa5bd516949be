/**
 * The five xDS resource types drainplane serves, and the order in which an aggregated stream
 * pushes them: secrets, then clusters and their endpoints, before the listeners and routes that
 * use them (make before break, as the xDS protocol recommends).
 */
export const TypeUrl = {
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type XdsTypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Push order on an aggregated stream: SDS, CDS, EDS, LDS, RDS. */
export const PUSH_ORDER: readonly XdsTypeUrl[] = [
  TypeUrl.Secret,
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
];

/** Short names for logs, metric labels and the API's per-type node status, in the order the API lists them. */
export const XDS_SHORT_NAMES = ['lds', 'cds', 'rds', 'eds', 'sds'] as const;

export type XdsShortName = (typeof XDS_SHORT_NAMES)[number];

export const TYPE_SHORT_NAME: Readonly<Record<XdsTypeUrl, XdsShortName>> = {
  [TypeUrl.Cluster]: 'cds',
  [TypeUrl.ClusterLoadAssignment]: 'eds',
  [TypeUrl.Listener]: 'lds',
  [TypeUrl.RouteConfiguration]: 'rds',
  [TypeUrl.Secret]: 'sds',
};

/** The protobuf message each type URL carries. */
export function messageName(typeUrl: XdsTypeUrl): string {
  return typeUrl.slice(typeUrl.indexOf('/') + 1);
}

export function isXdsTypeUrl(value: string): value is XdsTypeUrl {
  return Object.prototype.hasOwnProperty.call(TYPE_SHORT_NAME, value);
}

/**
 * LDS and CDS are the "state of the world" types: a SotW response carries every subscribed
 * resource (one left out is removed), and an empty first subscription means wildcard.
 */
export function isFullStateType(typeUrl: XdsTypeUrl): boolean {
  return typeUrl === TypeUrl.Listener || typeUrl === TypeUrl.Cluster;
}
