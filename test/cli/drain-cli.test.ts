import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSotwStream, TYPE, type SotwStream } from '../support/ads-client.js';
import { runCli } from '../support/cli.js';
import { startTestDaemon, waitForLdsAck, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { openEnvoyMetricsStream } from '../support/envoy-metrics-client.js';
import { demoConfig } from '../support/fleet-configs.js';

/** A node that accepts (ACKs) every listener set it is sent, as a healthy Envoy does. */
interface AckingNode {
  readonly stream: SotwStream;
  /** The listener names of every LDS response, in order. */
  readonly sent: string[][];
}

async function connectNode(d: TestDaemon, id: string): Promise<AckingNode> {
  const stream = openSotwStream(d.xdsAddress, { node: { id, cluster: 'test-cluster' } });
  const sent: string[][] = [];
  stream.send({ type_url: TYPE.LDS });
  void (async () => {
    for (;;) {
      // Rejects when the stream closes at the end of the test: that ends the loop.
      const res = await stream.next(TYPE.LDS, 60_000).catch(() => undefined);
      if (!res) return;
      sent.push(res.resources.map((r) => r.name).sort());
      stream.ack(res);
    }
  })();
  await waitForLdsAck(d, id);
  return { stream, sent };
}

function waitForListeners(node: AckingNode, names: readonly string[]): Promise<void> {
  const wanted = JSON.stringify([...names].sort());
  return waitUntil(`the node to be sent listeners [${names.join(', ')}]`, () => JSON.stringify(node.sent.at(-1)) === wanted);
}

/**
 * A reverse proxy in front of the API that breaks the event stream: the first one is cut
 * after its first event, later ones are refused with 404, as by a proxy that does not route them.
 */
async function eventStreamBreakingProxy(apiUrl: string): Promise<{ url: string; server: Server }> {
  const upstream = new URL(apiUrl);
  let streams = 0;
  const server = createServer((req, res) => {
    const events = new URL(req.url ?? '/', upstream).pathname.endsWith('/events');
    if (events && ++streams > 1) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    }
    const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (!events) return void up.pipe(res);
      up.once('data', (chunk: Buffer) =>
        res.write(chunk, () => {
          up.destroy();
          res.destroy();
        }),
      );
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The drain id the command prints as its first line. */
function drainId(stdout: string): string {
  const id = stdout.split('\n')[0]!;
  assert.match(id, /^drn_\w+$/);
  return id;
}

describe('drainplane drain, drains and nodes against a running daemon', { timeout: 30_000 }, () => {
  let d: TestDaemon;
  const nodes: AckingNode[] = [];
  let modifyDrain = '';
  const cli = (...args: string[]) => runCli([...args, '--api', d.apiUrl]);

  before(async () => {
    d = await startTestDaemon(demoConfig());
    nodes.push(await connectNode(d, 'edge-1'));
  });
  after(async () => {
    for (const n of nodes) n.stream.close();
    await d.close();
  });

  test('drain --wait follows a modify drain to completion and exits 0', async () => {
    // A modify drain ends when Envoy drains no listener version: the node's stats flushes say so.
    const metrics = openEnvoyMetricsStream(d.xdsAddress, 'edge-1');
    const flush = () => metrics.send({ listenerManager: { warming: 0, draining: 0 } }, { tagsAsLabels: true });
    flush();
    const flushes = setInterval(flush, 200);
    const r = await cli('drain', '--selector', 'cluster=test-cluster', '--scope', 'ingress', '--method', 'modify', '--wait').finally(() => {
      clearInterval(flushes);
      void metrics.close();
    });
    assert.equal(r.code, 0, r.stderr);
    modifyDrain = drainId(r.stdout);
    assert.match(r.stdout, /^ingress: phase started, 1 node\(s\)$/m);
    assert.match(r.stdout, /^ingress: edge-1 drained \(1\/1\)$/m);
    assert.match(r.stdout, new RegExp(`^drain ${modifyDrain} completed after \\d+\\.\\ds$`, 'm'));
  });

  test('a selector that is empty or has an unknown key is a usage error naming it', async () => {
    const unknown = await cli('drain', '--selector', 'cluster=test-cluster,colour=blue', '--scope', 'ingress');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown key "colour"/);
    const emptyKey = await cli('drain', '--selector', '=blue', '--scope', 'ingress');
    assert.equal(emptyKey.code, 2);
    assert.match(emptyKey.stderr, /"=blue" has an empty key/);
    const empty = await cli('drain', '--selector', '', '--scope', 'ingress');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--selector is empty/);
  });

  test('a drain the API refuses exits 3 with each field error', async () => {
    const r = await cli('drain', '--selector', 'id=edge-1', '--scope', 'all', '--batch', '0', '--deadline', '0');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /POST \/v1\/drains\?nodes=100: 400 invalid_drain/);
    assert.match(r.stderr, /^ {2}batch\.size: must be an integer >= 1, got 0$/m);
    assert.match(r.stderr, /^ {2}deadlineSeconds: must be > 0, got 0$/m);
  });

  test('drain --wait exits 1 on a timed-out drain, naming the node, its listeners and why', async () => {
    nodes.push(await connectNode(d, 'slow-1'));
    const r = await cli('drain', '--selector', 'id=slow-1', '--scope', 'ingress', '--method', 'remove', '--deadline', '1', '--wait');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^ingress: slow-1 timed out: no connection gauges from this node within 1s/m);
    assert.match(r.stderr, /drain drn_\w+ timed out; held by:/);
    assert.match(r.stderr, /^ {2}ingress: slow-1 timed out, listeners ingress_http \(connections unknown\): no connection gauges/m);
  });

  test('drain --wait reconnects a dropped event stream, then falls back to polling', async () => {
    nodes.push(await connectNode(d, 'proxied-1'));
    const proxy = await eventStreamBreakingProxy(d.apiUrl);
    try {
      const r = await runCli(['drain', '--api', proxy.url, '--selector', 'id=proxied-1', '--scope', 'ingress', '--deadline', '1', '--wait']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /GET \/v1\/drains\/drn_\w+\/events\?nodes=100: the event stream broke: .*; reconnecting/);
      assert.match(
        r.stderr,
        /GET \/v1\/drains\/drn_\w+\/events\?nodes=100: 404: <h1>Not Found<\/h1>; polling \/v1\/drains\/drn_\w+\/summary\?nodes=100 every 1s instead/,
      );
      assert.match(r.stdout, /^ingress: proxied-1 timed out: no connection gauges/m);
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });

  test('nodes lists each node with its stream and acked LDS version', async () => {
    const r = await cli('nodes');
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    assert.match(header!, /^ID\s+CLUSTER\s+CONNECTED\s+STREAM\s+LDS ACKED\s+LAST NACK$/);
    const acked = d.daemon.nodes.get('edge-1')!.types.lds!.acked!.version;
    assert.ok(
      rows.some((row) => new RegExp(`^edge-1\\s+test-cluster\\s+yes\\s+sotw ads\\s+${acked}\\s+-$`).test(row)),
      r.stdout,
    );
    const json = await cli('nodes', '--json');
    const parsed = JSON.parse(json.stdout) as { nodes: { id: string }[] };
    assert.deepEqual(parsed.nodes.map((n) => n.id).sort(), ['edge-1', 'proxied-1', 'slow-1']);
  });

  test('drains lists the drains with state, method, scope, phase and node counts', async () => {
    const r = await cli('drains');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ID\s+STATE\s+METHOD\s+SCOPE\s+PHASE\s+NODES$/m);
    assert.match(r.stdout, new RegExp(`^${modifyDrain}\\s+completed\\s+modify\\s+ingress\\s+ingress\\s+drained=1$`, 'm'));
    assert.equal(r.stdout.match(/^drn_\w+\s+timed_out\s+remove\s+ingress\s+ingress\s+timed_out=1$/gm)?.length, 2, r.stdout);
  });

  test('drains advance starts egress; drains cancel restores every listener', async () => {
    const node = await connectNode(d, 'restore-1');
    nodes.push(node);
    const started = await cli('drain', '--selector', 'id=restore-1', '--scope', 'all', '--method', 'remove', '--egress-after', 'advance');
    assert.equal(started.code, 0, started.stderr);
    const id = drainId(started.stdout);
    await waitForListeners(node, ['egress_http']);

    const advanced = await cli('drains', 'advance', id);
    assert.equal(advanced.code, 0, advanced.stderr);
    assert.match(advanced.stdout, /egress phase started/);
    await waitForListeners(node, []);

    const cancelled = await cli('drains', 'cancel', id);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, new RegExp(`drain ${id} cancelled`));
    await waitForListeners(node, ['egress_http', 'ingress_http']);

    const again = await cli('drains', 'advance', id);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /409 not_applicable: advance starts the egress phase/);
  });

  test('an unreachable API exits 3', async () => {
    const r = await runCli(['drains', '--api', 'http://127.0.0.1:1']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot reach the API at http:\/\/127\.0\.0\.1:1\/: .*ECONNREFUSED/);
  });
});

