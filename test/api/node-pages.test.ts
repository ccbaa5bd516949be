/**
 * GET /v1/nodes at fleet scale: pages of 500 unless the query asks for another size, each
 * saying where the next one is, so that no single answer carries the whole fleet; the CLI
 * still lists every node.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { runCli } from '../support/cli.js';
import { demoConfig } from '../support/fleet-configs.js';
import { nodeIdentity, streamInfo } from '../support/stream-info.js';

const NODES = 1_201;

interface Page {
  nodes: { id: string }[];
  total: number;
  nextCursor: string | null;
  limit: number;
  offset: number;
  next: string | null;
}

describe('GET /v1/nodes pages', { timeout: 60_000 }, () => {
  let d: TestDaemon;
  const ids = Array.from({ length: NODES }, (_, i) => `paged-${String(i).padStart(4, '0')}`);

  const get = async (path: string): Promise<Page> => {
    const res = await fetch(`${d.apiUrl}${path}`);
    assert.equal(res.status, 200, path);
    return (await res.json()) as Page;
  };

  before(async () => {
    d = await startTestDaemon(demoConfig());
    // Streams as the xDS server reports them: a fleet this size without as many gRPC streams.
    ids.forEach((id, i) => d.daemon.nodes.events.streamOpened!(streamInfo(id, { node: nodeIdentity(id, i % 2 === 0 ? 'even' : 'odd') })));
  });
  after(() => d.close());

  test('without a limit, a page of 500 that says how to get the next one', async () => {
    const first = await get('/v1/nodes');
    assert.equal(first.nodes.length, 500);
    assert.equal(first.total, NODES);
    assert.equal(first.limit, 500);
    assert.ok(first.nextCursor !== null);
    assert.equal(first.next, `/v1/nodes?limit=500&cursor=${first.nextCursor}`);

    const seen: string[] = [];
    let page: Page | undefined = first;
    while (page) {
      seen.push(...page.nodes.map((n) => n.id));
      page = page.next === null ? undefined : await get(page.next);
    }
    assert.equal(seen.length, NODES);
    assert.deepEqual([...seen].sort(), [...ids].sort());
  });

  test('next keeps the filters and the page size asked for', async () => {
    const first = await get('/v1/nodes?cluster=odd&limit=250');
    assert.equal(first.nodes.length, 250);
    assert.equal(first.total, 600);
    assert.match(first.next!, /^\/v1\/nodes\?cluster=odd&limit=250&cursor=/);
    const second = await get(first.next!);
    assert.ok(second.nodes.every((n) => Number(n.id.slice('paged-'.length)) % 2 === 1));
    assert.equal(second.nodes.length, 250);
  });

  test('the last page has no next; a page larger than 1000 is refused', async () => {
    const last = await get('/v1/nodes?q=paged-119');
    assert.equal(last.nodes.length, 10);
    assert.equal(last.nextCursor, null);
    assert.equal(last.next, null);
    const tooBig = await fetch(`${d.apiUrl}/v1/nodes?limit=1001`);
    assert.equal(tooBig.status, 400);
    assert.match(((await tooBig.json()) as { message: string }).message, /limit: must be <= 1000/);
  });

  test('offset jumps to a page by its position; its next page leads on by cursor', async () => {
    const ordered = (await get('/v1/nodes?limit=1000')).nodes.map((n) => n.id);
    const page = await get('/v1/nodes?limit=100&offset=700');
    assert.equal(page.offset, 700);
    assert.deepEqual(
      page.nodes.map((n) => n.id),
      ordered.slice(700, 800),
    );
    assert.match(page.next!, /^\/v1\/nodes\?limit=100&cursor=/);
    const after = await get(page.next!);
    assert.equal(after.offset, 800, 'a page reached by cursor says where it starts too');
    const past = await get('/v1/nodes?limit=100&offset=5000');
    assert.deepEqual(past.nodes, []);
    assert.equal(past.total, NODES);
    assert.equal(past.next, null);
  });

  test('offset and cursor together, or an offset past its bound, are refused', async () => {
    const first = await get('/v1/nodes?limit=10');
    const both = await fetch(`${d.apiUrl}/v1/nodes?offset=20&cursor=${first.nextCursor}`);
    assert.equal(both.status, 400);
    assert.match(((await both.json()) as { message: string }).message, /offset/);
    const far = await fetch(`${d.apiUrl}/v1/nodes?offset=1000001`);
    assert.equal(far.status, 400);
  });

  test('the OpenAPI document gives the page size, its default and its bound', async () => {
    interface Operation {
      parameters: { name: string; schema: { default?: number; maximum?: number } }[];
      responses: Record<string, { content: Record<string, { schema: { properties: Record<string, unknown> } }> }>;
    }
    const doc = (await (await fetch(`${d.apiUrl}/openapi.json`)).json()) as { paths: Record<string, { get: Operation }> };
    const nodes = doc.paths['/v1/nodes']!.get;
    const limit = nodes.parameters.find((p) => p.name === 'limit')!;
    assert.equal(limit.schema.default, 500);
    assert.equal(limit.schema.maximum, 1000);
    const page = nodes.responses['200']!.content['application/json']!.schema.properties;
    assert.ok(page['next'] && page['limit'] && page['nextCursor']);
  });

  test('drainplane nodes lists every node, page by page', async () => {
    const table = await runCli(['nodes', '--api', d.apiUrl]);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout.trimEnd().split('\n').length, NODES + 1, 'a header and a row per node');
    const json = await runCli(['nodes', '--api', d.apiUrl, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const all = JSON.parse(json.stdout) as Page;
    assert.equal(all.nodes.length, NODES);
    assert.equal(all.total, NODES);
    assert.equal(all.nextCursor, null);
  });

  // Last: it adds nodes the tests above do not count.
  test('nodes with large metadata come in shorter pages, none much over 4 MiB, and all of them in the end', async () => {
    // Metadata is the client's to choose, up to 64 KiB a node as the xDS stream keeps it.
    const blob = 'm'.repeat(60 * 1024);
    const big = Array.from({ length: 150 }, (_, i) => `large-${String(i).padStart(3, '0')}`);
    for (const id of big) {
      const node = { ...nodeIdentity(id, 'large'), metadata: { blob } };
      d.daemon.nodes.events.streamOpened!(streamInfo(id, { node }));
    }
    const seen: string[] = [];
    let path: string | null = '/v1/nodes?cluster=large&limit=1000';
    let pages = 0;
    while (path !== null) {
      const res: Response = await fetch(`${d.apiUrl}${path}`);
      assert.equal(res.status, 200);
      const body = await res.text();
      assert.ok(body.length < 4.5 * 1024 * 1024, `a page of ${body.length} bytes`);
      const page = JSON.parse(body) as Page;
      assert.equal(page.total, big.length);
      seen.push(...page.nodes.map((n) => n.id));
      path = page.next;
      pages += 1;
    }
    assert.ok(pages >= 3, `${pages} pages`);
    assert.deepEqual(seen, big);
  });
});
