import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  ConnectionGauges,
  listenerStatAddress,
  parseMetricFamilies,
  PROMETHEUS_GAUGE,
  type ConnectionReport,
  type MetricFamilyLike,
} from '../../src/gauges/connection-gauges.js';
import { handleStreamMetrics, metricsServiceDefinition, STREAM_METRICS_METHOD } from '../../src/metrics/metrics-service.js';
import { openEnvoyMetricsStream, type EnvoyMetricsStream } from '../support/envoy-metrics-client.js';

const COUNTER = 0;

function gauge(name: string, value: number, labels: Record<string, string> = {}): MetricFamilyLike {
  const label = Object.entries(labels).map(([n, v]) => ({ name: n, value: v }));
  return { name, type: PROMETHEUS_GAUGE, metric: [{ label, gauge: { value } }] };
}

const entries = (map: ReadonlyMap<string, number>) => Object.fromEntries(map);

describe('parseMetricFamilies', () => {
  test('reads full names and tag-extracted names with either label spelling', () => {
    const parsed = parseMetricFamilies([
      gauge('listener.0.0.0.0_10000.downstream_cx_active', 3),
      gauge('listener.downstream_cx_active', 4, { 'envoy.listener_address': '[__]_10000' }),
      gauge('listener.downstream_cx_active', 5, { envoy_listener_address: '10.0.0.1_443' }),
      gauge('listener.public.downstream_cx_active', 6),
      gauge('http.ingress_http.downstream_cx_active', 2),
      gauge('http.downstream_cx_active', 1, { 'envoy.http_conn_manager_prefix': 'egress' }),
      // A fixed-value tag from stats_config adds a label that changes nothing.
      gauge('http.downstream_cx_active', 0, { 'envoy.http_conn_manager_prefix': 'idle', zone: 'a' }),
    ]);
    assert.deepEqual(entries(parsed.listeners), {
      '0.0.0.0_10000': 3,
      '[__]_10000': 4,
      '10.0.0.1_443': 5,
      public: 6,
    });
    assert.deepEqual(entries(parsed.httpPrefixes), { ingress_http: 2, egress: 1, idle: 0 });
  });

  test('leaves out admin, per-handler, per-listener HTTP, counters and other stats', () => {
    const parsed = parseMetricFamilies([
      gauge('listener.admin.downstream_cx_active', 1),
      gauge('listener.admin.main_thread.downstream_cx_active', 1),
      gauge('http.admin.downstream_cx_active', 1),
      gauge('http.downstream_cx_active', 1, { 'envoy.http_conn_manager_prefix': 'admin' }),
      gauge('listener.0.0.0.0_10000.worker_3.downstream_cx_active', 1),
      gauge('listener.worker_downstream_cx_active', 1, { 'envoy.listener_address': '0.0.0.0_10000', 'envoy.worker_id': '3' }),
      gauge('listener.worker_3.downstream_cx_active', 1, { 'envoy.listener_address': '0.0.0.0_10000' }),
      gauge('listener.http.downstream_cx_active', 1, { 'envoy.listener_address': '0.0.0.0_1', 'envoy.http_conn_manager_prefix': 'h' }),
      { name: 'listener.0.0.0.0_10000.downstream_cx_active', type: COUNTER, metric: [{ gauge: { value: 9 } }] },
      gauge('listener.0.0.0.0_10000.downstream_pre_cx_active', 1),
      gauge('listener.downstream_cx_active', 1),
      gauge('server.total_connections', 1),
      gauge('cluster.x.upstream_cx_active', 1),
      { name: 'http.ingress_http.downstream_cx_active', type: PROMETHEUS_GAUGE, metric: [{ gauge: null }] },
    ]);
    assert.deepEqual(entries(parsed.listeners), {});
    assert.deepEqual(entries(parsed.httpPrefixes), {});
  });

  test('reads every metric of a family', () => {
    const parsed = parseMetricFamilies([
      {
        name: 'listener.downstream_cx_active',
        type: PROMETHEUS_GAUGE,
        metric: [
          { label: [{ name: 'envoy.listener_address', value: '0.0.0.0_1' }], gauge: { value: 1 } },
          { label: [{ name: 'envoy.listener_address', value: '0.0.0.0_2' }], gauge: { value: 2 } },
        ],
      },
    ]);
    assert.deepEqual(entries(parsed.listeners), { '0.0.0.0_1': 1, '0.0.0.0_2': 2 });
  });

  test("reads the listener manager's warming and draining counts; a draining gauge never set is 0", () => {
    const both = parseMetricFamilies([
      gauge('listener_manager.total_listeners_warming', 1),
      gauge('listener_manager.total_listeners_draining', 2),
      gauge('listener_manager.total_listeners_active', 5),
    ]);
    assert.deepEqual(both.listenerManager, { warming: 1, draining: 2 });
    assert.deepEqual(parseMetricFamilies([gauge('listener_manager.total_listeners_warming', 0)]).listenerManager, { warming: 0, draining: 0 });
    assert.equal(parseMetricFamilies([gauge('listener_manager.total_listeners_draining', 0)]).listenerManager, undefined, 'not reported at all');
  });
});

