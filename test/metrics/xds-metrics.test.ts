/**
 * The xDS metrics a dashboard reads: open streams, responses and ACKs by type. They are counted
 * as events come and handed to prom-client when scraped, so a scrape must show every event
 * since the last one, and a second scrape must not count them again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { NackLedger } from '../../src/xds/nack-ledger.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { streamInfo } from '../support/stream-info.js';

const sent = { version: 'v1', nonce: '1', resources: 1, removed: 0 };

test('streams, responses and ACKs by type add up across scrapes', async () => {
  const metrics = createMetrics({ ledger: new NackLedger(), drains: { list: () => [] } });
  const events = metrics.xdsEvents;
  const a = streamInfo('a');
  const b = streamInfo('b', { protocol: 'delta' });
  const c = streamInfo('c', { aggregated: false });
  for (const s of [a, b, c]) events.streamOpened?.(s);
  events.responseSent?.(a, TypeUrl.Listener, sent);
  events.responseSent?.(a, TypeUrl.Cluster, sent);
  events.responseSent?.(b, TypeUrl.Listener, sent);
  events.acked?.(a, TypeUrl.Listener, 'v1', '1');

  const first = await metrics.registry.metrics();
  assert.match(first, /^drainplane_xds_streams\{protocol="sotw",service="ads"\} 1$/m);
  assert.match(first, /^drainplane_xds_streams\{protocol="delta",service="ads"\} 1$/m);
  assert.match(first, /^drainplane_xds_streams\{protocol="sotw",service="per-type"\} 1$/m);
  assert.match(first, /^drainplane_xds_responses_total\{type="lds"\} 2$/m);
  assert.match(first, /^drainplane_xds_responses_total\{type="cds"\} 1$/m);
  assert.match(first, /^drainplane_xds_acks_total\{type="lds"\} 1$/m);

  // Nothing new: the same totals, not twice as much.
  assert.match(await metrics.registry.metrics(), /^drainplane_xds_responses_total\{type="lds"\} 2$/m);

  events.streamClosed?.(a);
  events.responseSent?.(b, TypeUrl.Listener, sent);
  events.acked?.(b, TypeUrl.Listener, 'v1', '1');
  const later = await metrics.registry.metrics();
  assert.match(later, /^drainplane_xds_streams\{protocol="sotw",service="ads"\} 0$/m);
  assert.match(later, /^drainplane_xds_responses_total\{type="lds"\} 3$/m);
  assert.match(later, /^drainplane_xds_acks_total\{type="lds"\} 2$/m);
});
