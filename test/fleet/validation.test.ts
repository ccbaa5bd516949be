import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIssue, parseConfig, type ConfigIssue } from '../../src/fleet/config.js';
import { demoConfig } from '../support/fleet-configs.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import protobuf from 'protobufjs';
import { envoyProtos } from '../../src/resource/protos.js';

/** The errors of a config that must be rejected. */
function errorsOf(yaml: string): ConfigIssue[] {
  const result = parseConfig(yaml, 'fleet.yaml');
  assert.equal(result.ok, false, 'the config should have been rejected');
  return result.ok ? [] : [...result.errors];
}

function expectError(yaml: string, path: string, message: RegExp): void {
  const errors = errorsOf(yaml);
  const hit = errors.find((e) => e.path === path);
  assert.ok(hit, `no error at ${path}; got:\n${errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  assert.match(hit.message, message);
}

const L0 = 'groups[0].listeners[0]';
const HCM0 = `${L0}.filter_chains[0].filters[0].typed_config`;

describe('config validation: one case per kind of error, each with its path', () => {
  test('YAML syntax, with the line and column, on one line', () => {
    const [e] = errorsOf('groups:\n  - name: [unclosed\n');
    assert.equal(e!.line, 3);
    assert.equal(typeof e!.column, 'number');
    assert.doesNotMatch(formatIssue('f.yaml', e!), /\n/);
    assert.match(formatIssue('f.yaml', e!), /^f\.yaml:3:\d+: /);
  });

  test('duplicate YAML keys', () => {
    const [e] = errorsOf('groups: []\ngroups: []\n');
    assert.match(e!.message, /unique|duplicate/i);
  });

  test('unknown top-level, group and match keys', () => {
    expectError('grups: []\n', 'grups', /unknown key "grups"/);
    expectError(demoConfig().replace('    match:', '    listenrs: []\n    match:'), 'groups[0].listenrs', /unknown key/);
    expectError(demoConfig().replace('match: { cluster:', 'match: { clustr:'), 'groups[0].match.clustr', /unknown key/);
  });

  test('a group must match something', () => {
    expectError(demoConfig().replace(/match: \{ cluster: \S+ \}/, 'match: {}'), 'groups[0].match', /at least one of cluster, ids, metadata/);
  });

  test('proto3 JSON: unknown field, bad enum, bad duration, bad @type', () => {
    expectError(
      demoConfig().replace('stat_prefix: ingress_http', 'stat_prefix: ingress_http\n                  stat_prefx: x'),
      `${HCM0}.stat_prefx`,
      /unknown field "stat_prefx"/,
    );
    expectError(demoConfig().replace('traffic_direction: INBOUND', 'traffic_direction: INWARD'), `${L0}.traffic_direction`, /INWARD/);
    expectError(
      demoConfig().replace('connect_timeout: 1s', 'connect_timeout: 1 minute'),
      'groups[0].clusters[0].connect_timeout',
      /invalid duration/,
    );
    expectError(
      demoConfig().replace('http_connection_manager.v3.HttpConnectionManager', 'http_connection_manager.v3.HttpConectionManager'),
      `${HCM0}["@type"]`,
      /HttpConectionManager/,
    );
  });

  test('references: RDS route config, route cluster, EDS endpoints', () => {
    expectError(
      demoConfig().replace('route_config_name: ingress_http_routes', 'route_config_name: nowhere'),
      `${HCM0}.rds.route_config_name`,
      /route config "nowhere" is not among/,
    );
    expectError(
      demoConfig().replace('route: { cluster: app }', 'route: { cluster: missing }'),
      'groups[0].routes[0].virtual_hosts[0].routes[0].route.cluster',
      /cluster "missing" is not among/,
    );
    const noEndpoints = demoConfig().replace(/\n    endpoints:[\s\S]*$/, '\n');
    expectError(noEndpoints, 'groups[0].clusters[0].eds_cluster_config', /EDS cluster "app" has no endpoints entry/);
  });

  test('references: a TCP proxy cluster', () => {
    const tcp = `groups:
  - name: tcp
    match: { cluster: tcp }
    listeners:
      - name: db
        traffic_direction: INBOUND
        address: { socket_address: { address: 0.0.0.0, port_value: 5432 } }
        filter_chains:
          - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: db
                  cluster: db_primary
`;
    expectError(tcp, 'groups[0].listeners[0].filter_chains[0].filters[0].typed_config.cluster', /cluster "db_primary" is not among/);
  });

  test('duplicate names and two listeners on one address', () => {
    const dupName = demoConfig({ egress: [{ name: 'ingress_http', port: 15001 }] });
    expectError(dupName, 'groups[0].listeners[1].name', /duplicate listeners name "ingress_http"/);
    const sameAddress = demoConfig({ egress: [{ name: 'egress_http', port: 10000 }] });
    expectError(sameAddress, 'groups[0].listeners[1].address', /same address as listener "ingress_http"/);
    const dupGroup = `${demoConfig()}${demoConfig().replace('groups:\n', '')}`;
    expectError(dupGroup, 'groups[1].name', /duplicate group name "demo"/);
  });

  test('filter chains of one listener with the same match (Envoy rejects the listener)', () => {
    const yaml = demoConfig().replace(/( +)filter_chains:\n/, (all, indent: string) => `${all}${indent}  - filters: []\n`);
    expectError(yaml, `${L0}.filter_chains[1].filter_chain_match`, /same filter_chain_match as filter_chains\[0\] of listener "ingress_http"/);
  });

  test('an HTTP router that is not the last HTTP filter, with its line and column (Envoy rejects the listener)', () => {
    const router = '                    - name: envoy.filters.http.router\n';
    const cors =
      '                    - name: envoy.filters.http.cors\n                      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }\n';
    const yaml = demoConfig().replace(/( +- name: envoy\.filters\.http\.router\n.*\n)/, `$1${cors}`);
    assert.ok(yaml.includes(router) && yaml.includes('http.cors'));
    const path = `${HCM0}.http_filters[0]`;
    expectError(yaml, path, /"envoy\.filters\.http\.router" ends a filter chain, so it must be the last one \(listener "ingress_http"\)/);
    expectError(yaml, `${HCM0}.http_filters[1]`, /last HTTP filter of listener "ingress_http" must be a terminal filter/);
    const e = errorsOf(yaml).find((x) => x.path === path)!;
    assert.match(
      formatIssue('fleet.yaml', e),
      /^fleet\.yaml:\d+:\d+: groups\[0\]\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters\[0\]: /,
    );
    assert.equal(yaml.split('\n')[e.line! - 1]!.trim(), '- name: envoy.filters.http.router');
  });

  test('a network filter after the HTTP connection manager, and a filter without typed_config', () => {
    const tcp = '              - name: envoy.filters.network.tcp_proxy\n';
    const second = demoConfig().replace(/( +)http_filters:\n(.*\n){2}/, (all) => `${all}${tcp}`);
    expectError(second, `${L0}.filter_chains[0].filters[0]`, /"envoy\.filters\.network\.http_connection_manager" ends a filter chain/);
    expectError(second, `${L0}.filter_chains[0].filters[1].typed_config`, /is required: Envoy finds the network filter by its typed_config/);
  });

  test('a listener without an address or a filter chain', () => {
    const noAddress = demoConfig().replace(/ +address: \{ socket_address: \{ address: 127\.0\.0\.1, port_value: 10000 \} \}\n/, '');
    expectError(noAddress, `${L0}.address`, /is required: listener "ingress_http" needs an address/);
    const noChains = demoConfig({ egress: [] }).replace(/( +)filter_chains:\n[\s\S]*?(\n    routes:)/, '$1filter_chains: []$2');
    expectError(noChains, `${L0}.filter_chains`, /listener "ingress_http" has no filter chain/);
  });

  test('an EDS cluster without its eds_config, and a domain listed twice in a route config', () => {
    const noEds = demoConfig().replace('eds_cluster_config: { eds_config: { ads: {}, resource_api_version: V3 } }', 'eds_cluster_config: {}');
    expectError(
      noEds,
      'groups[0].clusters[0].eds_cluster_config.eds_config',
      /is required: EDS cluster "app" must say where its endpoints come from/,
    );
    const twice = demoConfig().replace('domains: ["*"]', 'domains: ["Example.com", "example.com"]');
    expectError(
      twice,
      'groups[0].routes[0].virtual_hosts[0].domains[1]',
      /domain "example\.com" is already listed at virtual_hosts\[0\]\.domains\[0\]/,
    );
  });

  test('a resource name with a control character', () => {
    const tab = demoConfig({ egress: [{ name: 'egress\thttp', port: 15001 }] });
    expectError(tab, 'groups[0].listeners[1].name', /listeners name "egress\\thttp" contains a control character/);
  });

  test('a resource without its name', () => {
    expectError(
      demoConfig().replace('- name: app\n        connect_timeout', '- connect_timeout'),
      'groups[0].clusters[0].name',
      /is required|at least 1 character/,
    );
  });

  test('a file with several errors reports all of them, each with a line', () => {
    const broken = demoConfig()
      .replace('traffic_direction: INBOUND', 'traffic_direction: SIDEWAYS')
      .replace('connect_timeout: 1s', 'connect_timeout: soon')
      .replace('route: { cluster: app }', 'route: { cluster: nobody }')
      .replace('match: { cluster: test-cluster }', 'match: { cluster: test-cluster, colour: blue }');
    const errors = errorsOf(broken);
    assert.deepEqual(errors.map((e) => e.path).sort(), [
      'groups[0].clusters[0].connect_timeout',
      'groups[0].listeners[0].traffic_direction',
      'groups[0].match.colour',
      'groups[0].routes[0].virtual_hosts[0].routes[0].route.cluster',
    ]);
    assert.ok(errors.every((e) => typeof e.line === 'number' && e.line > 0));
  });
});

test("Envoy's PGV rules are checked in a resource that also has mapping errors: a user fixing the file meets every error at once", () => {
  const broken = demoConfig()
    .replace('traffic_direction: INBOUND', 'traffic_direction: SIDEWAYS')
    .replace('stat_prefix: ingress_http', "stat_prefix: ''");
  const paths = errorsOf(broken).map((e) => e.path);
  assert.ok(paths.includes(`${L0}.traffic_direction`), paths.join('\n'));
  assert.ok(paths.includes(`${HCM0}.stat_prefix`), paths.join('\n'));
});

test('a value that did not parse is reported once, not again as a missing required field', () => {
  const broken = demoConfig().replace(/port_value: 10000/, 'port_value: lots');
  const errors = errorsOf(broken).filter((e) => e.path.startsWith(`${L0}.address`));
  assert.equal(errors.length, 1, errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
});

describe('config warnings', () => {
  test('a listener without traffic_direction, and an ingress listener set to MODIFY_ONLY', () => {
    const yaml = demoConfig()
      .replace('traffic_direction: OUTBOUND', '')
      .replace('traffic_direction: INBOUND', 'traffic_direction: INBOUND\n        drain_type: MODIFY_ONLY');
    const result = parseConfig(yaml, 'fleet.yaml');
    assert.ok(result.ok);
    const messages = result.config.warnings.map((w) => `${w.path}: ${w.message}`);
    assert.ok(
      messages.some((m) => /listeners\[0\]\.drain_type: .*MODIFY_ONLY: \/healthcheck\/fail will not drain it/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /listeners\[1\]: .*no traffic_direction/.test(m)),
      messages.join('\n'),
    );
    const egress = result.config.groups[0]!.listeners.find((l) => l.name === 'egress_http')!;
    assert.deepEqual(egress, {
      name: 'egress_http',
      role: 'unspecified',
      drainType: 'DEFAULT',
      tcpProxy: null,
      statAddress: '127.0.0.1_15001',
      httpPrefixes: ['egress_http'],
    });
  });
});

test('an egress listener set to DEFAULT is warned about: failing health would drain it with ingress', () => {
  const yaml = demoConfig().replace('traffic_direction: OUTBOUND', 'traffic_direction: OUTBOUND\n        drain_type: DEFAULT');
  const result = parseConfig(yaml, 'fleet.yaml');
  assert.ok(result.ok);
  assert.ok(result.config.warnings.some((w) => w.path === 'groups[0].listeners[1].drain_type' && /egress listener .* is DEFAULT/.test(w.message)));
});

describe('reading a config again', () => {
  const resourcesOf = (yaml: string) => {
    const result = parseConfig(yaml, 'fleet.yaml');
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
    return result.config.groups[0]!.resources;
  };

  test('resources left as they were are the ones read before; a changed one is read anew', () => {
    const before = resourcesOf(demoConfig());
    const after = resourcesOf(demoConfig().replace('port_value: 10000', 'port_value: 10001'));
    const [ingress, egress] = after.get(TypeUrl.Listener)!;
    assert.notEqual(ingress, before.get(TypeUrl.Listener)![0]);
    assert.notDeepEqual(ingress!.bytes, before.get(TypeUrl.Listener)![0]!.bytes);
    assert.equal(egress, before.get(TypeUrl.Listener)![1]);
    assert.deepEqual(after.get(TypeUrl.Cluster), before.get(TypeUrl.Cluster));
    assert.equal(after.get(TypeUrl.Cluster)![0], before.get(TypeUrl.Cluster)![0]);
  });

  test('numbers JSON cannot tell apart (-0 and 0) are read each time, never mistaken for each other', () => {
    const withPanic = (value: string) =>
      demoConfig().replace('connect_timeout: 1s', `connect_timeout: 1s\n        common_lb_config: { healthy_panic_threshold: { value: ${value} } }`);
    const negative = resourcesOf(withPanic('-0.0')).get(TypeUrl.Cluster)![0]!;
    const positive = resourcesOf(withPanic('0.0')).get(TypeUrl.Cluster)![0]!;
    assert.notEqual(positive, negative);
    assert.equal(positive.version, resourcesOf(withPanic('0')).get(TypeUrl.Cluster)![0]!.version);
  });

  test('a value an explicit YAML tag makes (a date) is never mistaken for the plain string JSON would write for it', () => {
    const prefixed = (value: string) => demoConfig().replace('stat_prefix: ingress_http', `stat_prefix: ${value}`);
    resourcesOf(prefixed('"2024-01-01T00:00:00.000Z"'));
    expectError(prefixed('!!timestamp 2024-01-01'), `${HCM0}.stat_prefix`, /string/);
  });

  test("no rule of Envoy's API compares with the time of the check, which would make a resource read before stale", () => {
    const timeRelative: string[] = [];
    const walk = (ns: protobuf.NamespaceBase): void => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type) {
          for (const field of nested.fieldsArray) {
            if (/lt_now|gt_now|within/.test(JSON.stringify([field.options ?? {}, field.parsedOptions ?? []]))) timeRelative.push(field.fullName);
          }
        }
        if (nested instanceof protobuf.Namespace) walk(nested);
      }
    };
    walk(envoyProtos().root);
    assert.deepEqual(timeRelative, []);
  });

  test('a resource with an error gets it again, with its path, each time it is read', () => {
    const bad = demoConfig().replace('connect_timeout: 1s', 'connect_timeout: soon');
    for (let i = 0; i < 3; i++) expectError(bad, 'groups[0].clusters[0].connect_timeout', /duration/i);
  });
});
