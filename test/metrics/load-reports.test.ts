/**
 * Envoy's load reports (LRS) as endpoint drains read them: requests in progress per endpoint,
 * only the busy ones kept, bounded per report.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { test } from 'node:test';
import { hostKey } from '../../src/fleet/drain/ports.js';
import { decodeLoadReport, loadReportRefusal, MAX_BUSY_ENDPOINTS_PER_REPORT } from '../../src/metrics/load-reports.js';
import { startTestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';
import { nodeIdentity } from '../support/stream-info.js';
import { envoyProtos } from '../../src/resource/protos.js';

const LoadStatsRequest = envoyProtos().type('envoy.service.load_stats.v3.LoadStatsRequest');

function report(endpoints: { address: string; port: number; inProgress: number }[], cluster = 'app'): Uint8Array {
  const message = LoadStatsRequest.fromObject({
    node: { id: 'edge-1', cluster: 'edge' },
    cluster_stats: [
      {
        cluster_name: cluster,
        upstream_locality_stats: [
          {
            upstream_endpoint_stats: endpoints.map((e) => ({
              address: { socket_address: { address: e.address, port_value: e.port } },
              total_requests_in_progress: e.inProgress,
              total_successful_requests: 7,
            })),
          },
        ],
      },
    ],
  });
  return LoadStatsRequest.encode(message).finish();
}

test('a load report gives the requests in progress of each busy endpoint, by cluster and by address; idle ones are left out and connections are not counted', () => {
  const decoded = decodeLoadReport(
    report([
      { address: '10.0.0.1', port: 8080, inProgress: 3 },
      { address: '10.0.0.2', port: 8080, inProgress: 0 },
      { address: '::1', port: 9000, inProgress: 1 },
    ]),
  );
  assert.equal(decoded.nodeId, 'edge-1');
  assert.equal(decoded.oversized, false);
  assert.deepEqual(decoded.hosts.get(hostKey('app', '10.0.0.1:8080')), { requests: 3, connections: null });
  assert.equal(decoded.hosts.get(hostKey('app', '10.0.0.2:8080')), undefined, 'idle: nothing in progress');
  assert.deepEqual(decoded.addresses.get('[::1]:9000'), { requests: 1, connections: null });
});

test(`more than ${MAX_BUSY_ENDPOINTS_PER_REPORT} busy endpoints: the report is marked oversized and keeps no more than the bound`, () => {
  const many = Array.from({ length: MAX_BUSY_ENDPOINTS_PER_REPORT + 5 }, (_, i) => ({
    address: `10.1.${i >> 8}.${i & 255}`,
    port: 80,
    inProgress: 1,
  }));
  const decoded = decodeLoadReport(report(many));
  assert.equal(decoded.oversized, true);
  assert.ok(decoded.hosts.size <= MAX_BUSY_ENDPOINTS_PER_REPORT);
});

test("load reports count for connected Envoys of 1.37 or later: 1.36's leave out a request still in progress, and an invented id has no stream", () => {
  const envoy = (version: string) => ({ ...nodeIdentity('edge-1'), userAgentName: 'envoy', userAgentVersion: version });
  assert.equal(loadReportRefusal({ connected: true, identity: envoy('1.37.0') }), undefined);
  assert.equal(loadReportRefusal({ connected: true, identity: envoy('1.40.0') }), undefined);
  assert.match(
    loadReportRefusal({ connected: true, identity: envoy('1.36.2') })!,
    /older than 1\.37\.0, whose load reports leave out requests still in progress/,
  );
  assert.match(loadReportRefusal({ connected: false, identity: envoy('1.40.0') })!, /no such node is connected/);
  assert.match(loadReportRefusal(undefined)!, /no such node is connected/);
});

test('a load report stream whose first message names no node is ended with INVALID_ARGUMENT, and nothing after it is read', async () => {
  const d = await startTestDaemon(demoConfig());
  const client = new grpc.Client(d.xdsAddress, grpc.credentials.createInsecure());
  try {
    const call = client.makeBidiStreamRequest<Record<string, unknown>, unknown>(
      '/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats',
      (m) => Buffer.from(LoadStatsRequest.encode(LoadStatsRequest.fromObject(m)).finish()),
      (b) => b,
    );
    const answers: unknown[] = [];
    call.on('data', (a) => answers.push(a));
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    call.write({ cluster_stats: [{ cluster_name: 'app' }] });
    call.write({ node: { id: 'late-name', cluster: 'edge' } });
    const { code, details } = await status;
    assert.equal(code, grpc.status.INVALID_ARGUMENT);
    assert.match(details, /the first message has no node id/);
    assert.deepEqual(answers, [], 'no request for reports was sent');
  } finally {
    client.close();
    await d.close();
  }
});