describe('listenerStatAddress', () => {
  test('IPv4: the address and port joined by "_"', () => {
    assert.equal(listenerStatAddress({ address: '0.0.0.0', port_value: 10000 }), '0.0.0.0_10000');
    assert.equal(listenerStatAddress({ address: '127.0.0.1' }), '127.0.0.1_0');
  });

  test('IPv6: bracketed inet_ntop form, every ":" turned into "_"', () => {
    assert.equal(listenerStatAddress({ address: '::', port_value: 10000 }), '[__]_10000');
    assert.equal(listenerStatAddress({ address: '0:0:0:0:0:0:0:1', port_value: 0 }), '[__1]_0');
    assert.equal(listenerStatAddress({ address: '2001:0DB8:85a3:0:0:8A2E:0370:7334', port_value: 3543 }), '[2001_db8_85a3__8a2e_370_7334]_3543');
    assert.equal(listenerStatAddress({ address: '::ffff:10.0.0.1', port_value: 80 }), '[__ffff_10.0.0.1]_80');
  });

  test('stat_prefix, when set, replaces the address', () => {
    assert.equal(listenerStatAddress({ address: '0.0.0.0', port_value: 10000 }, 'public_http'), 'public_http');
    assert.equal(listenerStatAddress({ address: '::', port_value: 1 }, 'edge:v2'), 'edge_v2');
    assert.equal(listenerStatAddress({ address: '::', port_value: 1 }, ''), '[__]_1');
  });
});

describe('ConnectionGauges', () => {
  const values = (n: number) => ({ listeners: new Map([['0.0.0.0_1', n]]), httpPrefixes: new Map() });

  test('forgets a node whose last report is older than the TTL', () => {
    let now = 1_000_000;
    const gauges = new ConnectionGauges({ ttlMs: 1000, now: () => now });
    gauges.record('a', values(1));
    now += 400;
    gauges.record('b', values(2));
    now += 400;
    gauges.record('a', values(3)); // refreshed: now the newest
    now += 500;
    assert.equal(gauges.latest('a')?.listeners.get('0.0.0.0_1'), 3);
    assert.equal(gauges.size, 2, 'b is 900 ms old');
    now += 200;
    assert.equal(gauges.latest('b'), undefined, 'b is 1100 ms old');
    assert.equal(gauges.latest('a')?.at.getTime(), 1_000_800, 'a was 1500 ms old, but refreshed 700 ms ago');
    assert.equal(gauges.size, 1);
  });

  test('onReport subscriptions end with the function they return', () => {
    const gauges = new ConnectionGauges();
    const seen: string[] = [];
    const unsubscribe = gauges.onReport((r) => seen.push(r.nodeId));
    gauges.record('a', values(1));
    unsubscribe();
    gauges.record('b', values(1));
    assert.deepEqual(seen, ['a']);
  });
});

