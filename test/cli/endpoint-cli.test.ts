/**
 * Endpoint drains from the command line: a backend's `prestop --endpoint` blocks until the Envoy
 * that holds the endpoint ACKed it DRAINING and reports nothing open to it; `drain --endpoint`
 * starts one, `drains` lists it by its endpoint, `drains cancel` restores it; a wrong address is
 * refused with the field named. The node is a simulated Envoy that ACKs EDS, with an admin
 * /clusters that reports the host idle.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
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

  test('a wrong address is refused by the API, naming the field; nothing is started', async () => {
    const before = (await runCli(['drains', '--json', '--api', d.apiUrl])).stdout;
    const r = await runCli(['drain', '--endpoint', `${APP},app-2`, '--api', d.apiUrl]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /endpoints\.addresses\[1\]: must be HOST:PORT/);
    assert.equal((await runCli(['drains', '--json', '--api', d.apiUrl])).stdout, before);
  });
});
