/**
 * The example configs in examples/, rendered as `drainplane render` renders them (the resources a
 * node of the example's group is sent, decoded from the bytes the server sends, as Envoy proto3
 * JSON grouped by type URL), compared with reviewed snapshots in test/fixtures/rendered/.
 *
 * To regenerate the snapshots after an intended change, run
 *
 *     UPDATE_SNAPSHOTS=1 npm test -- fleet/render
 *
 * which writes test/fixtures/rendered/<example>.json instead of comparing; then review the diff
 * against the YAML before committing it.
 *
 * Review of the snapshots (checked by hand against the YAML when they were written):
 *  - names: every resource of the YAML is there, and nothing else, sorted by name within its type
 *    URL (edge-gateway: clusters api, web; endpoints web; listeners edge_http, edge_https; route
 *    config edge_https. sidecar: clusters fraud, ledger, local_app, postgres; endpoints fraud,
 *    ledger; listeners inbound_http, outbound_http, outbound_postgres; route config
 *    outbound_http. tcp-proxy: clusters db_primary, db_replica; listener postgres; empty lists
 *    for routes and endpoints);
 *  - drain_type: "MODIFY_ONLY" on the OUTBOUND listeners (sidecar's outbound_http and
 *    outbound_postgres) and on no other; INBOUND listeners have no drain_type (DEFAULT is the
 *    enum's zero value, which proto3 JSON leaves out); every listener has its traffic_direction;
 *  - typed configs: "@type" on each one (HttpConnectionManager, Router, TcpProxy,
 *    DownstreamTlsContext, FileAccessLog, upstreams.http.v3.HttpProtocolOptions under its
 *    typed_extension_protocol_options key), with their fields in place;
 *  - durations in canonical form: "0.25s" in the YAML renders as "0.250s" (local_app's
 *    connect_timeout, the api retry base_interval), whole seconds as "1s", "3600s";
 *  - defaults left out: codec_type AUTO, lb_policy ROUND_ROBIN, circuit breaker priority
 *    DEFAULT, socket option state STATE_PREBIND; wrapper fields that are set are kept
 *    (use_remote_address true, per_connection_buffer_limit_bytes 32768);
 *  - int64 fields as strings (socket_options level, name, int_value), as proto3 JSON requires;
 *  - the access log json_format keys come out sorted (a Struct is a proto map, whose order
 *    means nothing; drainplane encodes its entries by key), and fields follow the .proto
 *    declaration order rather than the YAML's;
 *  - values against the YAML: ports and addresses, certificate file names, domains, the
 *    prefix rewrite, timeouts and retry policies, health check thresholds, circuit breaker
 *    limits, the 80/20 weights, localities and endpoints;
 *  - `drainplane render --format json` printed the same bytes as each snapshot file.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NodeIdentity } from '../../src/cache/node.js';
import type { Snapshot } from '../../src/cache/snapshot.js';
import { parseConfig, type FleetConfig } from '../../src/fleet/config.js';
import { groupSnapshots } from '../../src/fleet/desired-state/group-snapshots.js';
import { encodeJson, messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { PUSH_ORDER, TypeUrl, messageName } from '../../src/resource/type-urls.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SNAPSHOT_DIR = path.join(ROOT, 'test/fixtures/rendered');
const UPDATE = process.env['UPDATE_SNAPSHOTS'] === '1';

interface Example {
  /** examples/<file>.yaml, snapshot test/fixtures/rendered/<file>.json */
  readonly file: string;
  /** node.cluster of a node in the example's group. */
  readonly nodeCluster: string;
  readonly group: string;
  /** Every listener of the example, with the traffic_direction that gives it its role. */
  readonly listeners: Readonly<Record<string, 'INBOUND' | 'OUTBOUND'>>;
}

const EXAMPLES: readonly Example[] = [
  {
    file: 'edge-gateway',
    nodeCluster: 'edge',
    group: 'edge',
    listeners: { edge_http: 'INBOUND', edge_https: 'INBOUND' },
  },
  {
    file: 'sidecar',
    nodeCluster: 'payments',
    group: 'sidecar',
    listeners: { inbound_http: 'INBOUND', outbound_http: 'OUTBOUND', outbound_postgres: 'OUTBOUND' },
  },
  {
    file: 'tcp-proxy',
    nodeCluster: 'db-proxy',
    group: 'tcp',
    listeners: { postgres: 'INBOUND' },
  },
];

type Rendered = Record<string, Record<string, unknown>[]>;

function nodeOf(example: Example): NodeIdentity {
  return {
    id: `${example.nodeCluster}-1`,
    cluster: example.nodeCluster,
    metadata: {},
    locality: { region: '', zone: '', subZone: '' },
    userAgentName: 'envoy',
    userAgentVersion: '',
  };
}

