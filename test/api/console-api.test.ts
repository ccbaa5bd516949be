/**
 * The API a console at fleet scale reads: nodes in pages with filters, the fleet counted on the
 * server, a drain previewed before it starts and summarized while it runs, one coalesced event
 * stream, and the page itself served from the daemon.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiRequest } from '../support/api-request.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { openEventStream } from '../support/event-stream.js';
import { demoGroup } from '../support/fleet-configs.js';
import { DrainingFleet, type FleetNodeSpec } from '../support/sim-fleet.js';

const TOKEN = 'console-api-token';
const READ_TOKEN = 'console-reader';

const specs: FleetNodeSpec[] = [
  ...[1, 2, 3].map((i) => ({ id: `edge-a-${i}`, cluster: 'edge', region: 'r1', zone: 'a' })),
  ...[1, 2, 3].map((i) => ({ id: `edge-b-${i}`, cluster: 'edge', region: 'r1', zone: 'b' })),
  ...[1, 2].map((i) => ({ id: `mesh-a-${i}`, cluster: 'mesh', region: 'r1', zone: 'a', holds: true })),
];

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

describe('the console API', { timeout: 90_000 }, () => {
  let d: TestDaemon;
  let fleet: DrainingFleet;

  const api = async (method: string, url: string, body?: unknown, token: string | null = TOKEN): Promise<Answer> => {
    const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
    const res = await fetch(`${d.apiUrl}${url}`, { ...apiRequest(method, body, auth), redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (the page's files): the text itself
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  const ids = (answer: Answer): string[] => answer.body.nodes.map((n: { id: string }) => n.id);

  before(async () => {
    d = await startTestDaemon(`groups:${demoGroup({ name: 'edge', cluster: 'edge' })}${demoGroup({ name: 'mesh', cluster: 'mesh' })}`, {
      apiTokens: { admin: [TOKEN], read: [READ_TOKEN] },
    });
    fleet = await DrainingFleet.connect(d.xdsAddress, specs, { connections: 3, stepMs: 100 });
  });
  after(async () => {
    fleet.close();
    await d.close();
  });

  test('GET /v1/nodes without a query is a page of 500 (here every node); with limit, pages follow the cursor in cluster, locality, id order', async () => {
    const all = await api('GET', '/v1/nodes');
    assert.equal(all.status, 200);
    assert.equal(all.body.nodes.length, 8);
    assert.equal(all.body.total, 8);
    assert.equal(all.body.limit, 500);
    assert.equal(all.body.nextCursor, null);
    assert.equal(all.body.next, null);
    const ordered = ['edge-a-1', 'edge-a-2', 'edge-a-3', 'edge-b-1', 'edge-b-2', 'edge-b-3', 'mesh-a-1', 'mesh-a-2'];
    assert.deepEqual(ids(all), ordered);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Answer = await api('GET', `/v1/nodes?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200);
      assert.equal(page.body.total, 8);
      assert.ok(page.body.nodes.length <= 3);
      seen.push(...ids(page));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(seen, ordered);
  });

  test('GET /v1/nodes filters by search, cluster, zone and connection; a bad cursor or unknown parameter is a 400 naming it', async () => {
    assert.deepEqual(ids(await api('GET', '/v1/nodes?q=EDGE-B')), ['edge-b-1', 'edge-b-2', 'edge-b-3']);
    assert.deepEqual(ids(await api('GET', '/v1/nodes?cluster=mesh&zone=a')), ['mesh-a-1', 'mesh-a-2']);
    assert.deepEqual(ids(await api('GET', '/v1/nodes?zone=b&connected=true')), ['edge-b-1', 'edge-b-2', 'edge-b-3']);
    assert.deepEqual(ids(await api('GET', '/v1/nodes?connected=false')), []);
    const bad = await api('GET', '/v1/nodes?limit=2&cursor=not-a-cursor');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'cursor');
    const unknown = await api('GET', '/v1/nodes?colour=blue');
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /colour: unknown field/);
  });

  test('POST /v1/drains/preview: what a drain would take, by locality and phase, with nothing started or pushed; it needs the token', async () => {
    const sent = fleet.sim('edge-a-1').lds.length;
    const request = { selector: { cluster: 'edge', locality: { zone: 'a' } }, scope: 'all', batch: { size: 2 } };
    const preview = await api('POST', '/v1/drains/preview', request);
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.equal(preview.body.matched, 3);
    assert.deepEqual(preview.body.nodes, ['edge-a-1', 'edge-a-2', 'edge-a-3']);
    assert.deepEqual(preview.body.groups, [{ cluster: 'edge', region: 'r1', zone: 'a', subZone: '', nodes: 3 }]);
    assert.deepEqual(preview.body.phases, [
      { name: 'ingress', nodes: 3, listeners: ['ingress_http'], batches: 2 },
      { name: 'egress', nodes: 3, listeners: ['egress_http'], batches: 2 },
    ]);
    assert.equal(preview.body.spec.deadlineSeconds, 300, 'defaults filled in');
    assert.equal(d.daemon.drains.list().length, 0, 'no drain started');
    assert.equal(fleet.sim('edge-a-1').lds.length, sent, 'nothing pushed');

    const refused = await api('POST', '/v1/drains/preview', { selector: {}, scope: 'ingress', batch: { size: 0 } });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.errors.map((e: { field: string }) => e.field).sort(), ['batch.size', 'selector']);
    assert.equal((await api('POST', '/v1/drains/preview', request, null)).status, 401);
    // A preview changes nothing: a read token is enough for it, not for the drain itself.
    assert.equal((await api('POST', '/v1/drains/preview', request, READ_TOKEN)).status, 200);
    assert.equal((await api('POST', '/v1/drains', request, READ_TOKEN)).status, 403);
  });

  test('while a drain runs: listeners are draining, then gone; the summary counts them; the drain summary shows batches, who holds it and why, and connections falling', async () => {
    for (const n of ['edge-a-1', 'edge-a-2']) fleet.hold(n, true);
    const created = await api('POST', '/v1/drains', {
      selector: { cluster: 'edge', locality: { zone: 'a' } },
      scope: 'ingress',
      batch: { size: 2 },
      deadlineSeconds: 60,
    });
    assert.equal(created.status, 201);
    const id: string = created.body.id;
    await waitUntil(
      'the first batch to be measured',
      () => d.daemon.drains.get(id)!.phases[0]!.nodes.filter((n) => n.state === 'acked' && n.listeners[0]!.connections === 3).length === 2,
    );
    assert.deepEqual(ids(await api('GET', '/v1/nodes?state=draining')), ['edge-a-1', 'edge-a-2']);
    const holding = await api('GET', `/v1/drains/${id}/summary`);
    assert.equal(holding.status, 200);
    const phase = holding.body.phases[0];
    assert.equal(phase.total, 3);
    assert.equal(phase.connections, 6);
    assert.deepEqual(phase.batches, [{ batch: 1, nodes: 2, finished: 0, drained: 0, startedAt: phase.batches[0].startedAt }]);
    assert.deepEqual(
      phase.nodes.map((n: { nodeId: string; state: string; holding: string | null }) => [n.nodeId, n.state, n.holding]),
      [
        ['edge-a-1', 'acked', 'ingress_http: 3 connection(s) left'],
        ['edge-a-2', 'acked', 'ingress_http: 3 connection(s) left'],
        ['edge-a-3', 'waiting', null],
      ],
    );
    assert.equal(Date.parse(phase.nodes[0].deadlineAt) - Date.parse(phase.nodes[0].startedAt), 60_000);
    for (const n of ['edge-a-1', 'edge-a-2']) fleet.hold(n, false);

    // The history takes its last samples from the change event, which follows the drain's state by a save.
    let ended = false;
    const stop = d.daemon.drains.onChange((changed) => (ended ||= changed.id === id && changed.state === 'completed'));
    await waitUntil('the drain to complete', () => ended, 20_000);
    stop();
    const done = await api('GET', `/v1/drains/${id}/summary`);
    const nodes = done.body.phases[0].nodes as { state: string; holding: string | null; history: [number, number][] }[];
    assert.deepEqual(
      done.body.phases[0].batches.map((b: { batch: number; finished: number }) => [b.batch, b.finished]),
      [
        [1, 2],
        [2, 1],
      ],
    );
    for (const n of nodes) {
      assert.equal(n.state, 'drained');
      assert.equal(n.holding, null);
      const counts = n.history.map(([, c]) => c);
      assert.equal(counts.at(-1), 0, 'the history ends at 0');
      assert.deepEqual(
        [...counts].sort((a, b) => b - a),
        counts,
        'connections only fall',
      );
    }
    const one = await api('GET', `/v1/drains/${id}/summary?nodes=1`);
    assert.equal(one.body.phases[0].nodes.length, 1);
    assert.equal(one.body.phases[0].nodesOmitted, 2);
    assert.equal((await api('GET', '/v1/drains/drn_none/summary')).status, 404);

    const summary = await api('GET', '/v1/fleet/summary');
    assert.deepEqual(summary.body.nodes, { total: 8, connected: 8, nacking: 0 });
    assert.deepEqual(summary.body.listeners, { serving: 13, draining: 0, gone: 3 });
    const zoneA = summary.body.groups.find((g: { cluster: string; zone: string }) => g.cluster === 'edge' && g.zone === 'a');
    assert.deepEqual(zoneA.listeners, { serving: 3, draining: 0, gone: 3 });
    assert.equal(summary.body.drains.completed, 1);
    assert.deepEqual(ids(await api('GET', '/v1/nodes?state=gone')), ['edge-a-1', 'edge-a-2', 'edge-a-3']);
  });

  test('GET /v1/fleet/events: the whole state first, then changes coalesced to at most one fleet event per 500 ms', async () => {
    const stream = await openEventStream(`${d.apiUrl}/v1/fleet/events`, { authorization: `Bearer ${READ_TOKEN}` });
    assert.equal(stream.contentType, 'text/event-stream');
    const events = stream.events;
    await waitUntil('the first fleet event', () => events.length > 0);
    assert.equal(events[0]!.event, 'fleet');
    assert.equal(events[0]!.data.summary.nodes.total, 8);
    await waitUntil('the completed drain', () => events.some((e) => e.event === 'drain' && e.data.state === 'completed'));

    // Every simulated node reports gauges every 100 ms, and a drain runs on the mesh nodes: a busy fleet.
    const started = Date.now();
    const created = await api('POST', '/v1/drains', { selector: { cluster: 'mesh' }, scope: 'ingress', deadlineSeconds: 60 });
    await waitUntil('the drain on the mesh nodes in the stream', () =>
      events.some(
        (e) => e.event === 'drain' && e.data.id === created.body.id && e.data.phases[0].nodes.some((n: { state: string }) => n.state === 'acked'),
      ),
    );
    await waitUntil('the nodes pushed to appear as changed', () =>
      events.some((e) => e.event === 'fleet' && e.at >= started && e.data.changedNodes.includes('mesh-a-1')),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const fleetEvents = events.filter((e) => e.event === 'fleet' && e.at >= started);
    const elapsed = Date.now() - started;
    assert.ok(fleetEvents.length <= Math.ceil(elapsed / 500) + 1, `${fleetEvents.length} fleet events in ${elapsed} ms`);
    assert.equal(fleetEvents.at(-1)!.data.summary.listeners.draining, 2, 'the mesh ingress listeners');
    await api('POST', `/v1/drains/${created.body.id}/cancel`);
    await waitUntil('the cancel in the stream', () => events.some((e) => e.event === 'drain' && e.data.state === 'cancelled'));
    await stream.close();
  });

  test('the new routes are in the OpenAPI document; the page is not', async () => {
    const doc = (await api('GET', '/openapi.json')).body;
    for (const [route, method] of [
      ['/v1/fleet/summary', 'get'],
      ['/v1/fleet/events', 'get'],
      ['/v1/drains/preview', 'post'],
      ['/v1/drains/{id}/summary', 'get'],
    ] as const) {
      assert.ok(doc.paths[route]?.[method], `${method.toUpperCase()} ${route}`);
    }
    assert.deepEqual(
      doc.paths['/v1/nodes'].get.parameters.map((p: { name: string }) => p.name),
      ['q', 'cluster', 'region', 'zone', 'state', 'connected', 'limit', 'cursor', 'offset'],
    );
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/ui')));
  });

  test('/ui serves the built page: a redirect to ui/, content types, a strict CSP, ETags, and nothing loaded from elsewhere', async () => {
    const redirect = await api('GET', '/ui', undefined, null);
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), 'ui/');
    const page = await api('GET', '/ui/', undefined, null);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy') ?? '', /^default-src 'self'; script-src 'self'; style-src 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const script = await api('GET', '/ui/main.js', undefined, null);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const etag = script.headers.get('etag')!;
    const again = await fetch(`${d.apiUrl}/ui/main.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await api('GET', '/ui/no-such-file.js', undefined, null)).status, 404);

    // Works offline: no file of the page names another origin (the SVG namespace is a name, not a request).
    const root = path.resolve('dist/ui');
    for (const name of await readdir(root, { recursive: true })) {
      if (!/\.(html|js|css|svg)$/.test(name)) continue;
      const text = (await readFile(path.join(root, name), 'utf8')).replaceAll('http://www.w3.org/2000/svg', '');
      assert.doesNotMatch(text, /https?:\/\//, `${name} names another origin`);
    }
  });

  test('closing the daemon ends open event streams instead of waiting for them', async () => {
    const other = await startTestDaemon(`groups:${demoGroup()}`);
    const res = await fetch(`${other.apiUrl}/v1/fleet/events`);
    const reader = res.body!.getReader();
    await reader.read();
    await other.close();
    for (;;) if ((await reader.read()).done) break;
  });
});
