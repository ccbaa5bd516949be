/**
 * Finished drains are history, kept within bounds: the newest N, none older than D days. A
 * finished drain that still holds a node drained is state, not history, and is never dropped.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { expiredDrains } from '../../src/fleet/drain/retention.js';
import { managerFixture, type ManagerFixture } from '../support/manager-fixture.js';

let fixture: ManagerFixture | undefined;
afterEach(() => fixture?.close());

const INGRESS = { selector: { cluster: 'test-cluster' }, scope: 'ingress', method: 'remove', measure: 'ack' } as const;

test('beyond the newest N, cancelled drains are forgotten, in memory and on disk; a completed drain that holds the node is kept', async () => {
  let now = Date.parse('2026-12-01T00:00:00Z');
  fixture = await managerFixture({ retention: { keep: 2, maxAgeSeconds: 3600 }, now: () => now });
  const t = fixture;
  const cancelled: string[] = [];
  for (let i = 0; i < 4; i++) {
    now += 1000;
    const d = await t.create(INGRESS);
    now += 1000;
    await t.drains.cancel(d.id);
    cancelled.push(d.id);
  }
  now += 1000;
  const holding = await t.create(INGRESS);
  t.ack();
  await t.drains.tick();
  assert.equal(t.drains.get(holding.id)!.state, 'completed');
  assert.deepEqual(t.listeners(), ['egress_http'], 'the completed drain holds ingress removed');
  const kept = t.drains
    .list()
    .map((d) => d.id)
    .sort();
  assert.deepEqual(kept, [...cancelled.slice(2), holding.id].sort(), 'the two newest cancelled drains and the holding one');
  const disk = JSON.parse(await t.onDisk()) as { drains: { id: string }[] };
  assert.deepEqual(disk.drains.map((d) => d.id).sort(), kept);

  // A day later every cancelled drain is past its age; the holding one is still kept.
  now += 24 * 3600 * 1000;
  await t.drains.tick();
  assert.deepEqual(
    t.drains.list().map((d) => d.id),
    [holding.id],
  );
  assert.deepEqual(t.listeners(), ['egress_http']);
});

test('a running drain, or a finished one that holds nodes, is never expired, however old', () => {
  const old = '2020-01-01T00:00:00Z';
  const node = {
    nodeId: 'a',
    state: 'drained' as const,
    batch: 0,
    startedAt: old,
    finishedAt: old,
    listeners: [{ name: 'ingress_http', connections: 0 }],
    error: null,
  };
  const base = {
    spec: {} as never,
    createdAt: old,
    phase: 0,
    warnings: [],
    phases: [{ name: 'ingress' as const, state: 'done' as const, startedAt: old, finishedAt: old, nodes: [node] }],
  };
  const drains = [
    { ...base, id: 'running', state: 'running' as const, finishedAt: null },
    { ...base, id: 'completed', state: 'completed' as const, finishedAt: old },
    { ...base, id: 'timed-out', state: 'timed_out' as const, finishedAt: old },
    { ...base, id: 'cancelled', state: 'cancelled' as const, finishedAt: old },
  ];
  assert.deepEqual(
    expiredDrains(drains, Date.now(), { keep: 0, maxAgeSeconds: 1 }).map((d) => d.id),
    ['cancelled'],
  );
});
