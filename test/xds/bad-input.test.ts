import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import type { DesiredState } from '../../src/fleet/desired-state/desired-state.js';
import { combineEvents } from '../../src/xds/events.js';
import { XdsServer } from '../../src/xds/server.js';
import { openDeltaStream, openSotwStream, TYPE, type DeltaStream, type SotwStream } from '../support/ads-client.js';
import { desiredStateOf, parsedConfig } from '../support/desired-state.js';
import { demoConfig } from '../support/fleet-configs.js';

describe('bad input and slow clients', () => {
  let server: XdsServer;
  let cache: SnapshotCache;
  let desired: DesiredState;
  let address: string;
  const streams: (SotwStream | DeltaStream)[] = [];
  const ignored: string[] = [];

  before(async () => {
    ({ cache, desired } = desiredStateOf(demoConfig()));
    server = new XdsServer({
      watcher: cache,
      events: combineEvents(desired.events, { requestIgnored: (_s, reason) => ignored.push(reason) }),
      limits: { maxResourceNames: 50 },
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  });
  after(async () => {
    for (const s of streams) s.close();
    await server.close(1000);
  });

  test('a client that never answers gets one response per type, however often the config changes', async () => {
    const s = openSotwStream(address, { node: { id: 'silent', cluster: 'test-cluster' } });
    streams.push(s);
    s.send({ type_url: TYPE.LDS });
    await s.next(TYPE.LDS);
    for (let i = 0; i < 25; i++) desired.setConfig(parsedConfig(demoConfig({ listenerTag: `change-${i}` })));
    await s.expectSilence(300);
    assert.equal(s.responses.length, 1, 'nothing queues up behind an unanswered response');
    // Once it answers, it gets the latest state in one response, not the 25 in between.
    s.ack(s.responses[0]!);
    const latest = await s.next(TYPE.LDS);
    assert.equal(latest.version_info, cache.snapshot('silent')!.get(TYPE.LDS).version);
    s.ack(latest);
    await s.expectSilence(300);
  });

  test('more resource names than the limit ends the stream with INVALID_ARGUMENT', async () => {
    const s = openSotwStream(address, { node: { id: 'greedy', cluster: 'test-cluster' } });
    streams.push(s);
    s.send({ type_url: TYPE.RDS, resource_names: Array.from({ length: 51 }, (_, i) => `r${i}`) });
    const status = await s.closed;
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /names 51 resources; at most 50/);
  });

  test(
    'a Delta stream that subscribes to more names than the limit over several requests ends with INVALID_ARGUMENT',
    { timeout: 10_000 },
    async () => {
      const s = openDeltaStream(address, { node: { id: 'greedy-delta', cluster: 'test-cluster' } });
      streams.push(s);
      const names = (from: number) => Array.from({ length: 30 }, (_, i) => `r${from + i}`);
      s.send({ type_url: TYPE.RDS, resource_names_subscribe: names(0) });
      await s.next(TYPE.RDS);
      s.send({ type_url: TYPE.RDS, resource_names_subscribe: names(30) });
      const status = await s.closed;
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      assert.match(status.details, /subscribes to 60 resources of .*RouteConfiguration; at most 50/);
    },
  );

  test('unserved type URLs are reported for the first 16 of a stream, and the stream is served on', { timeout: 10_000 }, async () => {
    const s = openSotwStream(address, { node: { id: 'many-types', cluster: 'test-cluster' } });
    streams.push(s);
    const before = ignored.length;
    for (let i = 0; i < 100; i++) s.send({ type_url: `type.googleapis.com/unserved.Type${i}` });
    s.send({ type_url: TYPE.CDS });
    assert.equal((await s.next(TYPE.CDS)).resources.length, 2);
    assert.equal(ignored.slice(before).filter((r) => r.includes('is not served')).length, 16);
  });

  test('bytes that are not a DiscoveryRequest end that stream with a status; the server keeps serving', async () => {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const call = client.makeBidiStreamRequest(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    call.on('data', () => {});
    call.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const status = await ended;
    assert.notEqual(status.code, grpc.status.OK);
    client.close();

    const s = openSotwStream(address, { node: { id: 'after-garbage', cluster: 'test-cluster' } });
    streams.push(s);
    s.send({ type_url: TYPE.CDS });
    assert.equal((await s.next(TYPE.CDS)).resources.length, 2);
  });

  test('an empty node id is refused with a message that says so', async () => {
    const s = openSotwStream(address, { node: { id: '', cluster: 'test-cluster' } });
    streams.push(s);
    s.send({ type_url: TYPE.LDS });
    const status = await s.closed;
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /non-empty node.id/);
  });

  test('the gRPC health service answers SERVING on the xDS port', async () => {
    const { HealthClient } = await import('../support/health-client.js');
    const health = new HealthClient(address);
    assert.equal(await health.check(''), 'SERVING');
    health.close();
  });
});
