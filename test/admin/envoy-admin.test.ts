import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { EnvoyAdmin, EnvoyAdminError, EnvoyVersionError } from '../../src/admin/envoy-admin.js';
import { atLeast } from '../../src/cache/envoy-version.js';
import { hostKey } from '../../src/fleet/drain/ports.js';
import { FakeEnvoyAdmin, type FakeEnvoyAdminOptions } from '../support/fake-envoy-admin.js';

const MUTATING_PATHS = ['/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/quitquitquit'];

/** A fake and a client on it, closed after the test. */
async function withAdmin(
  options: FakeEnvoyAdminOptions,
  run: (admin: EnvoyAdmin, fake: FakeEnvoyAdmin) => Promise<void>,
  timeoutMs = 1000,
): Promise<void> {
  const fake = await FakeEnvoyAdmin.start(options);
  const admin = new EnvoyAdmin({ address: fake.address, timeoutMs });
  try {
    await run(admin, fake);
  } finally {
    await fake.close();
    await admin.close();
  }
}

function isAdminError(code: EnvoyAdminError['code'], path: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof EnvoyAdminError, `not an EnvoyAdminError: ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.path, path);
    assert.ok(err.message.includes(err.address), `message names the address: ${err.message}`);
    assert.ok(err.message.includes(err.path), `message names the path: ${err.message}`);
    return true;
  };
}

describe('EnvoyAdmin reads', () => {
  let fake: FakeEnvoyAdmin;
  let admin: EnvoyAdmin;
  before(async () => {
    fake = await FakeEnvoyAdmin.start({ version: '1.34.1', drainTime: '45s', drainStrategy: 'Immediate' });
    admin = new EnvoyAdmin({ address: fake.address });
  });
  after(async () => {
    await admin.close();
    await fake.close();
  });

  test('serverInfo parses the release, state and drain settings', async () => {
    assert.deepEqual(await admin.serverInfo(), {
      version: '1.34.1',
      state: 'LIVE',
      drainTimeSeconds: 45,
      drainStrategy: 'Immediate',
      parentShutdownTimeSeconds: 900,
      node: { id: 'fake-node', cluster: 'fake-cluster' },
    });
  });

  test('stats sends format=json and the filter, and skips histograms', async () => {
    fake.gauges.clear();
    fake.gauges.set('server.live', 1).set('listener_manager.total_listeners_active', 2).set('cluster.a.upstream_cx_total', 7);
    assert.deepEqual(
      await admin.stats(),
      new Map([
        ['cluster.a.upstream_cx_total', 7],
        ['listener_manager.total_listeners_active', 2],
        ['server.live', 1],
      ]),
    );
    assert.deepEqual(await admin.stats(/^server\./), new Map([['server.live', 1]]));
    const byString = await admin.stats('listener_manager\\.total');
    assert.deepEqual(byString, new Map([['listener_manager.total_listeners_active', 2]]));
    assert.deepEqual(fake.requestsTo('/stats').at(-1)?.query, { format: 'json', filter: 'listener_manager\\.total' });
    await assert.rejects(admin.stats(/server/i), /flags "i"/);
  });

  test('connectionGauges leaves out admin and per-worker names, and reads the listener manager counts', async () => {
    fake.gauges.clear();
    fake.gauges
      .set('listener.0.0.0.0_10000.downstream_cx_active', 3)
      .set('listener.0.0.0.0_10000.worker_0.downstream_cx_active', 2)
      .set('listener.0.0.0.0_10000.worker_1.downstream_cx_active', 1)
      .set('listener.[__]_15001.downstream_cx_active', 0)
      .set('listener.admin.downstream_cx_active', 1)
      .set('http.ingress_http.downstream_cx_active', 3)
      .set('http.admin.downstream_cx_active', 1)
      .set('http.ingress_http.downstream_cx_total', 40)
      .set('server.total_connections', 4)
      .set('listener_manager.total_listeners_warming', 0)
      .set('listener_manager.total_listeners_draining', 1)
      .set('listener_manager.total_listeners_active', 2);
    const gauges = await admin.connectionGauges();
    assert.deepEqual(
      gauges.listeners,
      new Map([
        ['0.0.0.0_10000', 3],
        ['[__]_15001', 0],
      ]),
    );
    assert.deepEqual(gauges.httpPrefixes, new Map([['ingress_http', 3]]));
    assert.deepEqual(gauges.listenerManager, { warming: 0, draining: 1 });
  });

  test('hostCounts reads requests and connections per host from /clusters?format=json, IPv6 hosts in brackets', async () => {
    fake.hosts.clear();
    fake.setHost('app', '127.0.0.1:8080', { requests: 2, connections: 3 });
    fake.setHost('app', '[::1]:8081', { requests: 0, connections: 0 });
    const counts = await admin.hostCounts();
    assert.deepEqual(counts.hosts.get(hostKey('app', '127.0.0.1:8080')), { requests: 2, connections: 3 });
    assert.deepEqual(counts.hosts.get(hostKey('app', '[::1]:8081')), { requests: 0, connections: 0 });
    assert.deepEqual(fake.requestsTo('/clusters').at(-1)?.query, { format: 'json' });
  });

  test('ready follows the health check: LIVE, DRAINING, LIVE', async () => {
    assert.equal(await admin.ready(), 'LIVE');
    await admin.healthcheckFail();
    assert.equal(await admin.ready(), 'DRAINING');
    assert.equal((await admin.serverInfo()).state, 'DRAINING');
    await admin.drainListeners({ graceful: true, inboundOnly: false });
    assert.equal(await admin.ready(), 'DRAINING');
    await admin.healthcheckOk();
    assert.equal(await admin.ready(), 'LIVE');
  });
});

describe('EnvoyAdmin mutations', () => {
  test('every mutation is a POST; the fake, like Envoy, refuses GET', () =>
    withAdmin({}, async (admin, fake) => {
      await admin.healthcheckFail();
      await admin.healthcheckOk();
      await admin.drainListeners({ graceful: true, inboundOnly: true, skipExit: true });
      await admin.quitQuitQuit();
      const mutations = fake.requests.filter((r) => MUTATING_PATHS.includes(r.path));
      assert.deepEqual(
        mutations.map((r) => `${r.method} ${r.path}`),
        ['POST /healthcheck/fail', 'POST /healthcheck/ok', 'POST /drain_listeners', 'POST /quitquitquit'],
      );
      assert.ok(fake.quitRequested);

      const get = await request(`http://${fake.address}/healthcheck/fail`);
      assert.equal(get.statusCode, 405);
      assert.match(await get.body.text(), /POST required/);
      assert.equal(fake.healthCheckFailed, false);
    }));

  test('a graceful inbound-only drain on 1.34 sends graceful&inboundonly', () =>
    withAdmin({ version: '1.34.0' }, async (admin, fake) => {
      await admin.drainListeners({ graceful: true, inboundOnly: true });
      // Without a version given, the client asks /server_info first.
      assert.deepEqual(
        fake.requests.map((r) => `${r.method} ${r.path}`),
        ['GET /server_info', 'POST /drain_listeners'],
      );
      assert.deepEqual(fake.requestsTo('/drain_listeners')[0]?.query, { graceful: '', inboundonly: '' });
    }));

  test('a graceful inbound-only drain is refused on 1.33, where it would drain egress too', () =>
    withAdmin({ version: '1.33.2' }, async (admin, fake) => {
      await assert.rejects(admin.drainListeners({ graceful: true, inboundOnly: true }), (err: unknown) => {
        assert.ok(err instanceof EnvoyVersionError);
        assert.equal(err.envoyVersion, '1.33.2');
        assert.match(err.message, /every direction.*1\.34\.0.*allowAllDirections/s);
        return true;
      });
      const devBuild = admin.drainListeners({ graceful: true, inboundOnly: true }, '1.34.0-dev');
      await assert.rejects(devBuild, EnvoyVersionError);
      assert.deepEqual(fake.requestsTo('/drain_listeners'), []);

      await admin.drainListeners({ graceful: false, inboundOnly: true }, '1.33.2');
      await admin.drainListeners({ graceful: true, inboundOnly: true, allowAllDirections: true });
      assert.deepEqual(
        fake.requestsTo('/drain_listeners').map((r) => r.query),
        [{ inboundonly: '' }, { graceful: '', inboundonly: '' }],
      );
      assert.deepEqual(fake.requestsTo('/server_info'), [fake.requests[0]], 'only the first drain asked for the version');
    }));

  test('skip_exit without graceful is refused before 1.40, where Envoy answers 400; with graceful it is sent on any version', () =>
    withAdmin({ version: '1.39.3' }, async (admin, fake) => {
      const skipWithoutGraceful = admin.drainListeners({ graceful: false, inboundOnly: false, skipExit: true });
      await assert.rejects(skipWithoutGraceful, (err: unknown) => {
        assert.ok(err instanceof EnvoyVersionError);
        assert.match(err.message, /1\.39\.3 refuses skip_exit without graceful.*1\.40\.0/);
        return true;
      });
      assert.deepEqual(fake.requestsTo('/drain_listeners'), []);
      await admin.drainListeners({ graceful: true, inboundOnly: false, skipExit: true });
      assert.deepEqual(fake.requestsTo('/drain_listeners')[0]?.query, { graceful: '', skip_exit: '' });
    }));

  test('skip_exit without graceful is sent from 1.40 on', () =>
    withAdmin({ version: '1.40.0' }, async (admin, fake) => {
      await admin.drainListeners({ graceful: false, inboundOnly: true, skipExit: true });
      assert.deepEqual(
        fake.requestsTo('/drain_listeners').map((r) => r.query),
        [{ inboundonly: '', skip_exit: '' }],
      );
    }));
});

