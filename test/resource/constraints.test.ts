import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import YAML from 'yaml';
import { checkConstraints } from '../../src/resource/constraints.js';
import { fieldRules } from '../../src/resource/constraints/options.js';
import { encodeJson, type MappingError } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';

const registry = envoyProtos();
const LISTENER = registry.type('envoy.config.listener.v3.Listener');
const CLUSTER = registry.type('envoy.config.cluster.v3.Cluster');
const ROUTES = registry.type('envoy.config.route.v3.RouteConfiguration');
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = '{ name: router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }';
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function check(type: protobuf.Type, yaml: string, basePath?: string): MappingError[] {
  const encoded = encodeJson(registry, type, YAML.parse(yaml));
  assert.ok(encoded.ok, JSON.stringify(!encoded.ok && encoded.errors));
  return checkConstraints(registry, type, encoded.value, basePath);
}

const EDGE_LISTENER = `
name: edge_https
address: { socket_address: { address: 0.0.0.0, port_value: 443 } }
per_connection_buffer_limit_bytes: 32768
listener_filters:
- name: envoy.filters.listener.tls_inspector
  typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
filter_chains:
- filter_chain_match: { server_names: [www.example.com] }
  transport_socket:
    name: envoy.transport_sockets.tls
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
      common_tls_context:
        alpn_protocols: [h2, http/1.1]
        tls_params: { tls_minimum_protocol_version: TLSv1_2 }
        tls_certificates:
        - certificate_chain: { filename: /etc/envoy/tls/server.crt }
          private_key: { filename: /etc/envoy/tls/server.key }
  filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": ${HCM}
      stat_prefix: edge_https
      codec_type: AUTO
      use_remote_address: true
      common_http_protocol_options: { idle_timeout: 300s, headers_with_underscores_action: REJECT_REQUEST }
      http2_protocol_options: { max_concurrent_streams: 100, initial_stream_window_size: 65536 }
      stream_idle_timeout: 60s
      route_config:
        name: edge
        virtual_hosts:
        - name: www
          domains: [www.example.com, "www.example.com:443"]
          request_headers_to_add:
          - header: { key: x-edge, value: "1" }
            append_action: OVERWRITE_IF_EXISTS_OR_ADD
          routes:
          - match: { prefix: /api/, headers: [{ name: x-canary, string_match: { exact: "true" } }] }
            route: { cluster: api_canary, timeout: 10s, retry_policy: { retry_on: 5xx, num_retries: 2, per_try_timeout: 2s } }
          - match: { prefix: /api/ }
            route: { weighted_clusters: { clusters: [{ name: api, weight: 90 }, { name: api_canary, weight: 10 }] } }
          - match: { path: /healthz }
            direct_response: { status: 200, body: { inline_string: ok } }
          - match: { prefix: / }
            route: { cluster: web }
      http_filters: [${ROUTER}]
      access_log:
      - name: envoy.access_loggers.file
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
          path: /var/log/envoy/access.log
          log_format: { json_format: { status: "%RESPONSE_CODE%", path: "%REQ(:PATH)%" } }
`;

const API_CLUSTER = `
name: api
type: STRICT_DNS
connect_timeout: 0.25s
lb_policy: LEAST_REQUEST
dns_lookup_family: V4_ONLY
load_assignment:
  cluster_name: api
  endpoints:
  - locality: { zone: us-east-1a }
    lb_endpoints:
    - endpoint: { address: { socket_address: { address: api.internal, port_value: 8443 } } }
health_checks:
- { timeout: 1s, interval: 5s, unhealthy_threshold: 3, healthy_threshold: 2, http_health_check: { path: /healthz } }
circuit_breakers:
  thresholds: [{ priority: DEFAULT, max_connections: 1024, max_pending_requests: 1024, max_requests: 1024 }]
outlier_detection: { consecutive_5xx: 5, interval: 10s, base_ejection_time: 30s, max_ejection_percent: 50 }
typed_extension_protocol_options:
  ${HTTP_OPTIONS}:
    "@type": type.googleapis.com/${HTTP_OPTIONS}
    upstream_http_protocol_options: { auto_sni: true, auto_san_validation: true }
    explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 100 } }
transport_socket:
  name: envoy.transport_sockets.tls
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
    sni: api.internal
    common_tls_context:
      validation_context:
        trusted_ca: { filename: /etc/ssl/certs/ca-certificates.crt }
        match_typed_subject_alt_names: [{ san_type: DNS, matcher: { exact: api.internal } }]
`;

