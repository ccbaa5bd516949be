/**
 * Bad input everywhere on the API: random and mutated request bodies never get a 5xx or crash
 * the daemon, and a rejected request leaves the running state untouched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { TestDaemon } from '../support/daemon.js';
import { startDaemonWithNodes, type DaemonWithNodes } from '../support/daemon-with-nodes.js';
import type { SimNode } from '../support/sim-node.js';

const RUNS = 150;

describe('API bodies from a fuzzer', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  let node: SimNode;

  const send = async (method: string, path: string, body: unknown, type = 'application/json') => {
    const res = await fetch(`${d.apiUrl}${path}`, {
      method,
      headers: { 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text };
  };

  let running: DaemonWithNodes;
  before(async () => {
    // Hundreds of mutations a minute: the rate limit (its own test) would answer most of them.
    running = await startDaemonWithNodes(['fuzzed'], { apiRateLimit: 0 });
    d = running.d;
    node = running.nodes[0]!;
  });
  after(() => running.close());

  /** Valid drain bodies with one field replaced by anything, dropped, or an extra field added. */
  const mutatedDrain = fc
    .record({
      field: fc.constantFrom('selector', 'scope', 'method', 'egress', 'batch', 'deadlineSeconds', 'threshold', 'measure', 'confirm', 'extra'),
      value: fc.anything({ maxDepth: 3 }),
      drop: fc.boolean(),
    })
    .map(({ field, value, drop }) => {
      const body: Record<string, unknown> = { selector: { ids: ['no-such-node'] }, scope: 'ingress', method: 'modify' };
      if (drop) delete body[field];
      else body[field] = value;
      return body;
    });

  test('POST /v1/drains: random and mutated bodies get 201 or a 4xx that names a field, never a 5xx', async () => {
    const runningBefore = () => d.daemon.drains.list().length;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything({ maxDepth: 4 }), mutatedDrain), async (body) => {
        const before = runningBefore();
        const res = await send('POST', '/v1/drains', body);
        assert.ok(res.status < 500, `${res.status}: ${res.text}`);
        if (res.status >= 400) {
          assert.equal(runningBefore(), before, 'a rejected drain leaves no drain behind');
          const parsed = JSON.parse(res.text) as { message?: string };
          assert.equal(typeof parsed.message, 'string');
        }
      }),
      { numRuns: RUNS },
    );
    // Drains the fuzzer did create only named a node that does not exist: the real node kept both listeners.
    assert.deepEqual(node.listeners(), ['egress_http', 'ingress_http']);
  });

  test('PUT /v1/config: random documents get a 4xx, never a 5xx, and the running config and nodes stay as they were', async () => {
    const versionsBefore = d.daemon.cache.snapshot('fuzzed')!.versions();
    const ldsBefore = node.lds.length;
    const documents = fc.oneof(
      fc.anything({ maxDepth: 5 }),
      fc.record({ groups: fc.array(fc.anything({ maxDepth: 4 }), { maxLength: 3 }) }),
      fc.string().map((s) => ({ yaml: s })),
    );
    await fc.assert(
      fc.asyncProperty(documents, async (doc) => {
        const yaml = typeof doc === 'object' && doc !== null && 'yaml' in doc ? (doc as { yaml: string }).yaml : undefined;
        const res = yaml !== undefined ? await send('PUT', '/v1/config', yaml, 'application/yaml') : await send('PUT', '/v1/config', doc);
        assert.ok(res.status < 500, `${res.status}: ${res.text}`);
      }),
      { numRuns: RUNS },
    );
    assert.deepEqual(d.daemon.cache.snapshot('fuzzed')!.versions(), versionsBefore);
    assert.equal(node.lds.length, ldsBefore, 'no push');
  });

  test('malformed JSON and wrong content types are 4xx', async () => {
    for (const [body, type] of [
      ['{"selector":', 'application/json'],
      ['not json at all', 'application/json'],
      ['<xml/>', 'application/xml'],
    ] as const) {
      const res = await send('POST', '/v1/drains', body, type);
      assert.ok(res.status >= 400 && res.status < 500, `${res.status}: ${res.text}`);
    }
  });
});
