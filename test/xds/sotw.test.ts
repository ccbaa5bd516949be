import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openSotwStream, TYPE, type SotwStream, type StreamOptions } from '../support/ads-client.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';
import { daemonWithStreams } from '../support/stream-fixture.js';

const QUIET_MS = 300;

describe('SotW ADS', () => {
  const fx = daemonWithStreams((address, node, opts: StreamOptions = {}) => openSotwStream(address, { node, ...opts }));
  const open = (id: string, opts: StreamOptions = {}): SotwStream => fx.open(id, opts);

  test('wildcard LDS gets every listener, and an ACK gets silence', async () => {
    const s = open('wildcard');
    s.send({ type_url: TYPE.LDS });
    const res = await s.next(TYPE.LDS);
    assert.deepEqual(
      res.resources.map((r) => r.name),
      ['egress_http', 'ingress_http'],
    );
    assert.notEqual(res.version_info, '');
    s.ack(res);
    await s.expectSilence(QUIET_MS);
    assert.deepEqual(s.violations(), []);
  });

  test('listeners carry drain_type by role: egress MODIFY_ONLY, ingress DEFAULT', async () => {
    const s = open('roles');
    s.send({ type_url: TYPE.LDS });
    const res = await s.next(TYPE.LDS);
    const byName = Object.fromEntries(res.resources.map((r) => [r.name, r.message]));
    assert.equal(byName['egress_http']!['drain_type'], 'MODIFY_ONLY');
    assert.equal(byName['ingress_http']!['drain_type'], undefined, 'DEFAULT is the proto default');
    assert.equal(byName['ingress_http']!['traffic_direction'], 'INBOUND');
  });

  test('named RDS subscription gets exactly the named routes; a wider subscription gets more', async () => {
    const s = open('named');
    s.send({ type_url: TYPE.RDS, resource_names: ['ingress_http_routes'] });
    const first = await s.next(TYPE.RDS);
    assert.deepEqual(
      first.resources.map((r) => r.name),
      ['ingress_http_routes'],
    );
    s.ack(first, ['ingress_http_routes', 'egress_http_routes']);
    const second = await s.next(TYPE.RDS);
    assert.deepEqual(
      second.resources.map((r) => r.name),
      ['egress_http_routes', 'ingress_http_routes'],
    );
    assert.equal(second.version_info, first.version_info, 'same routes, same version');
    s.ack(second);
    await s.expectSilence(QUIET_MS);
  });

  test('a route unsubscribed and asked for again is sent again (Envoy forgot it)', async () => {
    const s = open('resubscribe');
    s.send({ type_url: TYPE.RDS, resource_names: ['ingress_http_routes'] });
    const first = await s.next(TYPE.RDS);
    s.ack(first);
    await s.expectSilence(QUIET_MS);
    // The listener using the routes is gone: Envoy drops the subscription, and the routes.
    s.ack(first, []);
    await s.expectSilence(QUIET_MS);
    // The listener is back: the same routes, unchanged, must still be sent.
    s.ack(first, ['ingress_http_routes']);
    const again = await s.next(TYPE.RDS);
    assert.deepEqual(
      again.resources.map((r) => r.name),
      ['ingress_http_routes'],
    );
    assert.equal(again.version_info, first.version_info);
    s.ack(again);
    await s.expectSilence(QUIET_MS);
  });

  test('a request with a stale nonce is ignored', async () => {
    const s = open('stale');
    s.send({ type_url: TYPE.RDS, resource_names: ['ingress_http_routes'] });
    const first = await s.next(TYPE.RDS);
    s.send({ type_url: TYPE.RDS, resource_names: ['egress_http_routes'], response_nonce: 'not-a-nonce', version_info: '' });
    await s.expectSilence(QUIET_MS);
    s.ack(first, ['ingress_http_routes']);
    await s.expectSilence(QUIET_MS);
  });

  test('a node that matches no group is sent nothing, never an empty listener set', async () => {
    const s = fx.open('stranger', { node: { id: 'stranger', cluster: 'nobody' } });
    s.send({ type_url: TYPE.LDS });
    s.send({ type_url: TYPE.CDS });
    await s.expectSilence(QUIET_MS);
  });

  test('a per-type LDS service serves listeners and refuses another type', async () => {
    const lds = open('per-type', { service: 'lds' });
    lds.send({});
    const res = await lds.next(TYPE.LDS);
    assert.equal(res.resources.length, 2);
    const wrong = open('per-type-wrong', { service: 'lds' });
    wrong.send({ type_url: TYPE.CDS });
    const status = await wrong.closed;
    assert.equal(status.code, 3 /* INVALID_ARGUMENT */);
    assert.match(status.details, /not served on the .*Listener service/);
  });

  test('bad input: no node, unknown type URL', async () => {
    const noNode = open('x');
    noNode.send({ type_url: TYPE.LDS, node: null });
    const status = await noNode.closed;
    assert.equal(status.code, 3);
    assert.match(status.details, /must carry node/);

    const s = open('unknown-type');
    s.send({ type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', resource_names: ['x'] });
    s.send({ type_url: TYPE.CDS });
    const cds = await s.next(TYPE.CDS);
    assert.equal(cds.resources.length, 2, 'the stream keeps serving the types it knows');
  });
});

describe('SotW updates, NACK parking and ordering', () => {
  let d: TestDaemon;
  const streams: SotwStream[] = [];
  before(async () => {
    d = await startTestDaemon(demoConfig());
  });
  after(async () => {
    for (const s of streams) s.close();
    await d.close();
  });

  /** Subscribes to all four types like Envoy (CDS, EDS, LDS, RDS) and ACKs each. */
  async function syncedNode(id: string): Promise<SotwStream> {
    const s = openSotwStream(d.xdsAddress, { node: { id, cluster: 'test-cluster' } });
    streams.push(s);
    s.send({ type_url: TYPE.CDS });
    const cds = await s.next(TYPE.CDS);
    s.ack(cds);
    s.send({ type_url: TYPE.EDS, resource_names: ['app', 'upstream'] });
    s.ack(await s.next(TYPE.EDS));
    s.send({ type_url: TYPE.LDS });
    s.ack(await s.next(TYPE.LDS));
    s.send({ type_url: TYPE.RDS, resource_names: ['ingress_http_routes', 'egress_http_routes'] });
    s.ack(await s.next(TYPE.RDS));
    await s.expectSilence(QUIET_MS);
    return s;
  }

  test('the same config reloaded, or reordered, pushes nothing', async () => {
    const s = await syncedNode('determinism');
    const versions = d.daemon.cache.snapshot('determinism')!.versions();
    assert.equal((await d.rewrite(demoConfig())).result, 'unchanged');
    // Same document with every mapping's keys in reverse order.
    const YAML = (await import('yaml')).default;
    const reverse = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverse)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverse(x)]),
            )
          : v;
    assert.equal((await d.rewrite(YAML.stringify(reverse(YAML.parse(demoConfig()))))).result, 'unchanged');
    await s.expectSilence(QUIET_MS);
    assert.deepEqual(d.daemon.cache.snapshot('determinism')!.versions(), versions);
    await d.rewrite(demoConfig());
  });

  test('a listener change pushes LDS only, and a full-state LDS response drops removed listeners', async () => {
    const s = await syncedNode('lds-change');
    await d.rewrite(demoConfig({ listenerTag: 'v2' }));
    const changed = await s.next(TYPE.LDS);
    assert.equal(changed.resources.length, 2);
    s.ack(changed);
    await s.expectSilence(QUIET_MS);

    await d.rewrite(demoConfig({ listenerTag: 'v2', egress: [] }));
    const removed = await s.next(TYPE.LDS);
    assert.deepEqual(
      removed.resources.map((r) => r.name),
      ['ingress_http'],
    );
    s.ack(removed);
    await d.rewrite(demoConfig());
    s.ack(await s.next(TYPE.LDS));
  });

  test('after a NACK nothing is resent until the config changes; the NACK is on the node', async () => {
    const s = await syncedNode('nacker');
    await d.rewrite(demoConfig({ listenerTag: 'rejected' }));
    const bad = await s.next(TYPE.LDS);
    const lastGood = s.responses.filter((r) => r.type_url === TYPE.LDS)[0]!.version_info;
    s.nack(bad, lastGood, 'Error adding/updating listener(s) ingress_http: invalid thing');
    await s.expectSilence(QUIET_MS * 2);

    const res = await fetch(`${d.apiUrl}/v1/nodes/nacker`);
    const node = (await res.json()) as { types: { lds: { lastNack: { version: string; message: string }; parked?: unknown } } };
    assert.equal(node.types.lds.lastNack.version, bad.version_info);
    assert.match(node.types.lds.lastNack.message, /invalid thing/);

    // Reconnecting with the last good version does not bring the rejected config back.
    s.close();
    const again = openSotwStream(d.xdsAddress, { node: { id: 'nacker', cluster: 'test-cluster' } });
    streams.push(again);
    again.send({ type_url: TYPE.LDS, version_info: lastGood });
    await again.expectSilence(QUIET_MS * 2, TYPE.LDS);

    // A new process of the node (no version: it has nothing) gets what the node last accepted.
    const restarted = openSotwStream(d.xdsAddress, { node: { id: 'nacker', cluster: 'test-cluster' } });
    streams.push(restarted);
    restarted.send({ type_url: TYPE.LDS });
    const fallback = await restarted.next(TYPE.LDS);
    assert.equal(fallback.version_info, lastGood);
    restarted.ack(fallback);
    await restarted.expectSilence(QUIET_MS * 2, TYPE.LDS);
    const parked = (await (await fetch(`${d.apiUrl}/v1/nodes/nacker`)).json()) as {
      types: { lds: { parked?: { version: string; serving?: string } } };
    };
    assert.deepEqual({ ...parked.types.lds.parked, since: undefined }, { version: bad.version_info, serving: lastGood, since: undefined });
    restarted.close();

    // A config change is sent.
    await d.rewrite(demoConfig({ listenerTag: 'fixed' }));
    const fixed = await again.next(TYPE.LDS);
    assert.notEqual(fixed.version_info, bad.version_info);
    again.ack(fixed);
    const metrics = await (await fetch(`${d.apiUrl}/metrics`)).text();
    assert.match(metrics, /drainplane_xds_nacks_total\{type="lds"\} 1/);
    await d.rewrite(demoConfig());
  });

  test('on ADS a change to every type is pushed CDS, EDS, LDS, RDS', async () => {
    const s = await syncedNode('ordering');
    const before = s.responses.length;
    await d.rewrite(demoConfig({ listenerTag: 'order', endpointPort: 9090, clusters: ['app', 'upstream', 'extra'] }));
    // Answer each push as Envoy does, so the next type is not held behind an unanswered one.
    for (let i = 0; i < 3; i++) s.ack(await s.next());
    await s.expectSilence(QUIET_MS);
    const order = s.responses.slice(before).map((r) => r.type_url);
    assert.deepEqual(order, [TYPE.CDS, TYPE.EDS, TYPE.LDS], 'routes did not change, so no RDS push');
    assert.deepEqual(s.violations(), []);
    await d.rewrite(demoConfig());
  });
});
