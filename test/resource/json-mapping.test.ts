import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import type protobuf from 'protobufjs';
import { envoyProtos } from '../../src/resource/protos.js';
import { encodeJson, encodeMessage, messageFromJson, messageToJson, messageToJsonValue, type MappingError } from '../../src/resource/json-mapping.js';

const registry = envoyProtos();
const LISTENER = registry.type('envoy.config.listener.v3.Listener');
const CLUSTER = registry.type('envoy.config.cluster.v3.Cluster');

const HTTPS_LISTENER = `
name: ingress_https
address:
  socket_address: { address: 0.0.0.0, port_value: 10443 }
traffic_direction: INBOUND
per_connection_buffer_limit_bytes: 32768
listener_filters_timeout: 5s
socket_options:
- description: SO_KEEPALIVE
  level: 1
  name: 9
  int_value: 1
  state: STATE_PREBIND
metadata:
  filter_metadata:
    drainplane:
      owner: edge-team
      generation: 7
      canary: false
      weights: { blue: 0.25, green: 0.75 }
      regions: [us-east-1, eu-west-1]
      retired_at: null
    envoy.lb:
      zone: us-east-1a
listener_filters:
- name: envoy.filters.listener.tls_inspector
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
filter_chains:
- filter_chain_match:
    server_names: [www.example.com, api.example.com]
  transport_socket:
    name: envoy.transport_sockets.tls
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
      require_client_certificate: false
      common_tls_context:
        alpn_protocols: [h2, http/1.1]
        tls_params:
          tls_minimum_protocol_version: TLSv1_2
        tls_certificates:
        - certificate_chain: { filename: /etc/envoy/tls/server.crt }
          private_key: { filename: /etc/envoy/tls/server.key }
      session_ticket_keys:
        keys:
        - inline_bytes: c2Vzc2lvbi10aWNrZXQta2V5LTAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA==
  filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: ingress_https
      codec_type: AUTO
      use_remote_address: true
      drain_timeout: 30s
      stream_idle_timeout: 1.5s
      common_http_protocol_options:
        idle_timeout: 300s
        max_headers_count: 100
        headers_with_underscores_action: REJECT_REQUEST
      access_log:
      - name: envoy.access_loggers.file
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
          path: /var/log/envoy/access.log
          log_format:
            json_format:
              start_time: "%START_TIME%"
              method: "%REQ(:METHOD)%"
              path: "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"
              status: "%RESPONSE_CODE%"
              duration_ms: "%DURATION%"
      route_config:
        name: local_route
        virtual_hosts:
        - name: backend
          domains: ["*"]
          routes:
          - match: { prefix: /api/ }
            route:
              cluster: service_backend
              timeout: 15s
              retry_policy: { retry_on: "5xx,reset", num_retries: 3, per_try_timeout: 0.250s }
          - match: { path: /healthz }
            direct_response: { status: 200, body: { inline_string: ok } }
      http_filters:
      - name: envoy.filters.http.router
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          suppress_envoy_headers: true
`;

const TCP_LISTENER = `
name: postgres
address:
  socket_address: { address: 0.0.0.0, port_value: 5432 }
traffic_direction: OUTBOUND
filter_chains:
- filters:
  - name: envoy.filters.network.tcp_proxy
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
      stat_prefix: postgres
      cluster: postgres_primary
      idle_timeout: 3600s
      max_connect_attempts: 3
      access_log:
      - name: envoy.access_loggers.file
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
          path: /dev/stdout
          log_format:
            text_format_source: { inline_string: "[%START_TIME%] %UPSTREAM_HOST% %BYTES_SENT%\\n" }
`;

