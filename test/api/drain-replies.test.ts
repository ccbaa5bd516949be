/**
 * Replies that carry whole drains are written by JSON.stringify (as the events stream writes
 * them), not by the schema's serializer, which would drop any field the schema does not list. So
 * every such reply must hold the schema's fields alone: written again through the schema, each
 * reply here comes out the same, for drains of every kind and after every action on them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { drainSchema, drainSummarySchema } from '../../src/api/schemas/drain.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';
import { openEventStream } from '../support/event-stream.js';
import { waitUntil } from '../support/wait.js';
import { nodeIdentity, streamInfo } from '../support/stream-info.js';

interface Schema {
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
}

/** Paths of the fields in `value` that `schema` does not list (where it allows no others). */
function unlisted(schema: Schema, value: unknown, path: string): string[] {
  if (schema.anyOf) {
    const each = schema.anyOf.map((s) => unlisted(s, value, path));
    return each.some((e) => e.length === 0) ? [] : each[0]!;
  }
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => unlisted(schema.items!, v, `${path}[${i}]`)) : [];
  if (value === null || typeof value !== 'object' || !schema.properties) return [];
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) return [];
  return Object.entries(value).flatMap(([k, v]) => (schema.properties![k] ? unlisted(schema.properties![k], v, `${path}.${k}`) : [`${path}.${k}`]));
}

function assertSchemaShaped(body: unknown, what: string): void {
  assert.deepEqual(unlisted(drainSchema as Schema, body, 'reply'), [], `${what}: fields the schema does not list`);
}

