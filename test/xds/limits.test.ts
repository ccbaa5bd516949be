/**
 * Bounds on the xDS port: the size of a message a node may send, the streams one HTTP/2
 * connection may hold, and the response bytes a node may leave unread.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { combineEvents } from '../../src/xds/events.js';
import { XdsServer, type XdsLimits } from '../../src/xds/server.js';
import { openSotwStream, TYPE, type SotwStream } from '../support/ads-client.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { waitUntil } from '../support/wait.js';
import { desiredStateOf } from '../support/desired-state.js';
import { demoConfig } from '../support/fleet-configs.js';
import { captureLogs } from '../support/log-capture.js';
import { ADS_PATH, connected, discoveryRequestFrame, LDS_PATH, rawStream, resetCode } from '../support/raw-xds.js';

const KiB = 1024;
const MiB = 1024 * KiB;

async function serverWith(limits: Partial<XdsLimits>): Promise<{ server: XdsServer; address: string; port: number }> {
  const { cache, desired } = desiredStateOf(demoConfig());
  const server = new XdsServer({ watcher: cache, events: combineEvents(desired.events), limits });
  const port = await server.listen('127.0.0.1', 0);
  return { server, address: `127.0.0.1:${port}`, port };
}

describe('xDS message size', () => {
  const streams: SotwStream[] = [];
  after(() => streams.forEach((s) => s.close()));

  test('a request beyond the limit ends its stream with RESOURCE_EXHAUSTED; one within it is served', async () => {
    const { server, address } = await serverWith({ maxReceiveMessageBytes: 64 * KiB });
    try {
      const big = openSotwStream(address, { node: { id: 'big', cluster: 'test-cluster' } });
      streams.push(big);
      big.send({ type_url: TYPE.LDS, resource_names: ['x'.repeat(100 * KiB)] });
      const status = await big.closed;
      assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED, status.details);

      const fits = openSotwStream(address, { node: { id: 'fits', cluster: 'test-cluster', metadata: { pad: 'x'.repeat(32 * KiB) } } });
      streams.push(fits);
      fits.send({ type_url: TYPE.LDS });
      assert.equal((await fits.next(TYPE.LDS)).resources.length, 2);
    } finally {
      await server.close(500);
    }
  });

  test('by default a request of more than 4 MiB is refused and one of 3 MiB is served', async () => {
    const { server, address } = await serverWith({});
    try {
      const big = openSotwStream(address, { node: { id: 'big', cluster: 'test-cluster', metadata: { pad: 'x'.repeat(5 * MiB) } } });
      streams.push(big);
      big.send({ type_url: TYPE.LDS });
      assert.equal((await big.closed).code, grpc.status.RESOURCE_EXHAUSTED);

      const fits = openSotwStream(address, { node: { id: 'fits', cluster: 'test-cluster', metadata: { pad: 'x'.repeat(3 * MiB) } } });
      streams.push(fits);
      fits.send({ type_url: TYPE.LDS });
      assert.equal((await fits.next(TYPE.LDS, 10_000)).resources.length, 2);
    } finally {
      await server.close(500);
    }
  });
});

describe('xDS streams per connection', () => {
  test('the server announces its limit, and a stream beyond it waits for a free slot', async () => {
    const { server, port } = await serverWith({ maxConcurrentStreams: 2 });
    const session = await connected(port);
    try {
      assert.equal(session.remoteSettings.maxConcurrentStreams, 2);
      const order: string[] = [];
      const streams = [0, 1, 2].map((i) => {
        const s = rawStream(session, ADS_PATH);
        s.on('response', () => order.push(`response ${i}`));
        s.on('data', () => {});
        s.write(discoveryRequestFrame({ node: { id: `conn-${i}`, cluster: 'test-cluster' }, type_url: TYPE.LDS }));
        return s;
      });
      await waitUntil('the first two streams to be answered', () => order.length === 2);
      assert.deepEqual([...order].sort(), ['response 0', 'response 1']);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(order.length, 2, 'the third stream is not served while two are open');
      streams[0]!.close(http2.constants.NGHTTP2_CANCEL);
      await waitUntil('the third stream to be answered', () => order.includes('response 2'));
    } finally {
      session.destroy();
      await server.close(500);
    }
  });
});

describe('responses a node leaves unread', { timeout: 30_000 }, () => {
  // Each LDS response carries two listeners with a 100 KiB tag: about 200 KiB.
  const bigConfig = (version: string) => demoConfig({ listenerTag: `${version}-${'x'.repeat(100 * KiB)}` });
  const LIMIT = 256 * KiB;
  const logs = captureLogs();
  let d: TestDaemon;

  before(async () => {
    d = await startTestDaemon(bigConfig('v1'), { xdsLimits: { maxQueuedBytes: LIMIT }, logger: logs.logger });
  });
  after(() => d.close());

  test('a node that reads gets response after response of that size', async () => {
    const s = openSotwStream(d.xdsAddress, { service: 'lds', node: { id: 'reader', cluster: 'test-cluster' } });
    try {
      s.send({});
      s.ack(await s.next(TYPE.LDS));
      await d.rewrite(bigConfig('v2'));
      s.ack(await s.next(TYPE.LDS));
      await d.rewrite(bigConfig('v3'));
      const third = await s.next(TYPE.LDS);
      assert.match(JSON.stringify(third.resources[0]!.message), /v3-x/);
      assert.equal(logs.withEvent('send_queue_full').length, 0);
    } finally {
      s.close();
    }
  });

  test('a node that stops reading has its stream reset (RESOURCE_EXHAUSTED), a warning and a metric', async () => {
    const session = await connected(Number(d.xdsAddress.split(':')[1]));
    try {
      const stream = rawStream(session, LDS_PATH);
      // Never read: HTTP/2 flow control stops the server's writes once the window is full.
      stream.pause();
      const reset = resetCode(stream);
      const node = { id: 'stuck', cluster: 'test-cluster' };
      stream.write(discoveryRequestFrame({ node, type_url: TYPE.LDS }));
      await waitUntil('the first response to go out', () => d.daemon.nodes.get('stuck')?.types.lds?.sent !== undefined);
      const first = d.daemon.nodes.get('stuck')!.types.lds!.sent!;

      // A new config waits for the ACK; the node sends one without having read the response.
      await d.rewrite(bigConfig('v4'));
      stream.write(discoveryRequestFrame({ type_url: TYPE.LDS, version_info: first.version, response_nonce: first.nonce }));

      // ENHANCE_YOUR_CALM is how HTTP/2 says RESOURCE_EXHAUSTED to a gRPC client.
      assert.equal(await reset, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      const [warning, ...more] = logs.withEvent('send_queue_full');
      assert.equal(more.length, 0, 'one warning');
      assert.equal(warning!['level'], 40);
      assert.equal(warning!['node'], 'stuck');
      assert.equal(warning!['limitBytes'], LIMIT);
      assert.ok((warning!['queuedBytes'] as number) > 100 * KiB, JSON.stringify(warning));
      assert.match(String(warning!['msg']), new RegExp(`node stuck .* ${String(warning!['queuedBytes'])} bytes unread .* bound of ${LIMIT} bytes`));
      const metrics = await d.daemon.metrics.registry.getSingleMetricAsString('drainplane_xds_send_queue_overflows_total');
      assert.match(metrics, /^drainplane_xds_send_queue_overflows_total 1$/m);
      await waitUntil('the node to be disconnected', () => d.daemon.nodes.get('stuck')?.connected === false);
    } finally {
      session.destroy();
    }
  });
});
