import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { formatIssue, parseConfig } from '../../../src/fleet/config.js';
import { importBootstrap, type ImportOptions, type ImportResult } from '../../../src/fleet/import/import-bootstrap.js';
import type { Role } from '../../../src/fleet/import/listener-roles.js';
import { readStaticBootstrap } from '../../../src/fleet/import/static-bootstrap.js';
import { createTestPki } from '../../support/test-pki.js';
import { edgeBootstrap, httpListener, staticCluster, yaml } from './bootstrap-fixture.js';

type Json = Record<string, any>; // parsed output documents, read by the assertions

const XDS = { cluster: 'drainplane', host: '127.0.0.1', port: 18000 };

function imported(text: string, options: Partial<ImportOptions> = {}): ImportResult {
  const read = readStaticBootstrap(text, 'envoy.yaml');
  if (!read.ok) return { ok: false, errors: read.errors, warnings: [] };
  return importBootstrap(read.bootstrap, { roles: new Map(), xds: XDS, ...options });
}

function files(text: string, options: Partial<ImportOptions> = {}): { config: Json; bootstrap: Json; configText: string; bootstrapText: string } {
  const result = imported(text, options);
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => formatIssue('envoy.yaml', e)).join('\n'));
  return {
    config: YAML.parse(result.files.config) as Json,
    bootstrap: YAML.parse(result.files.bootstrap) as Json,
    configText: result.files.config,
    bootstrapText: result.files.bootstrap,
  };
}

/** The errors as `drainplane import` prints them. */
function errors(text: string, options: Partial<ImportOptions> = {}): string[] {
  const result = imported(text, options);
  assert.equal(result.ok, false, 'the bootstrap is refused');
  return result.ok ? [] : result.errors.map((e) => formatIssue('envoy.yaml', e));
}

const roles = (entries: [string, Role][]): Map<string, Role> => new Map(entries);

