/**
 * One client repeating itself (stale nonces, say) cannot fill the log: per node and event, the
 * first lines of each minute are written, the rest counted in one summary line.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineLimiter, type Suppressed } from '../../src/telemetry/line-limiter.js';
import { xdsLogEvents } from '../../src/telemetry/xds-log.js';
import { openSotwStream, TYPE } from '../support/ads-client.js';
import { daemonForSuite } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';
import { captureLogs } from '../support/log-capture.js';
import { streamInfo } from '../support/stream-info.js';

describe('a client sending 2,000 requests with a stale nonce', { timeout: 30_000 }, () => {
  const logs = captureLogs();
  const daemon = daemonForSuite(demoConfig(), { logger: logs.logger });

  test('gets 30 log lines a minute (the default), not 2,000; other nodes are logged as before', async () => {
    const d = daemon();
    const noisy = openSotwStream(d.xdsAddress, { node: { id: 'noisy', cluster: 'test-cluster' } });
    const quiet = openSotwStream(d.xdsAddress, { node: { id: 'quiet', cluster: 'test-cluster' } });
    try {
      noisy.send({ type_url: TYPE.LDS });
      const response = await noisy.next(TYPE.LDS);
      for (let i = 0; i < 2000; i++) noisy.send({ type_url: TYPE.LDS, response_nonce: `stale-${i}`, version_info: '' });
      // Requests are handled in order: once this one is answered, all of the stale ones were seen.
      noisy.ack(response);
      noisy.send({ type_url: TYPE.CDS });
      await noisy.next(TYPE.CDS);
      const lines = logs.withEvent('request_ignored').filter((l) => l['node'] === 'noisy');
      assert.equal(lines.length, 30);
      assert.match(String(lines[0]!['reason']), /^stale nonce stale-0 /);

      quiet.send({ type_url: TYPE.LDS, response_nonce: 'stale', version_info: '' });
      quiet.send({ type_url: TYPE.LDS });
      await quiet.next(TYPE.LDS);
      assert.equal(logs.withEvent('request_ignored').filter((l) => l['node'] === 'quiet').length, 1);
    } finally {
      noisy.close();
      quiet.close();
    }
  });
});

describe('the log line limit', () => {
  test('counts what it left out in one summary line once the minute is over', () => {
    const logs = captureLogs();
    let now = 0;
    const events = xdsLogEvents(logs.logger, { maxLogLinesPerNode: 5, now: () => now });
    for (let i = 0; i < 100; i++) events.requestIgnored!(streamInfo('n'), `stale nonce ${i}`);
    for (let i = 0; i < 3; i++)
      events.nacked!(streamInfo('n'), { typeUrl: TYPE.LDS, version: 'v', nonce: 'x', code: 13, message: 'bad', at: new Date() });
    assert.equal(logs.withEvent('request_ignored').length, 5);
    assert.equal(logs.withEvent('nack').length, 3, 'each event has a limit of its own');
    assert.equal(logs.withEvent('log_suppressed').length, 0);

    now = 60_000;
    events.requestIgnored!(streamInfo('n'), 'stale nonce 100');
    const [summary, ...more] = logs.withEvent('log_suppressed');
    assert.equal(more.length, 0);
    assert.equal(summary!['node'], 'n');
    assert.equal(summary!['suppressed'], 'request_ignored');
    assert.equal(summary!['lines'], 95);
    assert.equal(summary!['msg'], '… 95 more "request_ignored" lines of node n suppressed in 60 s');
    assert.equal(logs.withEvent('request_ignored').length, 6, 'a new minute, new lines');
  });

  test('clients inventing node ids get the fleet-wide limit per event, and per-node summaries count against it', () => {
    const logs = captureLogs();
    let now = 0;
    const events = xdsLogEvents(logs.logger, { maxLogLinesPerNode: 2, maxLogLinesPerEvent: 100, now: () => now });
    // 5,000 invented ids, a NACK each: every one within its own limit.
    const nack = { typeUrl: TYPE.LDS, version: 'v', nonce: 'x', code: 13, message: 'bad', at: new Date() };
    for (let i = 0; i < 5000; i++) events.nacked!(streamInfo(`invented-${i}`), nack);
    // 1,000 more ids, each past its own limit: their summaries may not flood the log either.
    for (let i = 0; i < 1000; i++) for (let j = 0; j < 3; j++) events.requestIgnored!(streamInfo(`repeating-${i}`), 'stale');
    assert.equal(logs.withEvent('nack').length, 100);
    assert.equal(logs.withEvent('request_ignored').length, 100);

    now = 60_000;
    events.nacked!(streamInfo('next-minute'), nack);
    // Each repeating node's next line ends its minute: 1,000 per-node summaries are due.
    for (let i = 0; i < 1000; i++) events.requestIgnored!(streamInfo(`repeating-${i}`), 'stale');
    const summaries = logs.withEvent('log_suppressed');
    assert.equal(summaries.filter((l) => l['node'] !== undefined).length, 100, 'per-node summaries within the fleet-wide limit');
    assert.deepEqual(
      summaries.filter((l) => l['node'] === undefined).map((l) => l['msg']),
      ['… 4900 more "nack" lines of all nodes suppressed in 60 s', '… 1900 more "request_ignored" lines of all nodes suppressed in 60 s'],
    );
    assert.equal(logs.withEvent('nack').length, 101, 'a new minute, new lines');
  });

  test('0 turns the limit off', () => {
    const logs = captureLogs();
    const events = xdsLogEvents(logs.logger, { maxLogLinesPerNode: 0 });
    for (let i = 0; i < 100; i++) events.requestIgnored!(streamInfo('n'), 'stale');
    assert.equal(logs.withEvent('request_ignored').length, 100);
  });

  test('a node that falls silent still gets its summary, and nodes seen once are not kept', () => {
    let now = 0;
    const reported: Suppressed[] = [];
    const limiter = new LineLimiter({ linesPerWindow: 2, now: () => now, onSuppressed: (s) => reported.push(s) });
    try {
      for (let i = 0; i < 5; i++) limiter.allow('loud', 'push');
      for (let i = 0; i < 5000; i++) limiter.allow(`once-${i}`, 'push');
      now = 60_000;
      limiter.flush();
      assert.deepEqual(reported, [{ node: 'loud', event: 'push', count: 3, windowMs: 60_000 }]);
      assert.equal(limiter.size, 0, 'every window ended: nothing is kept, so node ids cannot pile up');
      assert.equal(limiter.allow('loud', 'push'), true);
    } finally {
      limiter.close();
    }
  });
});