describe('MetricsService StreamMetrics', () => {
  const MAX_FAMILIES = 100;
  let server: grpc.Server;
  let address: string;
  const gauges = new ConnectionGauges();
  const events: string[] = [];
  const streams: EnvoyMetricsStream[] = [];

  before(async () => {
    server = new grpc.Server();
    server.addService(metricsServiceDefinition({ maxFamilies: MAX_FAMILIES }), {
      [STREAM_METRICS_METHOD]: handleStreamMetrics(gauges, {
        streamOpened: (node) => events.push(`opened ${node}`),
        streamClosed: (node) => events.push(`closed ${node}`),
        rejected: (reason) => events.push(`rejected ${reason}`),
      }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  after(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  function open(nodeId: string | null): EnvoyMetricsStream {
    const stream = openEnvoyMetricsStream(address, nodeId);
    streams.push(stream);
    return stream;
  }

  /** The next report recorded for nodeId. */
  function nextReport(nodeId: string, timeoutMs = 10_000): Promise<ConnectionReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`no report from ${nodeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = gauges.onReport((report) => {
        if (report.nodeId !== nodeId) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(report);
      });
    });
  }

  const flush = {
    listeners: { '0.0.0.0_10000': 3, '[__]_10000': 1, public: 4 },
    http: { ingress_http: 2 },
  };
  const expected = {
    listeners: { '0.0.0.0_10000': 3, '[__]_10000': 1, public: 4 },
    http: { ingress_http: 2 },
  };

  for (const tagsAsLabels of [false, true]) {
    test(`reads the connection gauges of a flush ${tagsAsLabels ? 'with' : 'without'} emit_tags_as_labels`, async () => {
      const node = `envoy-tags-${tagsAsLabels}`;
      const s = open(node);
      const report = nextReport(node);
      s.send({ ...flush, listenerManager: { warming: 0, draining: 1 } }, { tagsAsLabels });
      const { listeners, httpPrefixes, listenerManager } = await report;
      assert.deepEqual({ listeners: entries(listeners), http: entries(httpPrefixes) }, expected);
      assert.deepEqual(gauges.latest(node)?.listeners, listeners);
      assert.deepEqual(listenerManager, { warming: 0, draining: 1 });
    });
  }

  test('each flush replaces the previous report', async () => {
    const s = open('envoy-updates');
    let report = nextReport('envoy-updates');
    s.send(flush, { tagsAsLabels: true });
    await report;
    report = nextReport('envoy-updates');
    s.send({ listeners: { '0.0.0.0_10000': 1 } }, { tagsAsLabels: true });
    const second = await report;
    assert.deepEqual(entries(second.listeners), { '0.0.0.0_10000': 1 });
    assert.deepEqual(entries(second.httpPrefixes), {});
    assert.equal(gauges.latest('envoy-updates'), second);
  });

  test('the node comes from the first message only', async () => {
    const s = open('envoy-first');
    let report = nextReport('envoy-first');
    s.send(flush, { tagsAsLabels: false });
    await report;
    report = nextReport('envoy-first');
    s.send({ listeners: { '0.0.0.0_10000': 0 } }, { tagsAsLabels: false, identifyAs: 'impostor' });
    assert.deepEqual(entries((await report).listeners), { '0.0.0.0_10000': 0 });
    assert.equal(gauges.latest('impostor'), undefined);
  });

  test('a stream whose first message names no node ends with INVALID_ARGUMENT', async () => {
    const s = open(null);
    s.send(flush, { tagsAsLabels: true });
    const status = await s.closed;
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /first message has no node id/);
    assert.ok(events.some((e) => e.startsWith('rejected ') && e.includes('no node id')));
  });

  test('a message over the family limit is ignored and reported once; the stream goes on', async () => {
    const s = open('envoy-big');
    s.send(flush, { tagsAsLabels: true, filler: MAX_FAMILIES });
    s.send(flush, { tagsAsLabels: true, filler: MAX_FAMILIES });
    const report = nextReport('envoy-big');
    s.send({ http: { ingress_http: 8 } }, { tagsAsLabels: true });
    assert.deepEqual(entries((await report).httpPrefixes), { ingress_http: 8 });
    const ignored = events.filter((e) => e.startsWith('rejected metrics from node envoy-big'));
    assert.equal(ignored.length, 1);
    assert.match(ignored[0]!, /message of \d+ metric families was ignored \(at most 100 are read\)/);
  });

  test('Envoy ending the stream gets an empty response; open and close are reported', async () => {
    const s = open('envoy-bye');
    const report = nextReport('envoy-bye');
    s.send(flush, { tagsAsLabels: true });
    await report;
    const status = await s.close();
    assert.equal(status.code, grpc.status.OK);
    const mine = events.filter((e) => e.endsWith(' envoy-bye'));
    assert.deepEqual(mine, ['opened envoy-bye', 'closed envoy-bye']);
    assert.ok(gauges.latest('envoy-bye'), 'the last report outlives the stream');
  });
});