const CLUSTER_SNAKE = `
name: service_backend
type: STRICT_DNS
connect_timeout: 0.25s
lb_policy: LEAST_REQUEST
dns_lookup_family: V4_ONLY
dns_refresh_rate: 60s
per_connection_buffer_limit_bytes: 65536
common_lb_config:
  healthy_panic_threshold: { value: 25.5 }
circuit_breakers:
  thresholds:
  - priority: DEFAULT
    max_connections: 1024
    max_pending_requests: 256
  - priority: HIGH
    max_connections: 2048
outlier_detection:
  consecutive_5xx: 5
  interval: 10s
  base_ejection_time: 30s
  max_ejection_percent: 50
metadata:
  filter_metadata:
    envoy.lb: { canary: true, version: v2.3.1, shard_key: null }
typed_extension_protocol_options:
  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    explicit_http_config:
      http2_protocol_options:
        max_concurrent_streams: 100
        initial_stream_window_size: 65536
  envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions
    idle_timeout: 600s
load_assignment:
  cluster_name: service_backend
  endpoints:
  - locality: { region: us-east-1, zone: us-east-1a }
    load_balancing_weight: 10
    priority: 0
    lb_endpoints:
    - endpoint:
        address:
          socket_address: { address: backend-1.internal, port_value: 8080 }
        hostname: backend-1
      health_status: HEALTHY
      load_balancing_weight: 5
    - endpoint:
        address:
          socket_address: { address: backend-2.internal, port_value: 8080 }
      load_balancing_weight: 3
`;

/** CLUSTER_SNAKE with lowerCamel field names (map and Struct keys are data and stay as they are). */
const CLUSTER_CAMEL = `
name: service_backend
type: STRICT_DNS
connectTimeout: 0.25s
lbPolicy: LEAST_REQUEST
dnsLookupFamily: V4_ONLY
dnsRefreshRate: 60s
perConnectionBufferLimitBytes: 65536
commonLbConfig:
  healthyPanicThreshold: { value: 25.5 }
circuitBreakers:
  thresholds:
  - priority: DEFAULT
    maxConnections: "1024"
    maxPendingRequests: 256
  - { priority: HIGH, maxConnections: 2048 }
outlierDetection:
  consecutive5xx: 5
  interval: 10s
  baseEjectionTime: 30s
  maxEjectionPercent: 50
metadata:
  filterMetadata:
    envoy.lb: { canary: true, version: v2.3.1, shard_key: null }
typedExtensionProtocolOptions:
  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    explicitHttpConfig:
      http2ProtocolOptions:
        maxConcurrentStreams: 100
        initialStreamWindowSize: 65536
  envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions
    idleTimeout: 600s
loadAssignment:
  clusterName: service_backend
  endpoints:
  - locality: { region: us-east-1, zone: us-east-1a }
    loadBalancingWeight: 10
    lbEndpoints:
    - endpoint:
        address:
          socketAddress: { address: backend-1.internal, portValue: 8080 }
        hostname: backend-1
      healthStatus: HEALTHY
      loadBalancingWeight: 5
    - endpoint:
        address:
          socketAddress: { address: backend-2.internal, portValue: 8080 }
      loadBalancingWeight: 3
`;

const FIXTURES: ReadonlyArray<{ name: string; type: protobuf.Type; yaml: string }> = [
  { name: 'HTTPS listener', type: LISTENER, yaml: HTTPS_LISTENER },
  { name: 'TCP proxy listener', type: LISTENER, yaml: TCP_LISTENER },
  { name: 'cluster', type: CLUSTER, yaml: CLUSTER_SNAKE },
];