describe('EnvoyAdmin failures', () => {
  test('a route that never answers is a timeout within the bound', () =>
    withAdmin(
      {},
      async (admin, fake) => {
        fake.hang('/server_info');
        const started = performance.now();
        await assert.rejects(admin.serverInfo(), isAdminError('timeout', /^\/server_info$/));
        const elapsed = performance.now() - started;
        // Bounded by the client's 150 ms, not undici's minutes; the margin is for a busy machine.
        assert.ok(elapsed >= 140 && elapsed < 5_000, `timed out after ${elapsed} ms`);
        assert.equal(await admin.ready(), 'LIVE', 'other calls still work');
      },
      150,
    ));

  test('a closed port is unreachable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const admin = new EnvoyAdmin({ address: `127.0.0.1:${port}`, timeoutMs: 500 });
    try {
      await assert.rejects(admin.healthcheckFail(), isAdminError('unreachable', /^\/healthcheck\/fail$/));
    } finally {
      await admin.close();
    }
  });

  test('unexpected statuses and bodies', () =>
    withAdmin({}, async (admin, fake) => {
      fake.respond('/stats', 500, 'stats are broken');
      await assert.rejects(admin.stats('x'), (err: unknown) => {
        assert.ok(isAdminError('http_status', /^\/stats\?format=json&filter=x$/)(err));
        assert.equal((err as EnvoyAdminError).status, 500);
        assert.match((err as Error).message, /HTTP 500: stats are broken/);
        return true;
      });
      fake.respond('/server_info', 200, '<html>');
      await assert.rejects(admin.serverInfo(), isAdminError('bad_response', /^\/server_info$/));
      fake.respond('/server_info', 200, JSON.stringify({ version: 'no release here', state: 'LIVE' }));
      await assert.rejects(admin.serverInfo(), isAdminError('bad_response', /^\/server_info$/));
      fake.respond('/ready', 500, 'oops');
      await assert.rejects(admin.ready(), isAdminError('http_status', /^\/ready$/));
      fake.respond('/drain_listeners', 400, 'skip_exit requires graceful\n');
      const drain = admin.drainListeners({ graceful: true, inboundOnly: false });
      await assert.rejects(drain, isAdminError('http_status', /^\/drain_listeners\?graceful$/));
    }));
});