test('a realistic edge listener and cluster satisfy every constraint', () => {
  assert.deepEqual(check(LISTENER, EDGE_LISTENER), []);
  assert.deepEqual(check(CLUSTER, API_CLUSTER), []);
});

test('a port above 65535 breaks SocketAddress.port_value (uint32 lte 65535), reported at its path', () => {
  const listener = (port: number): string => `name: l\naddress: { socket_address: { address: ::1, port_value: ${port} } }`;
  assert.deepEqual(check(LISTENER, listener(70000)), [
    { path: 'address.socket_address.port_value', message: 'value must be less than or equal to 65535, got 70000' },
  ]);
  assert.deepEqual(check(LISTENER, listener(65535)), []);
  assert.deepEqual(check(LISTENER, listener(65536), 'listeners[3]'), [
    { path: 'listeners[3].address.socket_address.port_value', message: 'value must be less than or equal to 65535, got 65536' },
  ]);
});

test('listener.proto does not require an address (API and internal listeners have none)', () => {
  assert.equal(fieldRules(LISTENER.fields['address']!), undefined, 'Listener.address has no (validate.rules)');
  assert.ok(fieldRules(CLUSTER.fields['connect_timeout']!), 'while Cluster.connect_timeout has its rules');
  assert.deepEqual(check(LISTENER, 'name: internal'), []);
});

test('the payload of a typed_config Any is checked: an HttpConnectionManager without stat_prefix', () => {
  const errors = check(
    LISTENER,
    `
name: l
filter_chains:
- filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": ${HCM}
      rds: { route_config_name: r, config_source: { ads: {} } }
      http_filters: [${ROUTER}]
`,
  );
  assert.deepEqual(errors, [{ path: 'filter_chains[0].filters[0].typed_config.stat_prefix', message: 'must be at least 1 character long' }]);
});

test('Cluster.connect_timeout must be greater than 0s (duration gt {})', () => {
  for (const [timeout, shown] of [
    ['-1s', '-1s'],
    ['0s', '0s'],
    ['-0.5s', '-0.500s'],
  ]) {
    assert.deepEqual(check(CLUSTER, `name: c\nconnect_timeout: ${timeout}`), [
      { path: 'connect_timeout', message: `value must be greater than 0s, got ${shown}` },
    ]);
  }
  assert.deepEqual(check(CLUSTER, 'name: c\nconnect_timeout: 0.000000001s'), []);
  assert.deepEqual(check(CLUSTER, 'name: c'), [], 'unset: the rule applies only to a set Duration');
});

test('repeated min_items: a virtual host needs at least one domain', () => {
  const errors = check(ROUTES, 'name: r\nvirtual_hosts: [{ name: vh, domains: [], routes: [] }]');
  assert.deepEqual(errors, [{ path: 'virtual_hosts[0].domains', message: 'must have at least 1 item' }]);
});

test('defined_only: an enum number the enum does not define', () => {
  const errors = check(LISTENER, 'name: l\naddress: { socket_address: { address: ::1, port_value: 80, protocol: 7 } }');
  const message = '7 is not a defined value of envoy.config.core.v3.SocketAddress.Protocol';
  assert.deepEqual(errors, [{ path: 'address.socket_address.protocol', message }]);
});

test('well_known_regex HTTP_HEADER_NAME: loose (strict: false) and strict, with ignore_empty', () => {
  const route = (name: string): string => `
name: r
virtual_hosts:
- name: vh
  domains: ["*"]
  routes: [{ match: { prefix: /, headers: [{ name: ${JSON.stringify(name)}, present_match: true }] }, route: { cluster: c } }]`;
  const message = 'must be a valid HTTP header name, got "x-bad\\nname"';
  assert.deepEqual(check(ROUTES, route('x-bad\nname')), [{ path: 'virtual_hosts[0].routes[0].match.headers[0].name', message }]);
  assert.deepEqual(check(ROUTES, route('x with space')), [], 'strict: false only excludes NUL, CR and LF');

  const sni = (header: string): string => `
name: c
typed_extension_protocol_options:
  ${HTTP_OPTIONS}:
    "@type": type.googleapis.com/${HTTP_OPTIONS}
    upstream_http_protocol_options: { auto_sni: true, override_auto_sni_header: ${JSON.stringify(header)} }
    explicit_http_config: { http_protocol_options: {} }`;
  assert.deepEqual(check(CLUSTER, sni('x with space')), [
    {
      path: `typed_extension_protocol_options["${HTTP_OPTIONS}"].upstream_http_protocol_options.override_auto_sni_header`,
      message: 'must be a valid HTTP header name, got "x with space"',
    },
  ]);
  assert.deepEqual(check(CLUSTER, sni(':authority')), []);
  assert.deepEqual(check(CLUSTER, sni('')), [], 'ignore_empty: an unset header name is not checked');
});