function encode(type: protobuf.Type, json: unknown): Uint8Array {
  const result = encodeJson(registry, type, json);
  if (!result.ok) assert.fail(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return result.value;
}

function errorsOf(type: protobuf.Type, json: unknown): MappingError[] {
  const result = messageFromJson(registry, type, json);
  assert.equal(result.ok, false, 'expected mapping errors');
  return result.ok ? [] : result.errors;
}

/** The same document with the keys of every object, at every depth, in reverse order. */
function reversedKeys(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(reversedKeys);
  if (typeof json !== 'object' || json === null) return json;
  return Object.fromEntries(
    Object.entries(json)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  );
}

/** The value at a path of object keys and array indexes, or undefined where the path leads nowhere. */
function dig(value: unknown, ...path: Array<string | number>): unknown {
  return path.reduce<unknown>((at, key) => (typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined), value);
}

function listenerJson(): Record<string, unknown> {
  return messageToJson(registry, LISTENER, encode(LISTENER, YAML.parse(HTTPS_LISTENER)));
}

test('YAML -> protobuf -> JSON -> protobuf gives identical bytes', () => {
  for (const { name, type, yaml } of FIXTURES) {
    const bytes = encode(type, YAML.parse(yaml));
    const json = messageToJson(registry, type, bytes);
    assert.deepEqual(encode(type, json), bytes, name);
    assert.deepEqual(messageToJson(registry, type, encode(type, json)), json, name);
  }
});

test('the bytes are ordinary protobuf: protobufjs decodes and re-encodes them unchanged', () => {
  for (const { name, type, yaml } of FIXTURES) {
    const bytes = encode(type, YAML.parse(yaml));
    assert.deepEqual(type.encode(type.decode(bytes)).finish(), bytes, name);
  }
  const listener = LISTENER.toObject(LISTENER.decode(encode(LISTENER, YAML.parse(HTTPS_LISTENER))), { enums: String });
  assert.equal(dig(listener, 'address', 'socket_address', 'port_value'), 10443);
  assert.equal(dig(listener, 'traffic_direction'), 'INBOUND');
  assert.equal(dig(listener, 'per_connection_buffer_limit_bytes', 'value'), 32768);
});

test('JSON output is canonical proto3 JSON with the proto field names', () => {
  const json = listenerJson();
  const chain = dig(json, 'filter_chains', 0);
  const hcm = dig(chain, 'filters', 0, 'typed_config');
  assert.equal(Object.keys(hcm as object)[0], '@type');
  assert.equal(dig(hcm, 'drain_timeout'), '30s');
  assert.equal(dig(hcm, 'stream_idle_timeout'), '1.500s');
  assert.equal(dig(hcm, 'use_remote_address'), true);
  assert.equal(dig(hcm, 'codec_type'), undefined, 'AUTO is the default and is omitted');
  assert.deepEqual(dig(hcm, 'common_http_protocol_options'), {
    idle_timeout: '300s',
    max_headers_count: 100,
    headers_with_underscores_action: 'REJECT_REQUEST',
  });
  const route = dig(hcm, 'route_config', 'virtual_hosts', 0, 'routes', 0, 'route');
  assert.equal(dig(route, 'retry_policy', 'per_try_timeout'), '0.250s');
  assert.deepEqual(dig(hcm, 'access_log', 0, 'typed_config', 'log_format', 'json_format'), {
    duration_ms: '%DURATION%',
    method: '%REQ(:METHOD)%',
    path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
    start_time: '%START_TIME%',
    status: '%RESPONSE_CODE%',
  });
  const tls = dig(chain, 'transport_socket', 'typed_config');
  assert.equal(dig(tls, 'require_client_certificate'), false, 'a wrapper set to its default is still present');
  assert.equal(dig(tls, 'common_tls_context', 'tls_params', 'tls_minimum_protocol_version'), 'TLSv1_2');
  assert.match(String(dig(tls, 'session_ticket_keys', 'keys', 0, 'inline_bytes')), /^c2Vzc2lvbi10aWNrZXQta2V5/);
  assert.equal(json['traffic_direction'], 'INBOUND');
  assert.equal(json['per_connection_buffer_limit_bytes'], 32768);
  assert.deepEqual(json['socket_options'], [{ description: 'SO_KEEPALIVE', level: '1', name: '9', int_value: '1' }]);
  assert.deepEqual(dig(json, 'metadata', 'filter_metadata', 'drainplane'), {
    canary: false,
    generation: 7,
    owner: 'edge-team',
    regions: ['us-east-1', 'eu-west-1'],
    retired_at: null,
    weights: { blue: 0.25, green: 0.75 },
  });
});

test('key order does not change the bytes, including Struct keys, map keys and "@type"', () => {
  for (const { name, type, yaml } of FIXTURES) {
    const json = YAML.parse(yaml) as Record<string, unknown>;
    const reversed = reversedKeys(json) as Record<string, unknown>;
    assert.notEqual(Object.keys(reversed)[0], Object.keys(json)[0]);
    assert.deepEqual(encode(type, reversed), encode(type, json), name);
  }
});

test('lowerCamel and snake_case field names give identical bytes', () => {
  assert.deepEqual(encode(CLUSTER, YAML.parse(CLUSTER_CAMEL)), encode(CLUSTER, YAML.parse(CLUSTER_SNAKE)));
});

test('every error in a document is reported, each with its exact path', () => {
  const doc = YAML.parse(`
name: broken
traffic_direction: SIDEWAYS
address:
  socket_address: { address: 0.0.0.0, port_value: -1 }
listener_filters:
- name: envoy.filters.listener.tls_inspector
  filter_disabled:
    destination_port_range: { start: 0, end: 2147483648 }
filter_chains:
- filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: ingress
      drain_timeout: 5 seconds
      access_log:
      - name: envoy.access_loggers.file
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLogger
          path: /dev/stdout
      route_config:
        virtual_hosts:
        - name: backend
          domains: "*"
          routes:
          - match: { prefix: /, path: /exact }
            route: { cluster: backend, retries: 3 }
`);
  const hcm = 'filter_chains[0].filters[0].typed_config';
  const route = `${hcm}.route_config.virtual_hosts[0].routes[0]`;
  const errors = errorsOf(LISTENER, doc);
  assert.deepEqual(
    errors.map((e) => e.path),
    [
      'traffic_direction',
      'address.socket_address.port_value',
      'listener_filters[0].filter_disabled.destination_port_range.end',
      `${hcm}.drain_timeout`,
      `${hcm}.access_log[0].typed_config["@type"]`,
      `${hcm}.route_config.virtual_hosts[0].domains`,
      `${route}.match.path`,
      `${route}.route.retries`,
    ],
  );
  const messages = errors.map((e) => e.message);
  assert.equal(messages[0], '"SIDEWAYS" is not a value of envoy.config.core.v3.TrafficDirection (one of UNSPECIFIED, INBOUND, OUTBOUND)');
  assert.equal(messages[1], '-1 is out of range for uint32 (0 to 4294967295)');
  assert.equal(messages[2], '2147483648 is out of range for int32 (-2147483648 to 2147483647)');
  assert.match(messages[3]!, /^invalid duration "5 seconds"/);
  assert.ok(messages[4]!.startsWith('unknown type URL "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLogger"'));
  assert.equal(messages[5], 'expected an array for repeated field "domains", got "*"');
  assert.match(messages[6]!, /"prefix" and "path" are both set, but they belong to oneof "path_specifier"/);
  assert.equal(messages[7], 'unknown field "retries" in envoy.config.route.v3.RouteAction');
});

test('basePath prefixes every error path', () => {
  assert.deepEqual(messageFromJson(registry, LISTENER, { name: 'x', Address: {} }, 'listeners[3]'), {
    ok: false,
    errors: [
      {
        path: 'listeners[3].Address',
        message: 'unknown field "Address" in envoy.config.listener.v3.Listener; did you mean "address"?',
      },
    ],
  });
});

test('null leaves a field unset; a field may not be given under both of its names', () => {
  const base = YAML.parse(TCP_LISTENER) as Record<string, unknown>;
  const nulls = { ...base, per_connection_buffer_limit_bytes: null, metadata: null };
  assert.deepEqual(encode(LISTENER, nulls), encode(LISTENER, base));
  assert.deepEqual(errorsOf(LISTENER, { ...base, traffic_direction: 'INBOUND', trafficDirection: 'INBOUND' }), [
    {
      path: 'trafficDirection',
      message: 'field "traffic_direction" is given twice, as "traffic_direction" and as "trafficDirection"',
    },
  ]);
});

test('enums are accepted by name or by number', () => {
  const base = YAML.parse(TCP_LISTENER) as Record<string, unknown>;
  assert.deepEqual(encode(LISTENER, { ...base, traffic_direction: 2 }), encode(LISTENER, base));
  assert.deepEqual(
    errorsOf(LISTENER, { ...base, traffic_direction: 'outbound' }).map((e) => e.path),
    ['traffic_direction'],
  );
});

test('scalars are checked against their field types', () => {
  const address = (socketAddress: Record<string, unknown>): unknown => ({
    name: 'l',
    address: { socket_address: socketAddress },
  });
  assert.deepEqual(
    encode(LISTENER, address({ address: '10.0.0.1', port_value: '8080' })),
    encode(LISTENER, address({ address: '10.0.0.1', port_value: 8080 })),
  );
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ port_value: 'abc' }, 'expected an integer, got "abc"'],
    [{ port_value: 80.5 }, 'expected an integer, got 80.5'],
    [{ address: 42 }, 'expected a string, got 42'],
    [{ ipv4_compat: 'yes' }, 'expected true or false, got "yes"'],
    [{ protocol: true }, 'expected a value of envoy.config.core.v3.SocketAddress.Protocol, got true'],
  ];
  for (const [socketAddress, message] of cases) {
    const [field] = Object.keys(socketAddress);
    assert.deepEqual(errorsOf(LISTENER, address(socketAddress)), [{ path: `address.socket_address.${field}`, message }]);
  }
});

