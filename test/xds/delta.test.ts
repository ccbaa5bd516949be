import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openDeltaStream, TYPE, type DeltaStream } from '../support/ads-client.js';
import { demoConfig } from '../support/fleet-configs.js';
import { daemonWithStreams } from '../support/stream-fixture.js';

const QUIET_MS = 300;

describe('Delta ADS', () => {
  const fx = daemonWithStreams((address, node) => openDeltaStream(address, { node }));
  const open = (id: string): DeltaStream => fx.open(id);

  test('wildcard LDS, then only the changed listener, then removed_resources', async () => {
    const s = open('delta-wildcard');
    s.send({ type_url: TYPE.LDS });
    const first = await s.next(TYPE.LDS);
    assert.deepEqual(
      first.resources.map((r) => r.name),
      ['egress_http', 'ingress_http'],
    );
    assert.ok(first.resources.every((r) => r.version !== ''));
    s.ack(first);
    await s.expectSilence(QUIET_MS);

    await fx.daemon.rewrite(demoConfig({ ingress: [{ name: 'ingress_http', port: 10001 }] }));
    const changed = await s.next(TYPE.LDS);
    assert.deepEqual(
      changed.resources.map((r) => r.name),
      ['ingress_http'],
    );
    assert.deepEqual(changed.removed_resources, []);
    s.ack(changed);

    await fx.daemon.rewrite(demoConfig({ ingress: [{ name: 'ingress_http', port: 10001 }], egress: [] }));
    const removed = await s.next(TYPE.LDS);
    assert.deepEqual(removed.resources, []);
    assert.deepEqual(removed.removed_resources, ['egress_http']);
    s.ack(removed);
    await s.expectSilence(QUIET_MS);
    assert.deepEqual(s.violations(), []);
    await fx.daemon.rewrite(demoConfig());
  });

  test('reconnect with initial_resource_versions sends only what differs', async () => {
    const s = open('delta-reconnect');
    s.send({ type_url: TYPE.LDS });
    const first = await s.next(TYPE.LDS);
    s.ack(first);
    const versions = Object.fromEntries(first.resources.map((r) => [r.name, r.version]));
    s.close();

    const same = open('delta-reconnect');
    same.send({ type_url: TYPE.LDS, initial_resource_versions: versions });
    await same.expectSilence(QUIET_MS);
    same.close();

    const stale = open('delta-reconnect');
    stale.send({
      type_url: TYPE.LDS,
      initial_resource_versions: { ...versions, ingress_http: 'old', gone_listener: 'x' },
    });
    const diff = await stale.next(TYPE.LDS);
    assert.deepEqual(
      diff.resources.map((r) => r.name),
      ['ingress_http'],
    );
    assert.deepEqual(diff.removed_resources, ['gone_listener']);
  });

  test('explicit subscribe and unsubscribe; a missing resource is reported removed', async () => {
    const s = open('delta-named');
    s.send({ type_url: TYPE.RDS, resource_names_subscribe: ['ingress_http_routes', 'no_such_routes'] });
    const first = await s.next(TYPE.RDS);
    assert.deepEqual(
      first.resources.map((r) => r.name),
      ['ingress_http_routes'],
    );
    assert.deepEqual(first.removed_resources, ['no_such_routes']);
    s.ack(first);
    s.send({ type_url: TYPE.RDS, resource_names_subscribe: ['egress_http_routes'], resource_names_unsubscribe: ['ingress_http_routes'] });
    const second = await s.next(TYPE.RDS);
    assert.deepEqual(
      second.resources.map((r) => r.name),
      ['egress_http_routes'],
    );
    s.ack(second);
    await fx.daemon.rewrite(demoConfig({ clusters: ['upstream', 'app'] })); // routes now point at "upstream"
    const third = await s.next(TYPE.RDS);
    assert.deepEqual(
      third.resources.map((r) => r.name),
      ['egress_http_routes'],
      'unsubscribed routes are not sent',
    );
    s.ack(third);
    await fx.daemon.rewrite(demoConfig());
  });

  test('NACK parks the type until the config changes', async () => {
    const s = open('delta-nack');
    s.send({ type_url: TYPE.LDS });
    s.ack(await s.next(TYPE.LDS));
    await fx.daemon.rewrite(demoConfig({ listenerTag: 'bad' }));
    const bad = await s.next(TYPE.LDS);
    s.nack(bad, 'rejected by test');
    await s.expectSilence(QUIET_MS * 2);
    await fx.daemon.rewrite(demoConfig({ listenerTag: 'good' }));
    const good = await s.next(TYPE.LDS);
    assert.equal(good.resources.length, 2);
    s.ack(good);
    await fx.daemon.rewrite(demoConfig());
  });
});