test('a required oneof: a Route must have an action', () => {
  const errors = check(ROUTES, 'name: r\nvirtual_hosts: [{ name: vh, domains: ["*"], routes: [{ match: { prefix: / } }] }]');
  const message = 'is required: set one of route, redirect, direct_response, filter_action, non_forwarding_action';
  assert.deepEqual(errors, [{ path: 'virtual_hosts[0].routes[0].action', message }]);
});

test('rules on a wrapper apply to the wrapped value when the wrapper is set', () => {
  assert.deepEqual(check(LISTENER, 'name: l\nmax_connections_to_accept_per_socket_event: 0'), [
    { path: 'max_connections_to_accept_per_socket_event', message: 'value must be greater than 0, got 0' },
  ]);
  assert.deepEqual(check(LISTENER, 'name: l\nmax_connections_to_accept_per_socket_event: 1'), []);
});

test('map key rules: Metadata.filter_metadata keys must not be empty', () => {
  const errors = check(LISTENER, 'name: l\nmetadata: { filter_metadata: { "": { a: 1 }, ok: { b: 2 } } }');
  assert.deepEqual(errors, [{ path: 'metadata.filter_metadata[""]', message: 'key must be at least 1 character long' }]);
});

test('every violation in a resource is reported', () => {
  const errors = check(
    LISTENER,
    `
name: l
address: { socket_address: { address: "", port_value: 70000, protocol: 9 } }
filter_chains:
- filters:
  - name: hcm
    typed_config:
      "@type": ${HCM}
      codec_type: 42
      route_config:
        virtual_hosts:
        - { name: vh, domains: [], routes: [{ match: { prefix: / } }] }
      access_log:
      - name: file
        typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog }
`,
  );
  const hcm = 'filter_chains[0].filters[0].typed_config';
  const codecType = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType';
  assert.deepEqual(errors, [
    { path: 'address.socket_address.protocol', message: '9 is not a defined value of envoy.config.core.v3.SocketAddress.Protocol' },
    { path: 'address.socket_address.address', message: 'must be at least 1 character long' },
    { path: 'address.socket_address.port_value', message: 'value must be less than or equal to 65535, got 70000' },
    { path: `${hcm}.codec_type`, message: `42 is not a defined value of ${codecType}` },
    { path: `${hcm}.stat_prefix`, message: 'must be at least 1 character long' },
    { path: `${hcm}.route_config.virtual_hosts[0].domains`, message: 'must have at least 1 item' },
    {
      path: `${hcm}.route_config.virtual_hosts[0].routes[0].action`,
      message: 'is required: set one of route, redirect, direct_response, filter_action, non_forwarding_action',
    },
    { path: `${hcm}.access_log[0].typed_config.path`, message: 'must be at least 1 character long' },
  ]);
});

/**
 * Rule kinds Envoy's protos do not use (or not in a convenient place), on messages made up for
 * the purpose. protobufjs parses options without knowing them, so no validate.proto is needed.
 */