test('64-bit integers: strings or safe numbers in, strings out, range-checked', () => {
  const option = (intValue: unknown): unknown => ({
    name: 'l',
    socket_options: [{ level: 1, name: 9, int_value: intValue }],
  });
  const max = encode(LISTENER, option('9223372036854775807'));
  assert.equal(dig(messageToJson(registry, LISTENER, max), 'socket_options', 0, 'int_value'), '9223372036854775807');
  assert.deepEqual(encode(LISTENER, option(-5)), encode(LISTENER, option('-5')));
  assert.deepEqual(encode(LISTENER, option('1e3')), encode(LISTENER, option(1000)));
  const errors = [option('9223372036854775808'), option(2 ** 60), option('1.5')].map((doc) => errorsOf(LISTENER, doc)[0]!.message);
  assert.deepEqual(errors, [
    '"9223372036854775808" is out of range for int64 (-9223372036854775808 to 9223372036854775807)',
    '1152921504606847000 is not exact as a JSON number; write 64-bit integers as strings',
    'expected an integer, got "1.5"',
  ]);
});

test('bytes accept standard and URL-safe base64, with or without padding', () => {
  const key = (inlineBytes: string): unknown => ({
    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    session_ticket_keys: { keys: [{ inline_bytes: inlineBytes }] },
  });
  const ANY = registry.type('google.protobuf.Any');
  const standard = encode(ANY, key('+/+/aQ=='));
  assert.deepEqual(encode(ANY, key('-_-_aQ')), standard);
  assert.deepEqual(encode(ANY, key('+/+/aQ')), standard);
  const json = messageToJsonValue(registry, ANY, standard);
  assert.equal(dig(json, 'session_ticket_keys', 'keys', 0, 'inline_bytes'), '+/+/aQ==');
  for (const bad of ['+/-_ab==', 'abc$', 'a', 'ab=']) {
    assert.deepEqual(errorsOf(ANY, key(bad)), [
      { path: 'session_ticket_keys.keys[0].inline_bytes', message: `invalid base64 ${JSON.stringify(bad)}` },
    ]);
  }
});

