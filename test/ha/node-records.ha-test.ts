/**
 * Node records between two replicas on one etcd, at the scale of a connect storm: a burst of
 * thousands of records reaches etcd in a few requests and the other replica sees every one;
 * a lost watch is caught up without losing or repeating nodes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import pino from 'pino';
import type { SharedNodeRecord } from '../../src/fleet/replication/shared-node.js';
import { EtcdKeys } from '../../src/store/etcd/client.js';
import { EtcdNodeStatuses } from '../../src/store/etcd/node-statuses.js';
import { etcdInstalled, NO_ETCD, suiteEtcd, type TestEtcd } from '../support/etcd.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitUntil } from '../support/wait.js';

const silent = pino({ level: 'silent' });

/** A connected node's record as a replica publishes it, about 1 kB of JSON like a real one. */
/** Records as the store publishes them: each as its JSON text, null for a node that left. */
function asText(entries: readonly (readonly [string, SharedNodeRecord | null])[]): Map<string, string | null> {
  return new Map(entries.map(([id, r]) => [id, r && JSON.stringify(r)]));
}

function record(replica: string, nodeId: string, version: string): SharedNodeRecord {
  const status = {
    identity: {
      id: nodeId,
      cluster: 'bench',
      metadata: { team: 'a', padding: 'x'.repeat(700) },
      locality: { region: 'r', zone: 'z', subZone: '' },
      userAgentName: 'envoy',
      userAgentVersion: '1.40.0',
    },
    connected: true,
    connectedSince: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:00:01.000Z',
    streams: [],
    types: { lds: { acked: { version, at: '2026-01-01T00:00:01.000Z' } } },
  };
  return { replica, nodeId, status, drainAck: null, drainNack: null, connections: null };
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `envoy-${i}`);

/** etcd's count of handled write requests (Put and Txn calls). */
async function writeCalls(etcd: TestEtcd): Promise<number> {
  const text = await (await fetch(`http://${etcd.endpoint}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (/^grpc_server_handled_total\{.*grpc_method="(Put|Txn)"/.test(line)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('node records at fleet scale', { skip: etcdInstalled() ? false : NO_ETCD, timeout: 120_000 }, () => {
  const suite = suiteEtcd();
  const client = (endpoint?: string): Promise<Etcd3> => suite.client(endpoint);

  test('5,000 records published at once reach etcd in a few dozen requests; the other replicas, running or started later, see all of them', async () => {
    const keys = new EtcdKeys('/burst/');
    const x = new EtcdNodeStatuses(await client(), keys, 'x', 10, silent);
    const y = new EtcdNodeStatuses(await client(), keys, 'y', 10, silent);
    await Promise.all([x.start(), y.start()]);
    // About 5 MiB of records: more than one gRPC response may carry.
    const nodes = ids(5000);
    const before = await writeCalls(suite.etcd);
    await x.publish(asText(nodes.map((id) => [id, record('x', id, 'v1')])));
    const calls = (await writeCalls(suite.etcd)) - before;
    assert.ok(calls <= 50, `${calls} write requests for 5,000 records`);
    await waitUntil('y to see every record', () => [...y.allOthers()].length === nodes.length, 30_000);
    assert.deepEqual(y.others('envoy-4999'), [record('x', 'envoy-4999', 'v1')]);
    const z = new EtcdNodeStatuses(await client(), keys, 'z', 10, silent);
    await z.start();
    assert.equal([...z.allOthers()].length, nodes.length);
    // A replica is not sent its own records back.
    assert.equal([...x.allOthers()].length, 0);
    await Promise.all([x.close(), y.close(), z.close()]);
  });

  test('after a lost watch, the follower holds exactly what etcd holds and is told only of the nodes that changed meanwhile', async () => {
    const keys = new EtcdKeys('/restart/');
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: suite.etcd.clientPort });
    const x = new EtcdNodeStatuses(await client(), keys, 'x', 10, silent);
    const y = new EtcdNodeStatuses(await client(proxy.endpoint), keys, 'y', 10, silent);
    await Promise.all([x.start(), y.start()]);
    const nodes = ids(5000);
    await x.publish(asText(nodes.map((id) => [id, record('x', id, 'v1')])));
    await waitUntil('y to see every record', () => [...y.allOthers()].length === nodes.length, 30_000);

    const told = new Map<string, number>();
    y.onChange((id) => told.set(id, (told.get(id) ?? 0) + 1));
    proxy.cut();
    // While y is cut off: 10 nodes change, 5 leave.
    await x.publish(
      asText([...nodes.slice(0, 10).map((id) => [id, record('x', id, 'v2')] as const), ...nodes.slice(10, 15).map((id) => [id, null] as const)]),
    );
    proxy.heal();
    await waitUntil(
      'y to catch up',
      () => y.others('envoy-0')[0]?.status?.types.lds?.acked?.version === 'v2' && y.others('envoy-10').length === 0,
      30_000,
    );

    const held = [...y.allOthers()];
    assert.equal(held.length, nodes.length - 5);
    assert.equal(new Set(held.map((r) => r.nodeId)).size, held.length, 'no node held twice');
    assert.deepEqual([...told.keys()].sort(), nodes.slice(0, 15).sort());
    await Promise.all([x.close(), y.close(), proxy.close()]);
  });
});
