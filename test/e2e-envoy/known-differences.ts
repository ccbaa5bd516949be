/**
 * Where drainplane and Envoy 1.40 judge the same group differently on purpose, as the README
 * lists them ("Where drainplane and Envoy disagree"). Each entry matches the error of the side
 * that refuses, and holds a group that shows it: the differential test checks that the
 * group still shows exactly that, so an entry goes stale loudly, not silently.
 */
export interface KnownDifference {
  /** As the README names the case. */
  readonly title: string;
  readonly rejectedBy: 'drainplane' | 'envoy';
  /** Matches each error drainplane reports for the case, or Envoy's. */
  readonly error: RegExp;
  /** A group (the `groups` list entry, as JSON) that one refuses and the other accepts. */
  readonly example: Record<string, unknown>;
}

const ADS = { ads: {}, resource_api_version: 'V3' };
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

function listener(typedConfig: Record<string, unknown>, name = 'l', port = 10000): Record<string, unknown> {
  return {
    name,
    traffic_direction: 'INBOUND',
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [{ filters: [{ name: 'f', typed_config: typedConfig }] }],
  };
}

function group(resources: Record<string, unknown>): Record<string, unknown> {
  return { name: 'g', match: { cluster: 'c' }, ...resources };
}

const staticCluster = (name: string) => ({
  name,
  type: 'STATIC',
  connect_timeout: '1s',
  load_assignment: {
    cluster_name: name,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } }] }],
  },
});

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    title: 'an RDS route config the group does not have',
    rejectedBy: 'drainplane',
    error: /route config ".*" is not among this group's routes/,
    example: group({
      listeners: [listener({ '@type': HCM, stat_prefix: 's', rds: { route_config_name: 'missing', config_source: ADS }, http_filters: [ROUTER] })],
    }),
  },
  {
    title: 'a cluster the group does not have, named by a TCP proxy or an RDS route config',
    rejectedBy: 'drainplane',
    error: /cluster ".*" is not among this group's clusters/,
    example: group({
      listeners: [listener({ '@type': TCP_PROXY, stat_prefix: 's', cluster: 'missing' })],
    }),
  },
  {
    title: 'an EDS cluster whose endpoints the group does not have',
    rejectedBy: 'drainplane',
    error: /EDS cluster ".*" has no endpoints entry/,
    example: group({ clusters: [{ name: 'e', type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: ADS } }] }),
  },
  {
    title: 'two route configs or two endpoint sets of one name',
    rejectedBy: 'drainplane',
    error: /duplicate (routes|endpoints) name/,
    example: group({
      clusters: [staticCluster('c')],
      routes: [
        { name: 'r', virtual_hosts: [] },
        { name: 'r', virtual_hosts: [] },
      ],
    }),
  },
  {
    title: 'two listeners of one name',
    rejectedBy: 'drainplane',
    error: /duplicate listeners name/,
    example: group({
      listeners: [
        listener({ '@type': TCP_PROXY, stat_prefix: 's', cluster: 'c' }),
        listener({ '@type': TCP_PROXY, stat_prefix: 's', cluster: 'c' }, 'l', 10001),
      ],
      clusters: [staticCluster('c')],
    }),
  },
  {
    title: 'an enum name in another case',
    rejectedBy: 'drainplane',
    error: /is not a value of envoy\.[\w.]+ \(one of /,
    example: group({
      listeners: [{ ...listener({ '@type': TCP_PROXY, stat_prefix: 's', cluster: 'c' }), traffic_direction: 'inbound' }],
      clusters: [staticCluster('c')],
    }),
  },
  {
    title: 'a negative duration where no PGV rule bounds it',
    rejectedBy: 'envoy',
    error: /Expected positive duration/,
    example: group({
      listeners: [listener({ '@type': HCM, stat_prefix: 's', drain_timeout: '-1s', route_config: { name: 'r' }, http_filters: [ROUTER] })],
    }),
  },
  {
    title: 'an endpoint address that is not an IP address',
    rejectedBy: 'envoy',
    error: /malformed IP address/,
    example: group({
      clusters: [{ name: 'e', type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: ADS } }],
      endpoints: [
        {
          cluster_name: 'e',
          endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'db.example.com', port_value: 5432 } } } }] }],
        },
      ],
    }),
  },
];
