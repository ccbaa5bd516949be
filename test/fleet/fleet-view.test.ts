import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionGauges } from '../../src/gauges/connection-gauges.js';
import type { NodeRegistry } from '../../src/fleet/registry.js';
import { FleetView } from '../../src/fleet/replication/fleet-view.js';
import { HostCountStore } from '../../src/admin/host-count-store.js';
import type { SharedNodeRecord } from '../../src/fleet/replication/shared-node.js';
import type { NodeStatusStore } from '../../src/fleet/ports/node-status-store.js';

test("a node's gauges published by another replica carry its listener manager counts (what ends a modify drain)", () => {
  const gauges = new ConnectionGauges({ now: () => Date.parse('2026-01-01T00:00:01Z') });
  gauges.record('n', { listeners: new Map(), httpPrefixes: new Map(), listenerManager: { warming: 0, draining: 1 } });
  const record: SharedNodeRecord = {
    replica: 'r2',
    nodeId: 'n',
    status: null,
    drainAck: null,
    drainNack: null,
    connections: { at: '2026-01-01T00:00:02Z', listeners: {}, httpPrefixes: {}, listenerManager: { warming: 0, draining: 0 } },
  };
  const shared = { others: () => [record] } as unknown as NodeStatusStore;
  const view = new FleetView({ replica: 'r1', local: {} as NodeRegistry, gauges, hosts: new HostCountStore(), shared });
  assert.deepEqual(view.latest('n')?.listenerManager, { warming: 0, draining: 0 }, 'the newer report, from the other replica');
});

test("a node's load reports that reached another replica count for its endpoint drains here, the newest first", () => {
  const hosts = new HostCountStore();
  hosts.record(
    'n',
    { countsConnections: true, hosts: new Map([['app\u0000127.0.0.1:8080', { requests: 2, connections: 1 }]]), addresses: new Map() },
    Date.parse('2026-01-01T00:00:01Z'),
  );
  const record: SharedNodeRecord = {
    replica: 'r2',
    nodeId: 'n',
    status: null,
    drainAck: null,
    drainNack: null,
    connections: null,
    hosts: { at: '2026-01-01T00:00:02Z', countsConnections: false, hosts: {}, addresses: {} },
  };
  const shared = { others: () => [record] } as unknown as NodeStatusStore;
  const view = new FleetView({ replica: 'r1', local: {} as NodeRegistry, gauges: new ConnectionGauges(), hosts, shared });
  const latest = view.hosts.latest('n');
  assert.equal(latest?.countsConnections, false, 'the newer report, from the other replica');
  assert.equal(latest?.hosts.size, 0, 'which saw nothing in progress');
});
