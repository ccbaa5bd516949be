/**
 * Drain changes are transactions: worked out, stored, and only then put in place and pushed.
 * When the store refuses a change (a full disk, say), the drain in memory, the file on disk and
 * what every node is sent stay as they were, and the same change asked again goes through.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { ALL_LISTENERS as ALL, managerFixture, type ManagerFixture, type ManagerOptions } from '../support/manager-fixture.js';

let fixture: ManagerFixture | undefined;
afterEach(() => fixture?.close());

async function setup(options: ManagerOptions = {}): Promise<ManagerFixture> {
  fixture = await managerFixture(options);
  return fixture;
}

test('a cancel that cannot be stored changes nothing: the drain runs, the disk and the node are as before, and the retry restores the node', async () => {
  const t = await setup();
  const drain = await t.create({ selector: { cluster: 'test-cluster' }, scope: 'ingress', method: 'remove' });
  assert.deepEqual(t.listeners(), ['egress_http']);
  const disk = await t.onDisk();
  t.store.full = true;
  await assert.rejects(t.drains.cancel(drain.id), /ENOSPC/);
  assert.equal(t.drains.get(drain.id)!.state, 'running', 'not cancelled in memory');
  assert.equal(await t.onDisk(), disk, 'the file is as it was');
  assert.deepEqual(t.listeners(), ['egress_http'], 'the node stays drained: nothing was pushed');
  t.store.full = false;
  const cancelled = await t.drains.cancel(drain.id);
  assert.equal(cancelled?.state, 'cancelled');
  assert.deepEqual(t.listeners(), ALL, 'the retry restores the listener');
  assert.match(await t.onDisk(), /"state":"cancelled"/);
});

test('an advance that cannot be stored does not start the egress phase later', async () => {
  const t = await setup();
  const drain = await t.create({
    selector: { cluster: 'test-cluster' },
    scope: 'all',
    method: 'remove',
    measure: 'ack',
    egress: { after: 'advance' },
  });
  t.ack();
  await t.drains.tick();
  t.store.full = true;
  await assert.rejects(t.drains.advance(drain.id), /ENOSPC/);
  t.store.full = false;
  await t.drains.tick();
  assert.equal(t.drains.get(drain.id)!.phases[1]!.state, 'pending', 'egress waits: the advance was refused');
  assert.deepEqual(t.listeners(), ['egress_http']);
  const advanced = await t.drains.advance(drain.id);
  assert.ok(typeof advanced === 'object' && advanced.phases[1]!.state !== 'pending', 'the retry starts egress');
  assert.deepEqual(t.listeners(), []);
});

test('a step that cannot be stored is not taken: no node is pushed, and the next tick takes it', async () => {
  const t = await setup();
  const drain = await t.create({ selector: { cluster: 'test-cluster' }, scope: 'all', method: 'remove', measure: 'ack' });
  assert.deepEqual(t.listeners(), ['egress_http']);
  t.ack();
  const disk = await t.onDisk();
  t.store.full = true;
  await assert.rejects(t.drains.tick(), /ENOSPC/);
  assert.equal(t.drains.get(drain.id)!.phase, 0, 'still in ingress in memory');
  assert.equal(t.drains.get(drain.id)!.phases[0]!.nodes[0]!.state, 'pushed', 'the ACK is not recorded either');
  assert.equal(await t.onDisk(), disk);
  assert.deepEqual(t.listeners(), ['egress_http'], 'egress is not removed');
  t.store.full = false;
  await t.drains.tick();
  assert.equal(t.drains.get(drain.id)!.phase, 1);
  assert.deepEqual(t.listeners(), []);
});

test('a failed admin call fails its node through a step, which stores it; the drain in memory is not changed outside one', async () => {
  const refused = async (): Promise<void> => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:9901');
  };
  const t = await setup({
    saveProgress: true,
    admin: { healthcheckFail: refused, healthcheckOk: refused, drainListeners: refused, unavailable: () => undefined },
  });
  const drain = await t.create({ selector: { cluster: 'test-cluster' }, scope: 'ingress', method: 'healthcheck-fail' });
  const node = drain.phases[0]!.nodes[0]!;
  assert.equal(node.state, 'pushed', 'the drain as created is not changed by the failed call');
  await t.drains.tick();
  const failed = t.drains.get(drain.id)!;
  assert.equal(failed.phases[0]!.nodes[0]!.state, 'failed');
  assert.match(failed.phases[0]!.nodes[0]!.error!, /healthcheckFail failed: connect ECONNREFUSED/);
  const stored = JSON.parse(await t.onDisk()) as { drains: { id: string; phases: { nodes: { state: string }[] }[] }[] };
  assert.equal(stored.drains.find((d) => d.id === drain.id)!.phases[0]!.nodes[0]!.state, 'failed', 'the failure is on disk');
});