test('durations parse strictly and print in canonical form', () => {
  const DURATION = registry.type('google.protobuf.Duration');
  const canonical: Array<[string, string]> = [
    ['5s', '5s'],
    ['1.5s', '1.500s'],
    ['0.25s', '0.250s'],
    ['1.000100s', '1.000100s'],
    ['0.000000001s', '0.000000001s'],
    ['-2s', '-2s'],
    ['-0.5s', '-0.500s'],
    ['0s', '0s'],
    ['315576000000s', '315576000000s'],
  ];
  for (const [input, output] of canonical) {
    assert.equal(messageToJsonValue(registry, DURATION, encode(DURATION, input)), output, input);
  }
  for (const bad of ['5 seconds', '5', '1.0000000001s', '.5s', '1m', '315576000001s']) {
    assert.equal(errorsOf(DURATION, bad).length, 1, bad);
  }
  assert.deepEqual(errorsOf(DURATION, 5), [{ path: '', message: 'expected a duration string such as "1.5s", got 5' }]);
});

test('timestamps parse RFC 3339 with any offset and print in UTC', () => {
  const TIMESTAMP = registry.type('google.protobuf.Timestamp');
  const print = (input: string): unknown => messageToJsonValue(registry, TIMESTAMP, encode(TIMESTAMP, input));
  assert.equal(print('2024-02-29T23:30:00.5+01:00'), '2024-02-29T22:30:00.500Z');
  assert.equal(print('0001-01-01T00:00:00Z'), '0001-01-01T00:00:00Z');
  assert.equal(print('1970-01-01T00:00:00.000000001Z'), '1970-01-01T00:00:00.000000001Z');
  for (const bad of ['2023-02-29T00:00:00Z', '2024-01-01 00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:00:00']) {
    assert.equal(errorsOf(TIMESTAMP, bad).length, 1, bad);
  }
});

