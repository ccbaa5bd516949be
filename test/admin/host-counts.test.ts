/**
 * Host counts from Envoy's GET /clusters?format=json, in the shape Envoy 1.40.0 writes them: a
 * stat that is 0 has no `value`, the others are strings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClustersFormatError, parseClustersJson } from '../../src/admin/host-counts.js';
import { hostKey } from '../../src/fleet/drain/ports.js';

const host = (address: string, port: number, rq?: string, cx?: string) => ({
  address: { socket_address: { address, port_value: port } },
  stats: [
    { value: '7', name: 'rq_total' },
    { type: 'GAUGE', ...(cx !== undefined && { value: cx }), name: 'cx_active' },
    { type: 'GAUGE', ...(rq !== undefined && { value: rq }), name: 'rq_active' },
  ],
  health_status: { eds_health_status: 'DRAINING' },
});

test('requests and connections per host, by cluster and address, and summed per address over clusters', () => {
  const parsed = parseClustersJson({
    cluster_statuses: [
      { name: 'app', host_statuses: [host('127.0.0.1', 8080, '1', '2'), host('::1', 8081)] },
      { name: 'app-canary', host_statuses: [host('127.0.0.1', 8080, '3', '1')] },
      { name: 'empty' },
    ],
  });
  assert.deepEqual(parsed.hosts.get(hostKey('app', '127.0.0.1:8080')), { requests: 1, connections: 2 });
  assert.deepEqual(parsed.hosts.get(hostKey('app', '[::1]:8081')), { requests: 0, connections: 0 }, 'a stat without value is 0');
  assert.deepEqual(parsed.addresses.get('127.0.0.1:8080'), { requests: 4, connections: 3 });
});

test('an Envoy without clusters answers {}; a body of another shape is refused', () => {
  assert.equal(parseClustersJson({}).hosts.size, 0);
  assert.throws(() => parseClustersJson({ cluster_statuses: {} }), ClustersFormatError);
  assert.throws(() => parseClustersJson({ cluster_statuses: [{ host_statuses: [] }] }), ClustersFormatError);
});
