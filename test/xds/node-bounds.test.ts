/**
 * What the daemon keeps of a node is bounded before any authentication: anyone who reaches the
 * xDS port can invent node ids and send megabytes of metadata with each.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { openSotwStream, TYPE, type SotwStream } from '../support/ads-client.js';
import { daemonForSuite, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';
import { waitUntil } from '../support/wait.js';

const KiB = 1024;
const MiB = 1024 * KiB;

async function connectOnce(d: TestDaemon, id: string, metadata: Record<string, string>): Promise<void> {
  const s = openSotwStream(d.xdsAddress, { service: 'lds', node: { id, cluster: 'test-cluster', metadata } });
  try {
    s.send({});
    await s.next(TYPE.LDS, 10_000);
  } finally {
    s.close();
  }
  await waitUntil(`${id} to be disconnected`, () => d.daemon.nodes.get(id)?.connected === false);
}

async function nodesBody(d: TestDaemon): Promise<string> {
  const res = await fetch(`${d.apiUrl}/v1/nodes`);
  assert.equal(res.status, 200);
  return res.text();
}

describe('node metadata', { timeout: 60_000 }, () => {
  const daemon = daemonForSuite(demoConfig());

  test('metadata of 3.9 MB is cut to the bound (64 KiB): its first keys are kept, and it says so', async () => {
    const d = daemon();
    const blob = 'x'.repeat(3.9 * 1000 * 1000);
    // Struct keys come in name order.
    await connectOnce(d, 'fat', { a_role: 'edge', b_blob: blob, c_after: 'dropped' });
    const res = await fetch(`${d.apiUrl}/v1/nodes/fat`);
    const body = await res.text();
    assert.ok(body.length < 80 * KiB, `GET /v1/nodes/fat is ${body.length} bytes`);
    const metadata = (JSON.parse(body) as { metadata: Record<string, unknown> }).metadata;
    assert.equal(metadata['a_role'], 'edge', 'the keys before the cut are kept whole');
    assert.equal(metadata['c_after'], undefined, 'the keys after the cut are dropped');
    const head = metadata['b_blob'] as string;
    assert.ok(head.startsWith('xxxx'), 'the key the cut falls in keeps its head');
    assert.match(head, /… \[truncated: 3\.7 MiB\]$/);
    assert.match(String(metadata['drainplane.truncated']), /\[truncated: 3\.7 MiB\]; 1 of 3 keys kept whole/);
  });

  test('metadata within the bound is kept as it is', async () => {
    const d = daemon();
    const metadata = { role: 'edge', pad: 'y'.repeat(40 * KiB) };
    await connectOnce(d, 'fits', metadata);
    assert.deepEqual(d.daemon.nodes.get('fits')!.identity.metadata, metadata);
  });

  test('a node id longer than 1024 characters is refused with INVALID_ARGUMENT', async () => {
    const d = daemon();
    const s = openSotwStream(d.xdsAddress, { service: 'lds', node: { id: 'n'.repeat(5000), cluster: 'test-cluster' } });
    try {
      s.send({});
      const status = await s.closed;
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      assert.match(status.details, /node\.id has 5000 characters; at most 1024 are allowed/);
      assert.equal(d.daemon.nodes.list().filter((n) => n.identity.id.startsWith('nnnn')).length, 0);
    } finally {
      s.close();
    }
  });
});

describe('nodes that left', { timeout: 60_000 }, () => {
  const BOUND = 1 * MiB;
  const daemon = daemonForSuite(demoConfig(), { xdsLimits: { maxDisconnectedNodeBytes: BOUND } });
  const streams: SotwStream[] = [];
  after(() => streams.forEach((s) => s.close()));

  test('are kept within the bound in bytes, the first to leave forgotten first; connected ones stay', async () => {
    const d = daemon();
    const connected = openSotwStream(d.xdsAddress, {
      service: 'lds',
      node: { id: 'stays', cluster: 'test-cluster', metadata: { pad: 'z'.repeat(60 * KiB) } },
    });
    streams.push(connected);
    connected.send({});
    await connected.next(TYPE.LDS);
    // 40 invented nodes of 60 KiB each: 2.4 MiB in all.
    for (let i = 0; i < 40; i++) await connectOnce(d, `invented-${i}`, { pad: 'p'.repeat(60 * KiB) });
    const left = d.daemon.nodes.list().filter((n) => !n.connected);
    assert.ok(left.length >= 10 && left.length <= 17, `${left.length} nodes that left are kept`);
    assert.ok(d.daemon.nodes.disconnectedBytes <= BOUND);
    assert.ok(d.daemon.nodes.get('invented-39'), 'the last to leave is kept');
    assert.equal(d.daemon.nodes.get('invented-0'), undefined, 'the first to leave is forgotten');
    assert.equal(d.daemon.nodes.get('stays')?.connected, true);
    const body = await nodesBody(d);
    assert.ok(body.length < BOUND + 100 * KiB, `GET /v1/nodes is ${body.length} bytes`);
  });
});