const made = new protobuf.Root();
made.loadSync(['any', 'duration', 'timestamp', 'wrappers'].map((name) => `google/protobuf/${name}.proto`));
protobuf.parse(
  `
syntax = "proto3";
package made;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
message Numbers {
  int32 outside = 1 [(validate.rules).int32 = {gt: 10, lt: 5}];
  int64 big = 2 [(validate.rules).int64.lte = 9007199254740992];
  sint32 even = 3 [(validate.rules).sint32 = {in: [0, 2, 4]}];
  fixed32 odd = 4 [(validate.rules).fixed32 = {not_in: [1, 3]}];
  float ratio = 5 [(validate.rules).float.lte = 0.3];
  uint32 port = 6 [(validate.rules).uint32 = {ignore_empty: true, gte: 1024}];
  double inside = 7 [(validate.rules).double = {gte: -1, lt: 1}];
  google.protobuf.UInt32Value seven = 8 [(validate.rules).uint32.const = 7];
  bool off = 9 [(validate.rules).bool.const = false];
}
message Strings {
  string two = 1 [(validate.rules).string = {len: 2, ignore_empty: true}];
  string short = 2 [(validate.rules).string.max_bytes = 4];
  string affixes = 3 [(validate.rules).string = {prefix: "a", suffix: "z", contains: "m", not_contains: "x", ignore_empty: true}];
  string word = 4 [(validate.rules).string = {pattern: "[a-z]+", ignore_empty: true}];
  string re2_only = 5 [(validate.rules).string.pattern = "^a\\\\z"];
  string scheme = 6 [(validate.rules).string = {in: ["http", "https"], ignore_empty: true}];
  string host = 7 [(validate.rules).string = {hostname: true, ignore_empty: true}];
  string ip = 8 [(validate.rules).string = {ip: true, ignore_empty: true}];
  string address = 9 [(validate.rules).string = {address: true, ignore_empty: true}];
  string value = 10 [(validate.rules).string = {well_known_regex: HTTP_HEADER_VALUE, ignore_empty: true}];
  string future = 11 [(validate.rules).string = {max_len: 3, some_future_rule: true}, (validate.rules).future_kind = {x: 1}];
}
message Collections {
  enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; BLUE = 3; }
  Color not_blue = 1 [(validate.rules).enum.not_in = 3];
  Color primary = 2 [(validate.rules).enum = {in: [0, 1, 2]}];
  Color red = 3 [(validate.rules).enum.const = 1];
  repeated string tags = 4 [(validate.rules).repeated = {max_items: 3, unique: true, items: {string: {min_len: 1}}}];
  repeated uint32 ports = 5 [(validate.rules).repeated = {ignore_empty: true, min_items: 2}];
  map<string, Item> items = 6 [(validate.rules).map = {no_sparse: true, max_pairs: 2, keys: {string: {prefix: "k"}}}];
  map<int64, string> labels = 7 [(validate.rules).map.values.string.max_len = 3];
  repeated Item skipped = 8 [(validate.rules).repeated.items.message.skip = true];
  Disabled disabled = 9;
  bytes raw = 10 [(validate.rules).bytes = {max_len: 2}];
}
message Item { string name = 1 [(validate.rules).string.min_len = 1]; }
message Disabled { option (validate.disabled) = true; string name = 1 [(validate.rules).string.min_len = 1]; }
message Times {
  google.protobuf.Duration timeout = 1 [(validate.rules).duration = {required: true, lt {seconds: 5}, gte {nanos: 1000000}}];
  google.protobuf.Duration step = 2 [(validate.rules).duration = {in {seconds: 1} in {seconds: 2}}];
  google.protobuf.Timestamp after = 3 [(validate.rules).timestamp = {gt {seconds: 1600000000}}];
  google.protobuf.Any config = 4
      [(validate.rules).any = {required: true, in: ["type.googleapis.com/envoy.config.core.v3.SocketAddress"]}];
}
`,
  made,
  { keepCase: true },
);
made.resolveAll();

test('numbers: exclusive ranges, 64-bit bounds, in, not_in, float32 bounds, ignore_empty, wrappers, bool', () => {
  const type = made.lookupType('made.Numbers');
  assert.deepEqual(check(type, '{}'), []);
  const valid = '{ outside: 12, big: "9007199254740992", even: 4, odd: 2, ratio: 0.3, inside: -1, seven: 7 }';
  assert.deepEqual(check(type, valid), []);
  const invalid = '{ outside: 7, big: "9007199254740993", even: 3, odd: 3, port: 80, inside: 1, seven: 0, off: true }';
  assert.deepEqual(check(type, invalid), [
    { path: 'outside', message: 'value must be less than 5 or greater than 10, got 7' },
    { path: 'big', message: 'value must be less than or equal to 9007199254740992, got 9007199254740993' },
    { path: 'even', message: 'value must be one of 0, 2, 4, got 3' },
    { path: 'odd', message: 'value must not be one of 1, 3' },
    { path: 'port', message: 'value must be greater than or equal to 1024, got 80' },
    { path: 'inside', message: 'value must be greater than or equal to -1 and less than 1, got 1' },
    { path: 'seven', message: 'value must equal 7, got 0' },
    { path: 'off', message: 'value must be false, got true' },
  ]);
});