describe('client commands against a daemon with an admin token', { timeout: 30_000 }, () => {
  let d: TestDaemon;
  let dir: string;
  let tokenFile: string;
  let readTokenFile: string;

  before(async () => {
    d = await startTestDaemon(demoConfig(), { apiTokens: { admin: ['tok-3f9a'], read: ['tok-read-5e1'] } });
    dir = await mkdtemp(path.join(tmpdir(), 'drainplane-token-'));
    tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, 'tok-3f9a\n');
    readTokenFile = path.join(dir, 'read-token');
    await writeFile(readTokenFile, 'tok-read-5e1\n');
  });
  after(async () => {
    await d.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('without the token a drain exits 3 with the 401 message; --token-file works', async () => {
    const args = ['drain', '--api', d.apiUrl, '--selector', 'cluster=nobody', '--scope', 'egress'];
    const refused = await runCli(args);
    assert.equal(refused.code, 3);
    assert.match(
      refused.stderr,
      /POST \/v1\/drains\?nodes=100: 401 unauthorized: POST \/v1\/drains\?nodes=100 needs "Authorization: Bearer <admin token>"/,
    );

    const accepted = await runCli([...args, '--token-file', tokenFile]);
    assert.equal(accepted.code, 0, accepted.stderr);
    const id = drainId(accepted.stdout);
    assert.match(accepted.stderr, /warning: no connected node matches the selector/);

    const cancelled = await runCli(['drains', 'cancel', id, '--api', d.apiUrl, '--token-file', tokenFile]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    // With tokens configured, reading needs one too.
    const unread = await runCli(['drains', '--api', d.apiUrl]);
    assert.equal(unread.code, 3);
    assert.match(
      unread.stderr,
      /GET \/v1\/drains\?nodes=0: 401 unauthorized: GET \/v1\/drains\?nodes=0 needs "Authorization: Bearer <read or admin token>"/,
    );
    assert.equal((await runCli(['drains', '--api', d.apiUrl, '--token-file', tokenFile])).code, 0);
  });

  test('a read token lists nodes and drains but cannot start a drain (403 names the scope)', async () => {
    assert.equal((await runCli(['nodes', '--api', d.apiUrl, '--token-file', readTokenFile])).code, 0);
    assert.equal((await runCli(['drains', '--api', d.apiUrl, '--token-file', readTokenFile])).code, 0);
    const refused = await runCli(['drain', '--api', d.apiUrl, '--selector', 'cluster=nobody', '--scope', 'egress', '--token-file', readTokenFile]);
    assert.equal(refused.code, 3);
    assert.match(
      refused.stderr,
      /POST \/v1\/drains\?nodes=100: 403 forbidden: POST \/v1\/drains\?nodes=100 needs an admin token; this token has the read scope/,
    );
  });
});
