/**
 * Endpoint drains from the command line: a backend's `prestop --endpoint` blocks until the Envoy
 * that holds the endpoint ACKed it DRAINING and reports nothing open to it; `drain --endpoint`
 * starts one, `drains` lists it by its endpoint, `drains cancel` restores it; a wrong address is
 * refused with the field named. The node is a simulated Envoy that ACKs EDS, with an admin
 * /clusters that reports the host idle.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { BIN, runCli } from '../support/cli.js';
import { freePort } from '../support/etcd.js';
import { waitUntil } from '../support/wait.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { EdsNode } from '../support/eds-node.js';
import { FakeEnvoyAdmin } from '../support/fake-envoy-admin.js';
import { demoConfig } from '../support/fleet-configs.js';

const APP = '127.0.0.1:8080';

describe('endpoint drains from the CLI', { timeout: 60_000 }, () => {
  let d: TestDaemon;
  let admin: FakeEnvoyAdmin;
  let node: EdsNode;

  before(async () => {
    // Its Envoy has nothing open to the app's host.
    admin = await FakeEnvoyAdmin.start();
    admin.setHost('app', APP, { requests: 0, connections: 0 });
    d = await startTestDaemon(demoConfig());
    node = EdsNode.connect(d.xdsAddress, 'cli-ep', { clusters: ['app', 'upstream'], metadata: { admin_address: admin.address } });
    await node.waitFor('app', () => true, 'at all');
  });
  after(async () => {
    node?.close();
    await d?.close();
    await admin?.close();
  });

  test('prestop --endpoint returns once the Envoy holding it is done, saying so; drains lists it by its endpoint', async () => {
    const r = await runCli(['prestop', '--endpoint', APP, '--deadline', '20', '--api', d.apiUrl], 30_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^prestop: endpoint 127\.0\.0\.1:8080 completed in 1 Envoy\(s\) after [\d.]+s \(drain drn_\w+\)\n$/);
    const list = await runCli(['drains', '--api', d.apiUrl]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /completed\s+eds\s+endpoint:127\.0\.0\.1:8080\s+endpoints\s+drained=1/);
  });

  test('drain --endpoint --remove starts one; drains cancel restores it', async () => {
    const started = await runCli(['drain', '--endpoint', APP, '--remove', '--api', d.apiUrl]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    const cancelled = await runCli(['drains', 'cancel', id, '--api', d.apiUrl]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /cancelled; what it changed \(listeners, endpoints\) is restored/);
  });

  test("prestop-hook: at start it releases the endpoint a stopped pod's drain holds; the kubelet's GETs drain it once; SIGTERM ends it", async () => {
    const holding = d.daemon.drains
      .list()
      .filter((x) => x.state === 'completed')
      .map((x) => x.id);
    assert.equal(holding.length, 1, 'the prestop test above left its completed drain holding the endpoint');

    const port = await freePort();
    const hook = spawn(process.execPath, [BIN, 'prestop-hook', '--endpoint', APP, '--port', String(port), '--host', '127.0.0.1', '--api', d.apiUrl]);
    let output = '';
    hook.stdout.on('data', (c: Buffer) => (output += c.toString()));
    hook.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => hook.on('exit', resolve));
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitUntil('the hook to listen', async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 10_000);
      await waitUntil('the left-over drain to be cancelled', () => d.daemon.drains.get(holding[0]!)?.state === 'cancelled', 10_000);

      const fromPage = await fetch(`${url}/v1/prestop`, { headers: { origin: 'https://evil.example' } });
      assert.equal(fromPage.status, 403, 'a web page cannot fire it');

      const drainsBefore = d.daemon.drains.list().length;
      const [first, second] = await Promise.all([fetch(`${url}/v1/prestop`), fetch(`${url}/v1/prestop`)]);
      const bodies = (await Promise.all([first.json(), second.json()])) as { endpoint: string; drain: string; state: string }[];
      assert.deepEqual([first.status, second.status], [200, 200]);
      assert.equal(bodies[0]!.state, 'completed');
      assert.equal(bodies[0]!.endpoint, APP);
      assert.equal(bodies[1]!.drain, bodies[0]!.drain, 'both GETs waited on one drain');
      assert.equal(d.daemon.drains.list().length, drainsBefore + 1);

      hook.kill('SIGTERM');
      assert.equal(await exited, 0, output);
    } finally {
      hook.kill('SIGKILL');
    }
  });

  test('a wrong address is refused by the API, naming the field; nothing is started', async () => {
    const before = (await runCli(['drains', '--json', '--api', d.apiUrl])).stdout;
    const r = await runCli(['drain', '--endpoint', `${APP},app-2`, '--api', d.apiUrl]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /endpoints\.addresses\[1\]: must be HOST:PORT/);
    assert.equal((await runCli(['drains', '--json', '--api', d.apiUrl])).stdout, before);
  });
});

test('prestop --endpoint with a deadline that is not a number is a usage error naming the flag; nothing is asked of the API', async () => {
  const r = await runCli(['prestop', '--endpoint', APP, '--deadline', 'soon', '--api', 'http://127.0.0.1:1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--deadline must be a whole number of at least 1, got "soon"/);
});
