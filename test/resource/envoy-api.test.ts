/**
 * The Envoy API drainplane is built on: the version it reports, the fields of that API it accepts
 * and encodes (ones older API trees lacked), and the strict checks that stay: an unknown field is
 * an error with its line and column, and protoc-gen-validate rules read from the descriptors fire.
 */
// Loaded first on purpose: @grpc/proto-loader adds a camelCased google/protobuf/descriptor.proto
// to protobufjs's shared table of bundled files, which the API loader must not pick up.
import '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatIssue, parseConfig, type FleetConfig } from '../../src/fleet/config.js';
import { buildInfo } from '../../src/resource/envoy-api.js';
import { messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { currentApiConfig, DRAIN_TIMEOUT_JITTER_PERCENT, HTTP_LISTENER, MAX_EARLY_DATA_BYTES, TCP_LISTENER } from '../support/current-api-config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const pins = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { envoy: { version: string }; envoyApi: { version: string } };

type Json = Record<string, any>;

function parsed(yaml: string): FleetConfig {
  const result = parseConfig(yaml, 'current-api.yaml');
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => formatIssue('current-api.yaml', e)).join('\n'));
  return result.config;
}

/** The listeners of the config's one group, decoded from the bytes drainplane would send. */
function listeners(config: FleetConfig): Map<string, Json> {
  const protos = envoyProtos();
  const type = protos.type('envoy.config.listener.v3.Listener');
  const out = new Map<string, Json>();
  for (const r of config.groups[0]!.resources.get(TypeUrl.Listener) ?? []) out.set(r.name, messageToJson(protos, type, r.bytes));
  return out;
}

function firstFilterConfig(listener: Json | undefined): Json {
  return listener?.['filter_chains'][0]['filters'][0]['typed_config'] as Json;
}

describe('the Envoy API drainplane is built on', () => {
  test('is the pinned one, installed, and the same release as the Envoy the tests run', () => {
    const info = buildInfo();
    assert.equal(info.envoyApi.version, pins.envoyApi.version);
    assert.equal(info.envoyApi.version, pins.envoy.version, 'package.json: "envoyApi.version" and "envoy.version" should name one release');
    assert.ok(info.envoyApi.installed, 'npm ci installs it');
    assert.match(info.envoyApi.module, /^github\.com\/envoyproxy\/go-control-plane\/envoy@v\d+\.\d+\.\d+$/);
    assert.match(info.envoyApi.envoyCommit ?? '', /^[0-9a-f]{40}$/);
    assert.equal(envoyProtos().api.sha256, info.envoyApi.sha256);
  });

  test('TcpProxy check_drain_close and max_early_data_bytes, HCM drain_timeout_jitter: validated, encoded, decoded back', () => {
    const sent = listeners(parsed(currentApiConfig()));
    const tcp = firstFilterConfig(sent.get(TCP_LISTENER));
    assert.equal(tcp['check_drain_close'], true);
    assert.equal(tcp['max_early_data_bytes'], MAX_EARLY_DATA_BYTES);
    const hcm = firstFilterConfig(sent.get(HTTP_LISTENER));
    assert.deepEqual(hcm['drain_timeout_jitter'], { value: DRAIN_TIMEOUT_JITTER_PERCENT });
    assert.equal(hcm['drain_timeout'], '5s');
  });

  test('the same config encodes to the same bytes every time', () => {
    const bytes = (c: FleetConfig) => [...c.groups[0]!.resources.values()].flat().map((r) => `${r.name}:${Buffer.from(r.bytes).toString('base64')}`);
    assert.deepEqual(bytes(parsed(currentApiConfig())), bytes(parsed(currentApiConfig())));
  });

  test('an unknown field is still refused, with the line and column of its value', () => {
    const yaml = currentApiConfig().replace('check_drain_close: true', 'check_drain_close: true\n                  check_drain_closed: true');
    const result = parseConfig(yaml, 'current-api.yaml');
    assert.equal(result.ok, false);
    const issue = !result.ok ? result.errors.find((e) => e.path.endsWith('.check_drain_closed')) : undefined;
    assert.ok(issue, 'an error at check_drain_closed');
    assert.match(issue.message, /unknown field "check_drain_closed"/);
    const lines = yaml.split('\n');
    const line = lines.findIndex((l) => l.includes('check_drain_closed')) + 1;
    const column = lines[line - 1]!.indexOf('true') + 1;
    assert.equal(issue.line, line);
    assert.equal(issue.column, column);
    assert.match(formatIssue('current-api.yaml', issue), new RegExp(`^current-api\\.yaml:${line}:${column}: `));
  });

  test('a protoc-gen-validate rule still fires: the jitter is a Percent (double, 0 to 100)', () => {
    const yaml = currentApiConfig().replace(`drainTimeoutJitter: { value: ${DRAIN_TIMEOUT_JITTER_PERCENT} }`, 'drainTimeoutJitter: { value: 150 }');
    const result = parseConfig(yaml, 'current-api.yaml');
    assert.equal(result.ok, false);
    // Reported under the field's proto name; the YAML spells it in lowerCamel.
    const issue = !result.ok ? result.errors.find((e) => e.path.endsWith('.drain_timeout_jitter.value')) : undefined;
    assert.ok(issue, `an error at drain_timeout_jitter.value; got ${JSON.stringify(!result.ok && result.errors)}`);
    assert.match(issue.message, /less than or equal to 100, got 150/);
    assert.equal(issue.line, yaml.split('\n').findIndex((l) => l.includes('value: 150')) + 1);
  });

  test('a rule from validate.proto newer than the old tree: an empty stat_prefix (string min_len 1)', () => {
    const yaml = currentApiConfig().replace('stat_prefix: tcp_current_api', 'stat_prefix: ""');
    const result = parseConfig(yaml, 'current-api.yaml');
    assert.equal(result.ok, false);
    const issue = !result.ok ? result.errors.find((e) => e.path.endsWith('typed_config.stat_prefix')) : undefined;
    assert.ok(issue, `an error at stat_prefix; got ${JSON.stringify(!result.ok && result.errors)}`);
  });

  test('the MetricsService messages (Prometheus client_model) come with the API', () => {
    const protos = envoyProtos();
    const family = protos.type('io.prometheus.client.MetricFamily');
    assert.deepEqual(family.fieldsArray.map((f) => [f.name, f.id]).slice(0, 4), [
      ['name', 1],
      ['help', 2],
      ['type', 3],
      ['metric', 4],
    ]);
    assert.ok(protos.root.lookupService('envoy.service.metrics.v3.MetricsService'));
  });
});