test('well-known types inside an Any use "value"; an Any may hold an Any', () => {
  const ANY = registry.type('google.protobuf.Any');
  const documents = [
    { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '1.500s' },
    { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { b: [1, 'two', null], a: { nested: true } } },
    { '@type': 'type.googleapis.com/google.protobuf.UInt32Value', value: 0 },
    { '@type': 'type.googleapis.com/google.protobuf.Empty', value: {} },
    {
      '@type': 'type.googleapis.com/google.protobuf.Any',
      value: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', suppress_envoy_headers: true },
    },
  ];
  for (const doc of documents) {
    const bytes = encode(ANY, doc);
    assert.deepEqual(messageToJsonValue(registry, ANY, bytes), doc);
    assert.deepEqual(encode(ANY, reversedKeys(doc)), bytes);
  }
  assert.deepEqual(errorsOf(ANY, { '@type': 'type.googleapis.com/google.protobuf.Duration', seconds: 1 }), [
    {
      path: 'seconds',
      message: 'unknown field "seconds": an Any holding google.protobuf.Duration has only "@type" and "value"',
    },
    { path: 'value', message: 'missing "value": an Any holding google.protobuf.Duration puts its JSON form there' },
  ]);
});

test('an Any without "@type" is an error at its "@type" path', () => {
  const doc = YAML.parse(TCP_LISTENER) as unknown;
  delete (dig(doc, 'filter_chains', 0, 'filters', 0, 'typed_config') as Record<string, unknown>)['@type'];
  assert.deepEqual(errorsOf(LISTENER, doc), [
    {
      path: 'filter_chains[0].filters[0].typed_config["@type"]',
      message: 'missing "@type": an Any needs the type URL of the message it holds',
    },
  ]);
});

test('integer map keys are validated and encoded in numeric order', () => {
  const METHOD_MATCH = registry.type('envoy.extensions.filters.network.dubbo_proxy.v3.MethodMatch');
  const match = (params: Record<string, unknown>): unknown => ({ name: { exact: 'get' }, params_match: params });
  const bytes = encode(METHOD_MATCH, match({ 10: { exact_match: 'a' }, 2: { exact_match: 'b' } }));
  const json = messageToJsonValue(registry, METHOD_MATCH, bytes);
  assert.deepEqual(Object.keys(dig(json, 'params_match') as object), ['2', '10']);
  assert.deepEqual(encode(METHOD_MATCH, json), bytes);
  assert.deepEqual(errorsOf(METHOD_MATCH, match({ first: { exact_match: 'a' } })), [
    { path: 'params_match["first"]', message: 'expected an integer, got "first"' },
  ]);
});