async function load(example: Example): Promise<{ config: FleetConfig; snapshot: Snapshot }> {
  const file = path.join(ROOT, 'examples', `${example.file}.yaml`);
  const parsed = parseConfig(await readFile(file, 'utf8'), file);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors, null, 2));
  const snapshot = groupSnapshots(parsed.config)(nodeOf(example));
  assert.ok(snapshot, `a node of cluster "${example.nodeCluster}" matches no group in ${file}`);
  return { config: parsed.config, snapshot };
}

/** What `drainplane render --format json` prints for the snapshot (src/cli/render.ts). */
function render(snapshot: Snapshot): Rendered {
  const protos = envoyProtos();
  const out: Rendered = {};
  for (const typeUrl of PUSH_ORDER) {
    const type = protos.type(messageName(typeUrl));
    out[typeUrl] = snapshot.get(typeUrl).sorted.map((r) => messageToJson(protos, type, r.bytes));
  }
  return out;
}

function renderText(snapshot: Snapshot): string {
  return `${JSON.stringify(render(snapshot), null, 2)}\n`;
}

describe('rendered example configs', () => {
  before(() => {
    envoyProtos(); // loading Envoy's protos takes a few seconds; the tests themselves do not
  });

  for (const example of EXAMPLES) {
    describe(`examples/${example.file}.yaml`, { timeout: 5_000 }, () => {
      test('loads without warnings into one group, which the node gets', async () => {
        const { config, snapshot } = await load(example);
        assert.deepEqual(config.warnings, []);
        assert.deepEqual(
          config.groups.map((g) => g.name),
          [example.group],
        );
        assert.ok(config.groups[0]!.resources.get(TypeUrl.Listener)!.length > 0);
        assert.ok(snapshot.sameAs(groupSnapshots(config)(nodeOf(example))!));
      });

      test(`renders as the reviewed snapshot test/fixtures/rendered/${example.file}.json`, async () => {
        const { snapshot } = await load(example);
        const actual = renderText(snapshot);
        const snapshotFile = path.join(SNAPSHOT_DIR, `${example.file}.json`);
        if (UPDATE) {
          await mkdir(SNAPSHOT_DIR, { recursive: true });
          await writeFile(snapshotFile, actual);
          return;
        }
        const expected = await readFile(snapshotFile, 'utf8');
        assert.equal(
          actual,
          expected,
          `examples/${example.file}.yaml renders differently from its snapshot; if the change is intended, ` +
            'run UPDATE_SNAPSHOTS=1 npm test -- fleet/render and review the diff',
        );
      });

      test('every listener carries the drain_type of its role', async () => {
        const { config, snapshot } = await load(example);
        const listeners = render(snapshot)[TypeUrl.Listener]!;
        assert.deepEqual(listeners.map((l) => l['name']).sort(), Object.keys(example.listeners).sort());
        for (const listener of listeners) {
          const name = listener['name'] as string;
          const direction = example.listeners[name]!;
          assert.equal(listener['traffic_direction'], direction, name);
          // DEFAULT is drain_type's zero value, so proto3 JSON leaves it out.
          assert.equal(listener['drain_type'], direction === 'OUTBOUND' ? 'MODIFY_ONLY' : undefined, name);
          const info = config.groups[0]!.listeners.find((l) => l.name === name);
          assert.ok(info, name);
          assert.deepEqual(
            { role: info.role, drainType: info.drainType },
            direction === 'OUTBOUND' ? { role: 'egress', drainType: 'MODIFY_ONLY' } : { role: 'ingress', drainType: 'DEFAULT' },
          );
        }
      });

      test('rendering twice gives byte-identical resources', async () => {
        const first = (await load(example)).snapshot;
        const second = (await load(example)).snapshot;
        for (const typeUrl of PUSH_ORDER) {
          const a = first.get(typeUrl).sorted;
          const b = second.get(typeUrl).sorted;
          assert.deepEqual(
            b.map((r) => r.name),
            a.map((r) => r.name),
          );
          a.forEach((r, i) => {
            assert.ok(Buffer.from(r.bytes).equals(Buffer.from(b[i]!.bytes)), `${typeUrl} ${r.name}`);
            assert.equal(b[i]!.version, r.version);
          });
          assert.equal(second.get(typeUrl).version, first.get(typeUrl).version);
        }
        assert.equal(renderText(second), renderText(first));
      });

      test('the rendered JSON encodes back to the very bytes it was decoded from', async () => {
        const { snapshot } = await load(example);
        const protos = envoyProtos();
        const rendered = render(snapshot);
        for (const typeUrl of PUSH_ORDER) {
          const type = protos.type(messageName(typeUrl));
          snapshot.get(typeUrl).sorted.forEach((r, i) => {
            const json = rendered[typeUrl]![i]!;
            const encoded = encodeJson(protos, type, json, r.name);
            assert.ok(encoded.ok, JSON.stringify(!encoded.ok && encoded.errors));
            assert.ok(Buffer.from(encoded.value).equals(Buffer.from(r.bytes)), `${typeUrl} ${r.name}`);
          });
        }
      });
    });
  }
});
