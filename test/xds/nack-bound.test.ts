/**
 * NACK messages are client text: what is kept of them, reported and logged is cut to a bound,
 * and the rejections kept for parking are bounded in bytes over all nodes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { NackLedger } from '../../src/xds/nack-ledger.js';
import { openSotwStream, TYPE } from '../support/ads-client.js';
import { daemonForSuite } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';
import { captureLogs } from '../support/log-capture.js';
import { waitUntil } from '../support/wait.js';

const KiB = 1024;

describe('a NACK with a 3.9 MB message', { timeout: 60_000 }, () => {
  const logs = captureLogs();
  const daemon = daemonForSuite(demoConfig(), { logger: logs.logger });

  test('is kept, reported and logged cut to 16 KiB, saying how long it was; the config is parked all the same', async () => {
    const d = daemon();
    const s = openSotwStream(d.xdsAddress, { service: 'lds', node: { id: 'loud', cluster: 'test-cluster' } });
    try {
      s.send({});
      const response = await s.next(TYPE.LDS);
      s.nack(response, '', `listener rejected: ${'e'.repeat(3.9 * 1000 * 1000)}`);
      await waitUntil('the NACK to be recorded', () => d.daemon.nodes.get('loud')?.types.lds?.lastNack);
      const kept = d.daemon.nodes.get('loud')!.types.lds!.lastNack!.message;
      assert.ok(kept.length <= 16 * KiB + 64, `${kept.length} characters kept`);
      assert.ok(kept.startsWith('listener rejected: eeee'), 'the head is kept');
      assert.match(kept, /eee … \[truncated: 3\.7 MiB\]$/);

      const [parked] = d.daemon.xds.ledger.rejections('loud');
      assert.equal(parked?.message, kept);
      const api = (await (await fetch(`${d.apiUrl}/v1/nodes/loud`)).json()) as { types: { lds: { lastNack: { message: string } } } };
      assert.equal(api.types.lds.lastNack.message, kept);

      const [line, ...more] = logs.withEvent('nack');
      assert.equal(more.length, 0);
      assert.equal(line!['error'], kept);
      assert.ok(JSON.stringify(line).length < 20 * KiB, 'the log line is short');
      await s.expectSilence(300, TYPE.LDS);
    } finally {
      s.close();
    }
  });
});

describe('the rejections kept for parking', () => {
  const record = (message: string) => ({ typeUrl: TypeUrl.Listener, version: 'v1', nonce: 'n', code: 13, message, at: new Date() });

  test('are bounded in bytes over all nodes; the node that rejected least recently is forgotten first', () => {
    const ledger = new NackLedger({ maxParkedBytes: 64 * KiB });
    for (let i = 0; i < 100; i++) ledger.reject(`node-${i}`, `key-${i}`, record('m'.repeat(4 * KiB)), undefined);
    assert.ok(ledger.bytes <= 64 * KiB, `${ledger.bytes} bytes kept`);
    assert.ok(ledger.size >= 10 && ledger.size <= 16, `${ledger.size} kept`);
    assert.ok(ledger.isParked('node-99', TypeUrl.Listener, 'key-99'), 'the latest rejection is kept');
    assert.ok(!ledger.isParked('node-0', TypeUrl.Listener, 'key-0'), 'the oldest is forgotten');
  });

  test('a node that rejects again moves to the back of the line; an accept gives its bytes back', () => {
    const ledger = new NackLedger({ maxParkedBytes: 3 * 5 * KiB });
    ledger.reject('a', 'ka', record('m'.repeat(4 * KiB)), undefined);
    ledger.reject('b', 'kb', record('m'.repeat(4 * KiB)), undefined);
    ledger.reject('a', 'ka2', record('m'.repeat(4 * KiB)), undefined);
    ledger.reject('c', 'kc', record('m'.repeat(4 * KiB)), undefined);
    ledger.reject('d', 'kd', record('m'.repeat(4 * KiB)), undefined);
    assert.ok(!ledger.isParked('b', TypeUrl.Listener, 'kb'), 'b rejected least recently');
    assert.ok(ledger.isParked('a', TypeUrl.Listener, 'ka2'));
    const before = ledger.bytes;
    ledger.accepted('d', TypeUrl.Listener);
    assert.ok(ledger.bytes < before - 4 * KiB);
    assert.equal(ledger.size, 2);
  });
});