describe('EnvoyAdmin address', () => {
  test('loopback addresses are accepted', async () => {
    const loopback = ['127.0.0.1:9901', '127.8.9.10:9901', '[::1]:9901', 'localhost:9901', '[::ffff:127.0.0.1]:9901'];
    for (const address of loopback) {
      await new EnvoyAdmin({ address }).close();
    }
  });

  test('a non-loopback address is refused unless allowRemote is set', async () => {
    for (const address of ['10.0.0.5:9901', 'envoy.example:9901', '[2001:db8::1]:9901', '0.0.0.0:9901']) {
      assert.throws(() => new EnvoyAdmin({ address }), /not loopback.*allowRemote/);
    }
    await new EnvoyAdmin({ address: '10.0.0.5:9901', allowRemote: true }).close();
  });

  test('malformed addresses are refused', () => {
    const malformed = ['127.0.0.1', '::1:9901', '127.0.0.1:0', '127.0.0.1:70000', 'http://127.0.0.1:9901', '[nope]:9901'];
    for (const address of malformed) {
      assert.throws(() => new EnvoyAdmin({ address, allowRemote: true }), /not host:port/, address);
    }
  });
});

describe('atLeast', () => {
  test('orders releases, with dev builds below their release', () => {
    assert.ok(atLeast('1.34.0', '1.34.0'));
    assert.ok(atLeast('1.34.1', '1.34.0'));
    assert.ok(atLeast('1.35.0-dev', '1.34.0'));
    assert.ok(atLeast('2.0.0', '1.34.0'));
    assert.ok(!atLeast('1.33.9', '1.34.0'));
    assert.ok(!atLeast('1.34.0-dev', '1.34.0'));
    assert.ok(!atLeast('1.4.0', '1.34.0'));
    assert.throws(() => atLeast('latest', '1.34.0'), /not an Envoy version/);
  });
});
