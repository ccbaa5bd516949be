/**
 * One bound on the response bytes all nodes together leave unread: past it, the slowest
 * streams (those whose unread bytes have waited longest) are reset, and the rest are served.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import type { StreamInfo } from '../../src/xds/events.js';
import { SendBudget, type BudgetedStream } from '../../src/xds/send-budget.js';
import { openSotwStream, TYPE } from '../support/ads-client.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';
import { captureLogs } from '../support/log-capture.js';
import { connected, discoveryRequestFrame, LDS_PATH, rawStream, resetCode } from '../support/raw-xds.js';
import { streamInfo } from '../support/stream-info.js';
import { waitUntil } from '../support/wait.js';

const KiB = 1024;

describe('responses all nodes leave unread', { timeout: 30_000 }, () => {
  // Each LDS response carries two listeners with a 100 KiB tag: about 200 KiB.
  const bigConfig = (version: string) => demoConfig({ listenerTag: `${version}-${'x'.repeat(100 * KiB)}` });
  // Two such responses fit, a third does not; the per-stream bound is far away.
  const BUDGET = 500 * KiB;
  const logs = captureLogs();
  let d: TestDaemon;
  const sessions: http2.ClientHttp2Session[] = [];

  before(async () => {
    d = await startTestDaemon(bigConfig('v1'), { xdsLimits: { maxTotalQueuedBytes: BUDGET }, logger: logs.logger });
  });
  after(async () => {
    for (const s of sessions) s.destroy();
    await d.close();
  });

  /** A node that asks for its listeners and never reads them, on a connection of its own. */
  async function stuckNode(id: string): Promise<{ stream: http2.ClientHttp2Stream; reset: Promise<number> }> {
    const session = await connected(Number(d.xdsAddress.split(':')[1]));
    sessions.push(session);
    const stream = rawStream(session, LDS_PATH);
    stream.pause();
    const reset = resetCode(stream);
    stream.write(discoveryRequestFrame({ node: { id, cluster: 'test-cluster' }, type_url: TYPE.LDS }));
    await waitUntil(`${id}'s listeners to be sent`, () => d.daemon.nodes.get(id)?.types.lds?.sent !== undefined);
    return { stream, reset };
  }

  test('past the bound the slowest stream is reset (RESOURCE_EXHAUSTED) with one warning; the others are served', async () => {
    const oldest = await stuckNode('stuck-1');
    const newer = await stuckNode('stuck-2');
    assert.ok(d.daemon.xds.held.queuedBytes > 300 * KiB, `${d.daemon.xds.held.queuedBytes} bytes unread`);

    // A third response does not fit beside the two unread ones: the one unread longest goes.
    const reader = openSotwStream(d.xdsAddress, { service: 'lds', node: { id: 'reader', cluster: 'test-cluster' } });
    try {
      reader.send({});
      reader.ack(await reader.next(TYPE.LDS));
      // ENHANCE_YOUR_CALM is how HTTP/2 says RESOURCE_EXHAUSTED to a gRPC client.
      assert.equal(await oldest.reset, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      const [warning, ...more] = logs.withEvent('send_budget_exceeded');
      assert.equal(more.length, 0, 'one warning');
      assert.equal(warning!['level'], 40);
      assert.deepEqual(warning!['nodes'], ['stuck-1']);
      assert.equal(warning!['limitBytes'], BUDGET);
      assert.match(String(warning!['msg']), /over the server-wide bound of 512000 bytes: reset the 1 slowest stream\(s\) \(node stuck-1\)/);
      const metrics = await d.daemon.metrics.registry.getSingleMetricAsString('drainplane_xds_send_queue_overflows_total');
      assert.match(metrics, /^drainplane_xds_send_queue_overflows_total 1$/m);
      await waitUntil('stuck-1 to be disconnected', () => d.daemon.nodes.get('stuck-1')?.connected === false);

      // The reader is served on: a new config reaches it, and the other unread stream stays.
      await d.rewrite(bigConfig('v2'));
      const second = await reader.next(TYPE.LDS);
      assert.match(JSON.stringify(second.resources[0]!.message), /v2-x/);
      assert.equal(newer.stream.closed, false, 'stuck-2 is still open');
      assert.equal(d.daemon.nodes.get('stuck-2')?.connected, true);
      assert.equal(logs.withEvent('send_queue_full').length, 0, 'no stream passed its own bound');
    } finally {
      reader.close();
    }
  });
});

describe('the send budget', () => {
  /** A stream with a queue the test fills and empties; shed() resets it. */
  class FakeStream implements BudgetedStream {
    queuedBytes = 0;
    shedCount = 0;
    constructor(
      readonly name: string,
      private readonly budget: () => SendBudget,
    ) {}
    write(bytes: number): boolean {
      if (!this.budget().admit(this, bytes)) return false;
      this.queuedBytes += bytes;
      this.budget().queued(this, bytes);
      return true;
    }
    read(bytes: number): void {
      this.queuedBytes -= bytes;
      this.budget().sent(this, bytes);
    }
    shed(): StreamInfo {
      this.shedCount += 1;
      this.budget().left(this, this.queuedBytes);
      this.queuedBytes = 0;
      return streamInfo(this.name);
    }
  }

  test('resets the streams whose backlog began first, only as many as needed, and reports them together', () => {
    const reports: string[][] = [];
    const budget = new SendBudget(100, (shed) => reports.push(shed.map((s) => s.node.id)));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => new FakeStream(n, () => budget)) as [FakeStream, FakeStream, FakeStream, FakeStream];
    assert.ok(a.write(30));
    assert.ok(b.write(30));
    assert.ok(c.write(30));
    // a catches up and falls behind again: its backlog now begins after b's and c's.
    a.read(30);
    assert.ok(a.write(30));
    assert.ok(d.write(50));
    assert.deepEqual(reports, [['b', 'c']]);
    assert.equal(budget.queuedBytes, 80);
    assert.deepEqual([a.shedCount, b.shedCount, c.shedCount, d.shedCount], [0, 1, 1, 0]);
  });

  test('a response to a stream with nothing unread always goes out; one behind its own backlog does not', () => {
    const reports: string[][] = [];
    const budget = new SendBudget(100, (shed) => reports.push(shed.map((s) => s.node.id)));
    const big = new FakeStream('big', () => budget);
    assert.ok(big.write(150), 'alone, larger than the bound');
    assert.equal(big.write(10), false, 'more behind it');
    assert.deepEqual(reports, [['big']]);
    assert.equal(budget.queuedBytes, 0);
  });
});