describe('replies with whole drains', { timeout: 30_000 }, () => {
  let d: TestDaemon;
  const { api } = drainApi(() => d.apiUrl);

  before(async () => {
    d = await startTestDaemon(demoConfig({ cluster: 'shop' }));
    for (let i = 0; i < 6; i++) {
      const node = `shop-${i}`;
      d.daemon.nodes.events.streamOpened!(streamInfo(node, { node: nodeIdentity(node, 'shop') }));
    }
  });
  after(() => d?.close());

  test('created, read, listed, advanced, paused, resumed, skipped and cancelled drains hold the schema fields alone', async () => {
    const requests = [
      { selector: { cluster: 'shop' }, scope: 'all', batch: { size: 2 }, egress: { after: 'advance' }, deadlineSeconds: 600 },
      { selector: { ids: ['shop-0'] }, scope: 'egress', method: 'modify', egress: { after: 'egress-idle' }, deadlineSeconds: 600 },
      { endpoints: { addresses: ['127.0.0.1:8080'] }, deadlineSeconds: 600 },
    ];
    const ids: string[] = [];
    for (const request of requests) {
      const created = await api('POST', '/v1/drains', request);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assertSchemaShaped(created.body, `POST ${JSON.stringify(request)}`);
      ids.push((created.body as { id: string }).id);
    }
    const [batched] = ids as [string];
    for (const [method, path] of [
      ['POST', `/v1/drains/${batched}/advance`],
      ['POST', `/v1/drains/${batched}/pause`],
      ['POST', `/v1/drains/${batched}/resume`],
      ['POST', `/v1/drains/${batched}/nodes/shop-5/skip`],
      ['GET', `/v1/drains/${batched}`],
      ...ids.map((id) => ['POST', `/v1/drains/${id}/cancel`] as const),
    ] as const) {
      const { status, body } = await api(method, path);
      assert.equal(status, 200, `${method} ${path}: ${JSON.stringify(body)}`);
      assertSchemaShaped(body, `${method} ${path}`);
    }
    const listed = await api('GET', '/v1/drains');
    assert.equal((listed.body as { drains: unknown[] }).drains.length, requests.length);
    for (const drain of (listed.body as { drains: unknown[] }).drains) assertSchemaShaped(drain, 'GET /v1/drains');
  });

  test('listed as summaries (?nodes=N): every drain with its counts and at most N node rows per phase, as its summary gives them', async () => {
    const whole = (await api('GET', '/v1/drains')).body as {
      drains: { id: string; state: string; phases: { counts: object; nodes: unknown[] }[] }[];
    };
    assert.ok(whole.drains.length >= 3);
    for (const rows of [0, 2]) {
      const listed = await api('GET', `/v1/drains?nodes=${rows}`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const drains = (
        listed.body as {
          drains: { id: string; state: string; phases: { counts: object; total: number; nodes: unknown[]; nodesOmitted: number }[] }[];
        }
      ).drains;
      assert.deepEqual(
        drains.map((d) => [d.id, d.state]),
        whole.drains.map((d) => [d.id, d.state]),
      );
      for (const [i, drain] of drains.entries()) {
        assert.deepEqual(unlisted(drainSummarySchema as Schema, drain, 'reply'), [], `GET /v1/drains?nodes=${rows}: fields the schema does not list`);
        const summary = (await api('GET', `/v1/drains/${drain.id}/summary?nodes=${rows}`)).body;
        assert.deepEqual(drain, summary, 'as GET /v1/drains/:id/summary gives it');
        for (const [p, phase] of drain.phases.entries()) {
          const all = whole.drains[i]!.phases[p]!;
          assert.deepEqual(phase.counts, all.counts);
          assert.equal(phase.total, all.nodes.length);
          assert.equal(phase.nodes.length, Math.min(rows, all.nodes.length));
          assert.equal(phase.nodesOmitted, all.nodes.length - phase.nodes.length);
        }
      }
    }
    for (const bad of ['-1', '1001', 'all']) {
      const refused = await api('GET', `/v1/drains?nodes=${bad}`);
      assert.equal(refused.status, 400, bad);
      assert.match((refused.body as { message: string }).message, /nodes/);
    }
  });

  test('a drain created and followed as summaries (POST and events with ?nodes=N): each reply is the drain as its summary gives it', async () => {
    const created = await api('POST', '/v1/drains?nodes=1', {
      selector: { cluster: 'shop' },
      scope: 'ingress',
      batch: { size: 2 },
      deadlineSeconds: 600,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = (created.body as { id: string }).id;
    assert.deepEqual(unlisted(drainSummarySchema as Schema, created.body, 'reply'), [], 'POST /v1/drains?nodes=1: fields the schema does not list');
    assert.equal((created.body as { phases: { total: number; nodes: unknown[] }[] }).phases[0]!.total, 6);
    assert.equal((created.body as { phases: { total: number; nodes: unknown[] }[] }).phases[0]!.nodes.length, 1);
    const stream = await openEventStream(`${d.apiUrl}/v1/drains/${id}/events?nodes=1`);
    try {
      await waitUntil('the first event', () => stream.events.length > 0);
      const first = stream.events[0]!;
      assert.equal(first.event, 'drain');
      assert.deepEqual(first.data, (await api('GET', `/v1/drains/${id}/summary?nodes=1`)).body);
      assert.equal(first.data.phases[0].nodes.length, 1);
      assert.equal(first.data.phases[0].total, 6);
      // Cancelled: the last event, also a summary.
      await api('POST', `/v1/drains/${id}/cancel`);
      await waitUntil('the cancel', () => stream.events.some((e) => e.data.state === 'cancelled'));
      assert.equal(stream.events.at(-1)!.data.phases[0].nodesOmitted, 5);
    } finally {
      await stream.close();
    }
    const refused = await api('GET', `/v1/drains/${id}/events?nodes=-1`);
    assert.equal(refused.status, 400);
  });

  test('an unknown drain is still a 404 with the error body', async () => {
    const { status, body } = await api('GET', '/v1/drains/drn_none');
    assert.equal(status, 404);
    assert.deepEqual(body, { error: 'not_found', message: 'no drain with id "drn_none"' });
  });
});