describe('drainplane import: the conversion', () => {
  test('roles come from traffic_direction, in either spelling; the config passes the config check', () => {
    const b = edgeBootstrap();
    const [ingress, egress] = b['static_resources'].listeners as Json[];
    delete egress!['traffic_direction'];
    egress!['trafficDirection'] = 'OUTBOUND';
    const out = files(yaml(b));
    const group = out.config['groups'][0];
    assert.deepEqual(group.match, { cluster: 'edge' });
    assert.equal(group.name, 'edge');
    assert.deepEqual(group.listeners, [ingress, egress], 'listeners as written');
    const checked = parseConfig(out.configText, 'drainplane.yaml');
    assert.ok(checked.ok, JSON.stringify(!checked.ok && checked.errors));
    assert.deepEqual(
      checked.config.groups[0]!.listeners.map((l) => [l.name, l.role, l.drainType]),
      [
        ['ingress_http', 'ingress', 'DEFAULT'],
        ['egress_http', 'egress', 'MODIFY_ONLY'],
      ],
    );
    assert.deepEqual(checked.config.warnings, []);
  });

  test('roles given fill listeners without traffic_direction, written right after the name', () => {
    const b = edgeBootstrap();
    for (const l of b['static_resources'].listeners as Json[]) delete l['traffic_direction'];
    const out = files(yaml(b), {
      roles: roles([
        ['ingress_http', 'ingress'],
        ['egress_http', 'egress'],
      ]),
    });
    const listeners = out.config['groups'][0].listeners as Json[];
    assert.deepEqual(
      listeners.map((l) => Object.keys(l).slice(0, 2)),
      [
        ['name', 'traffic_direction'],
        ['name', 'traffic_direction'],
      ],
    );
    assert.deepEqual(
      listeners.map((l) => l['traffic_direction']),
      ['INBOUND', 'OUTBOUND'],
    );
  });

  test('every listener without a role is listed with its line and column', () => {
    const b = edgeBootstrap();
    for (const l of b['static_resources'].listeners as Json[]) delete l['traffic_direction'];
    const text = yaml(b);
    const lineOf = (name: string) => text.split('\n').findIndex((line) => line.includes(`name: ${name}`)) + 1;
    assert.deepEqual(errors(text, { roles: roles([['egress_http', 'egress']]) }), [
      `envoy.yaml:${lineOf('ingress_http')}:7: static_resources.listeners[0]: listener "ingress_http" has no traffic_direction and no role is given for it: ingress or egress?`,
    ]);
    assert.equal(errors(text).length, 2);
  });

  test('a role against the traffic_direction, or for a listener the bootstrap lacks, is refused', () => {
    const messages = errors(yaml(edgeBootstrap()), {
      roles: roles([
        ['ingress_http', 'egress'],
        ['admin_http', 'ingress'],
      ]),
    });
    assert.equal(messages.length, 2);
    assert.match(
      messages[0]!,
      /^envoy\.yaml:\d+:\d+: static_resources\.listeners\[0\]\.traffic_direction: listener "ingress_http" is INBOUND \(ingress\), but the role egress is given/,
    );
    assert.match(
      messages[1]!,
      /a role is given for listener "admin_http", which the bootstrap does not have \(its listeners: ingress_http, egress_http\)/,
    );
  });

  test('a bootstrap that already has a dynamic config source is refused, each source at its line and column', () => {
    const text = `node: { id: a, cluster: b }
dynamic_resources:
  lds_config: { ads: {}, resource_api_version: V3 }
  ads_config:
    api_type: GRPC
static_resources:
  listeners: []
`;
    assert.deepEqual(errors(text), [
      'envoy.yaml:3:15: dynamic_resources.lds_config: this Envoy already takes its config from a control plane: import moves static listeners and clusters only',
      'envoy.yaml:5:5: dynamic_resources.ads_config: this Envoy already takes its config from a control plane: import moves static listeners and clusters only',
      'envoy.yaml:7:14: static_resources.listeners: no static listeners: there is nothing to import',
    ]);
  });

  test('static secrets move to SDS, the references to them ask ADS; secrets only kept clusters use stay static', async () => {
    const pki = await createTestPki();
    try {
      const server = await pki.issue('server', { sans: ['DNS:localhost'] });
      const b = edgeBootstrap();
      const tls = (type: string, context: Json): Json => ({
        name: 'envoy.transport_sockets.tls',
        typed_config: { '@type': `type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.${type}`, ...context },
      });
      const [ingress] = b['static_resources'].listeners as Json[];
      ingress!['filter_chains'][0].transport_socket = tls('DownstreamTlsContext', {
        common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'server_cert' }] },
      });
      const statsd = (b['static_resources'].clusters as Json[]).find((c) => c['name'] === 'statsd')!;
      statsd['transport_socket'] = tls('UpstreamTlsContext', { common_tls_context: { validationContextSdsSecretConfig: { name: 'stats_ca' } } });
      b['static_resources'].secrets = [
        { name: 'server_cert', tls_certificate: { certificate_chain: { filename: server.cert }, private_key: { filename: server.key } } },
        { name: 'stats_ca', validation_context: { trusted_ca: { filename: pki.caCert } } },
      ];
      const out = files(yaml(b));
      const group = out.config['groups'][0];
      assert.deepEqual(
        group.secrets.map((s: Json) => s['name']),
        ['server_cert'],
      );
      const listenerTls = group.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context;
      assert.deepEqual(listenerTls.tls_certificate_sds_secret_configs, [
        { name: 'server_cert', sds_config: { ads: {}, resource_api_version: 'V3' } },
      ]);
      // The statsd cluster stays static, and with it the CA it names (from the bootstrap, as before).
      assert.deepEqual(
        out.bootstrap['static_resources'].secrets.map((s: Json) => s['name']),
        ['stats_ca'],
      );
      const keptStatsd = (out.bootstrap['static_resources'].clusters as Json[]).find((c) => c['name'] === 'statsd')!;
      assert.deepEqual(keptStatsd['transport_socket'], statsd['transport_socket']);
      const checked = parseConfig(out.configText, 'drainplane.yaml');
      assert.ok(checked.ok, JSON.stringify(!checked.ok && checked.errors));
      assert.deepEqual(checked.config.warnings, []);

      // A secret whose file is not there is refused where the bootstrap names the file.
      b['static_resources'].secrets[0].tls_certificate.private_key.filename = `${pki.dir}/missing.key`;
      const text = yaml(b);
      const [message, ...more] = errors(text);
      assert.deepEqual(more, []);
      assert.match(
        message!,
        /^envoy\.yaml:\d+:\d+: static_resources\.secrets\[0\]\.tls_certificate\.private_key\.filename: cannot read .*missing\.key: ENOENT/,
      );
    } finally {
      await pki.close();
    }
  });

  test('what is not a bootstrap is refused: another document, a YAML error, a listener without a name', () => {
    assert.deepEqual(errors('groups: []\n'), [
      'envoy.yaml:1:9: groups: unknown field "groups": not an Envoy bootstrap (envoy.config.bootstrap.v3.Bootstrap)',
      'envoy.yaml:1:1: static_resources: no static listeners: there is nothing to import',
    ]);
    assert.deepEqual(errors('- a\n'), ['envoy.yaml:1:1: not an Envoy bootstrap: expected a mapping of envoy.config.bootstrap.v3.Bootstrap fields']);
    assert.match(errors('node: {id: a\n')[0]!, /^envoy\.yaml:\d+:\d+: /);
    const b = edgeBootstrap();
    delete b['static_resources'].listeners[1].name;
    assert.deepEqual(errors(yaml(b)), [
      `envoy.yaml:${yaml(b).split('\n').indexOf('    - traffic_direction: OUTBOUND') + 1}:7: static_resources.listeners[1].name: is required: drainplane serves and drains listeners by name`,
    ]);
  });

  test('what the config check finds is reported at the bootstrap field it comes from', () => {
    const b = edgeBootstrap();
    b['static_resources'].listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx = 'x';
    const [message, ...more] = errors(yaml(b));
    assert.deepEqual(more, []);
    assert.match(
      message!,
      /^envoy\.yaml:\d+:\d+: static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.stat_prefx: unknown field "stat_prefx"/,
    );
  });

  test('clusters the bootstrap names outside static_resources stay static; a listener naming one gets a copy', () => {
    const b = edgeBootstrap();
    b['tracing'] = {
      http: {
        name: 'envoy.tracers.zipkin',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
          collector_cluster: 'zipkin',
          collector_endpoint: '/api/v2/spans',
          collector_endpoint_version: 'HTTP_JSON',
        },
      },
    };
    b['static_resources'].clusters.push(staticCluster('zipkin', 9411));
    // The egress listener calls the statsd cluster too.
    b['static_resources'].listeners[1] = httpListener('egress_http', 15001, 'statsd', { traffic_direction: 'OUTBOUND' });
    const result = imported(yaml(b));
    assert.ok(result.ok);
    assert.deepEqual(
      [...result.files.kept],
      [
        ['statsd', 'stats_sinks[0].typed_config.tcp_cluster_name'],
        ['zipkin', 'tracing.http.typed_config.collector_cluster'],
      ],
    );
    const config = YAML.parse(result.files.config) as Json;
    const bootstrap = YAML.parse(result.files.bootstrap) as Json;
    assert.deepEqual(
      (config['groups'][0].clusters as Json[]).map((c) => c['name']),
      ['app', 'api', 'statsd'],
    );
    assert.deepEqual(
      (bootstrap['static_resources'].clusters as Json[]).map((c) => c['name']),
      ['statsd', 'zipkin', 'drainplane'],
    );
    assert.deepEqual(bootstrap['static_resources'].clusters[1], staticCluster('zipkin', 9411), 'kept as written');
    assert.equal(bootstrap['static_resources'].listeners, undefined);
    assert.deepEqual(bootstrap['tracing'], b['tracing']);
    assert.match(result.files.bootstrap, /Kept static, since the bootstrap names them: statsd, zipkin\./);
  });

  test('the new bootstrap keeps every setting and adds what envoy/bootstrap.yaml has', async () => {
    const b = edgeBootstrap();
    b['layered_runtime'] = { layers: [{ name: 'static', static_layer: { 'overload.global_downstream_max_connections': 5000 } }] };
    b['overload_manager'] = { refresh_interval: '0.25s' };
    b['cluster_manager'] = { local_cluster_name: 'app' };
    b['node'].metadata = { team: 'edge' };
    const { bootstrap } = files(yaml(b));
    for (const key of ['admin', 'stats_flush_interval', 'layered_runtime', 'overload_manager', 'cluster_manager']) {
      assert.deepEqual(bootstrap[key], b[key], `${key} kept as written`);
    }
    assert.deepEqual(bootstrap['node'], { id: 'edge-1', cluster: 'edge', metadata: { team: 'edge', admin_address: '127.0.0.1:9901' } });
    assert.deepEqual(
      (bootstrap['static_resources'].clusters as Json[]).map((c) => c['name']),
      ['app', 'statsd', 'drainplane'],
      'the local cluster stays static',
    );

    const demo = YAML.parse(await readFile(new URL('../../../../envoy/bootstrap.yaml', import.meta.url), 'utf8')) as Json;
    assert.deepEqual(bootstrap['dynamic_resources'], demo['dynamic_resources']);
    assert.deepEqual(bootstrap['static_resources'].clusters[2], demo['static_resources'].clusters[0]);
    assert.deepEqual(bootstrap['stats_sinks'], [b['stats_sinks'][0], demo['stats_sinks'][0]]);
  });

  test('an admin on every address is announced on loopback; a metrics_service sink of its own is kept alone', () => {
    const b = edgeBootstrap();
    b['admin'] = { address: { socket_address: { address: '0.0.0.0', port_value: 9001 } } };
    const sink = {
      name: 'envoy.stat_sinks.metrics_service',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig',
        grpc_service: { envoy_grpc: { cluster_name: 'statsd' } },
      },
    };
    b['stats_sinks'] = [sink];
    const { bootstrap } = files(yaml(b));
    assert.equal(bootstrap['node'].metadata.admin_address, '127.0.0.1:9001');
    assert.deepEqual(bootstrap['stats_sinks'], [sink]);
    b['admin'] = { address: { pipe: { path: '/run/envoy-admin' } } };
    assert.equal(files(yaml(b)).bootstrap['node'].metadata, undefined, 'no admin address for an admin on a pipe');
  });

  test('the xDS cluster may not take the name of a static cluster; --xds-cluster renames it', () => {
    const b = edgeBootstrap();
    b['static_resources'].clusters.push(staticCluster('drainplane', 7000));
    const [message, ...more] = errors(yaml(b));
    assert.deepEqual(more, []);
    assert.match(message!, /^envoy\.yaml:\d+:\d+: static_resources\.clusters\[3\]\.name: a static cluster is already named "drainplane"/);
    const { bootstrap } = files(yaml(b), { xds: { ...XDS, cluster: 'xds', port: 18443 } });
    assert.deepEqual(bootstrap['dynamic_resources'].ads_config.grpc_services, [{ envoy_grpc: { cluster_name: 'xds' } }]);
    const xds = (bootstrap['static_resources'].clusters as Json[]).at(-1)!;
    assert.equal(xds['name'], 'xds');
    assert.equal(xds['load_assignment'].endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 18443);
  });

  test('the group matches node.cluster, else node.id; a bootstrap with neither needs a node cluster, which it then gets', () => {
    const b = edgeBootstrap();
    delete b['node'].cluster;
    const byId = files(yaml(b), { group: 'edge-one' }).config['groups'][0];
    assert.deepEqual([byId.name, byId.match], ['edge-one', { ids: ['edge-1'] }]);
    delete b['node'];
    const [message] = errors(yaml(b));
    assert.match(
      message!,
      /^envoy\.yaml:1:1: the bootstrap names neither node\.cluster nor node\.id, so no group could match this Envoy: give it a cluster \(--node-cluster NAME\)/,
    );
    const given = files(yaml(b), { nodeCluster: 'edge' });
    assert.deepEqual(given.config['groups'][0].match, { cluster: 'edge' });
    assert.deepEqual(given.bootstrap['node'], { cluster: 'edge', metadata: { admin_address: '127.0.0.1:9901' } });
    assert.equal(Object.keys(given.bootstrap)[0], 'node');
    const other = edgeBootstrap();
    assert.match(
      errors(yaml(other), { nodeCluster: 'core' })[0]!,
      /node\.cluster: the bootstrap names node\.cluster "edge"; the node cluster "core" given differs/,
    );
    assert.equal(files(yaml({ ...other, node: { id: 'x' } })).config['groups'][0].name, 'imported');
  });

  test('the same bootstrap gives the same bytes; JSON and YAML, in either spelling, give the same config', () => {
    const b = edgeBootstrap();
    const first = files(yaml(b));
    const again = files(yaml(b));
    assert.equal(again.configText, first.configText);
    assert.equal(again.bootstrapText, first.bootstrapText);
    const fromJson = files(JSON.stringify(b));
    assert.equal(fromJson.configText, first.configText);
    const camel: Json = { ...b, staticResources: b['static_resources'], statsSinks: b['stats_sinks'] };
    delete camel['static_resources'];
    delete camel['stats_sinks'];
    const camelOut = files(JSON.stringify(camel));
    assert.deepEqual(camelOut.config, first.config);
    assert.deepEqual(
      (camelOut.bootstrap['staticResources'].clusters as Json[]).map((c) => c['name']),
      ['statsd', 'drainplane'],
    );
    assert.equal(camelOut.bootstrap['statsSinks'].length, 2);
    assert.match(first.configText, /^# drainplane config imported from envoy\.yaml by `drainplane import`/);
  });

  test('strings Envoy would read as booleans stay strings', () => {
    const b = edgeBootstrap();
    b['static_resources'].listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0] = {
      match: { prefix: '/' },
      direct_response: { status: 200, body: { inline_string: 'on' } },
    };
    assert.match(files(yaml(b)).configText, /inline_string: "on"/);
  });
});
