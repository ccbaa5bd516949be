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
 * REVIEW_NOTE
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NodeIdentity } from '../../src/cache/node.js';
import type { Snapshot } from '../../src/cache/snapshot.js';
import { parseConfig, type FleetConfig } from '../../src/fleet/config.js';
import { configResolver } from '../../src/fleet/snapshot-builder.js';
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
  const snapshot = configResolver(parsed.config)(nodeOf(example));
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
        assert.ok(snapshot.sameAs(configResolver(config)(nodeOf(example))!));
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
          assert.deepEqual(
            info,
            direction === 'OUTBOUND'
              ? { name, role: 'egress', drainType: 'MODIFY_ONLY' }
              : { name, role: 'ingress', drainType: 'DEFAULT' },
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