test('strings: lengths in characters and bytes, affixes, full-match patterns, in, formats; unknown rules ignored', () => {
  const type = made.lookupType('made.Strings');
  const valid = `{ two: "é😀", short: "éé", affixes: amz, word: abc, re2_only: b, scheme: https, host: api.example.com.,
    ip: "::1", address: 10.0.0.1, value: "tab\\there", future: abc }`;
  assert.deepEqual(check(type, valid), []);
  const invalid = `{ two: "é😀x", short: "éé€", affixes: axz, word: abc1, scheme: ftp, host: -bad-.com,
    ip: 10.0.0.256, address: "bad host", value: "a\\u0001b", future: abcd }`;
  assert.deepEqual(check(type, invalid), [
    { path: 'two', message: 'must be exactly 2 characters long, got 3' },
    { path: 'short', message: 'must be at most 4 bytes long, got 7' },
    { path: 'affixes', message: 'must contain "m", got "axz"' },
    { path: 'affixes', message: 'must not contain "x", got "axz"' },
    { path: 'word', message: 'must match the regular expression "[a-z]+", got "abc1"' },
    { path: 'scheme', message: 'must be one of "http", "https", got "ftp"' },
    { path: 'host', message: 'must be a valid hostname, got "-bad-.com"' },
    { path: 'ip', message: 'must be a valid IP address, got "10.0.0.256"' },
    { path: 'address', message: 'must be a valid hostname or IP address, got "bad host"' },
    { path: 'value', message: 'must be a valid HTTP header value, got "a\\u0001b"' },
    { path: 'future', message: 'must be at most 3 characters long, got 4' },
  ]);
});

test('enums, repeated, maps (64-bit keys too), bytes, message skip and disabled messages', () => {
  const type = made.lookupType('made.Collections');
  assert.deepEqual(check(type, '{ red: RED, tags: [a, b], items: { k1: { name: x } }, labels: { "-5": abc }, raw: AQI= }'), []);
  const errors = check(
    type,
    `{ not_blue: BLUE, primary: BLUE, red: GREEN, tags: [a, "", a, b], ports: [80],
    items: { k1: { name: x }, x2: {}, k3: { name: y } }, labels: { "-5": abcd }, skipped: [{}], disabled: {}, raw: AQID }`,
  );
  assert.deepEqual(errors, [
    { path: 'not_blue', message: 'must not be BLUE' },
    { path: 'primary', message: 'must be one of COLOR_UNSPECIFIED, RED, GREEN, got BLUE' },
    { path: 'red', message: 'must be RED, got GREEN' },
    { path: 'tags', message: 'must have at most 3 items, got 4' },
    { path: 'tags[2]', message: 'must be unique, but repeats item [0]' },
    { path: 'tags[1]', message: 'must be at least 1 character long' },
    { path: 'ports', message: 'must have at least 2 items' },
    { path: 'items', message: 'must have at most 2 entries, got 3' },
    { path: 'items["x2"]', message: 'key must start with "k", got "x2"' },
    { path: 'items["x2"].name', message: 'must be at least 1 character long' },
    { path: 'labels["-5"]', message: 'must be at most 3 characters long, got 4' },
    { path: 'raw', message: 'must be at most 2 bytes long, got 3' },
  ]);
  // A map entry without its value cannot be written in JSON: build the bytes by hand.
  const sparse = protobuf.Writer.create()
    .uint32((6 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string('k1')
    .ldelim();
  assert.deepEqual(checkConstraints(registry, type, sparse.finish()), [
    { path: 'red', message: 'must be RED, got COLOR_UNSPECIFIED' },
    { path: 'items["k1"]', message: 'must have a value: map entries must not be empty' },
  ]);
});

test('durations, timestamps and Any: required, ranges, in, and the Any payload', () => {
  const type = made.lookupType('made.Times');
  assert.deepEqual(check(type, '{}'), [
    { path: 'timeout', message: 'is required' },
    { path: 'config', message: 'is required' },
  ]);
  const socketUrl = 'type.googleapis.com/envoy.config.core.v3.SocketAddress';
  const socket = `{ "@type": ${socketUrl}, address: ::1, port_value: 80 }`;
  assert.deepEqual(check(type, `{ timeout: 0.001s, step: 2s, after: "2021-01-01T00:00:00Z", config: ${socket} }`), []);
  const pipe = '{ "@type": type.googleapis.com/envoy.config.core.v3.Pipe, mode: 1000 }';
  assert.deepEqual(check(type, `{ timeout: 5s, step: 1.5s, after: "2020-01-01T00:00:00Z", config: ${pipe} }`), [
    { path: 'timeout', message: 'value must be greater than or equal to 0.001s and less than 5s, got 5s' },
    { path: 'step', message: 'value must be one of 1s, 2s, got 1.500s' },
    { path: 'after', message: 'value must be greater than 2020-09-13T12:26:40.000Z, got 2020-01-01T00:00:00.000Z' },
    {
      path: 'config["@type"]',
      message: `must be one of "${socketUrl}", got "type.googleapis.com/envoy.config.core.v3.Pipe"`,
    },
    { path: 'config.path', message: 'must be at least 1 character long' },
    { path: 'config.mode', message: 'value must be less than or equal to 511, got 1000' },
  ]);
});