test('encodeMessage ignores explicitly-set defaults and map insertion order', () => {
  const METADATA = registry.type('envoy.config.core.v3.Metadata');
  const parsed = messageFromJson(registry, METADATA, { filter_metadata: { b: { y: 1, x: 2 }, a: {} } });
  assert.ok(parsed.ok);
  const shuffled = METADATA.fromObject({
    // protobufjs's bundled Struct and Value have lowerCamel field names
    filter_metadata: { a: { fields: {} }, b: { fields: { x: { numberValue: 2 }, y: { numberValue: 1 } } } },
  });
  const SOCKET = registry.type('envoy.config.core.v3.SocketAddress');
  assert.deepEqual(encodeMessage(METADATA, shuffled), encodeMessage(METADATA, parsed.value));
  assert.deepEqual(
    encodeMessage(SOCKET, SOCKET.create({ address: 'a', protocol: 0, ipv4_compat: false })),
    encodeMessage(SOCKET, SOCKET.create({ address: 'a' })),
  );
});

test('a Struct nested deeper than protobuf parsers go is an error with its path, not a crash', () => {
  const METADATA = registry.type('envoy.config.core.v3.Metadata');
  const nested = (levels: number): unknown => {
    let value: unknown = 'bottom';
    for (let i = 0; i < levels; i++) value = { k: value };
    return { filter_metadata: { deep: value } };
  };
  assert.ok(messageFromJson(registry, METADATA, nested(40)).ok);
  const tooDeep = messageFromJson(registry, METADATA, nested(5000));
  assert.ok(!tooDeep.ok);
  assert.equal(tooDeep.errors.length, 1);
  assert.match(tooDeep.errors[0]!.message, /nested deeper than 100 messages/);
  assert.match(tooDeep.errors[0]!.path, /^filter_metadata\["deep"\](\["k"\])+$/, 'the path to where the limit was hit');
});

test('a Struct prints as the JSON it was written from, keys sorted, and a Value JSON cannot hold is refused with its path', () => {
  const STRUCT = registry.type('google.protobuf.Struct');
  const NODE = registry.type('envoy.config.core.v3.Node');
  const written = { zone: 'b', app: { tier: 'web', ports: [80, 443.5, true, null, { x: [] }] }, empty: {}, off: false };
  const bytes = encodeJson(registry, STRUCT, written);
  assert.ok(bytes.ok);
  const printed = messageToJson(registry, STRUCT, bytes.value);
  assert.deepEqual(printed, written);
  assert.deepEqual(Object.keys(printed), ['app', 'empty', 'off', 'zone']);
  const node = encodeJson(registry, NODE, { id: 'n1', metadata: written });
  assert.ok(node.ok);
  assert.deepEqual(messageToJson(registry, NODE, node.value), { id: 'n1', metadata: written });

  // Written by hand: Value has no kind in `k`, and NaN in the list of `n`.
  const VALUE = registry.type('google.protobuf.Value');
  const struct = (fields: Record<string, protobuf.Message>): Uint8Array =>
    encodeMessage(STRUCT, Object.assign(STRUCT.create(), { [STRUCT.fieldsArray[0]!.name]: fields }));
  const kindless = struct({ k: VALUE.create() });
  assert.throws(() => messageToJson(registry, STRUCT, kindless), /\["k"\].*no kind set/);
  const numberField = VALUE.fieldsArray.find((f) => f.id === 2)!.name;
  const listField = VALUE.fieldsArray.find((f) => f.id === 6)!.name;
  const LIST = registry.type('google.protobuf.ListValue');
  const nan = struct({
    n: Object.assign(VALUE.create(), {
      [listField]: Object.assign(LIST.create(), { [LIST.fieldsArray[0]!.name]: [Object.assign(VALUE.create(), { [numberField]: NaN })] }),
    }),
  });
  assert.throws(() => messageToJson(registry, STRUCT, nan), /\["n"\]\[0\].*cannot hold NaN/);
});
