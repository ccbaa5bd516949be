/**
 * Drain changes are transactions: worked out, stored, and only then put in place and pushed.
 * When the store refuses a change (a full disk, say), the drain in memory, the file on disk and
 * what every node is sent stay as they were, and the same change asked again goes through.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { FileDrainStore } from '../../src/store/file/drain-files.js';
import { ALL_LISTENERS as ALL, drainManagerOn, managerFixture, type ManagerFixture, type ManagerOptions } from '../support/manager-fixture.js';

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

test('a save of two drains whose second file cannot be replaced after the first was is made whole from its journal by the next write', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-journal-'));
  try {
    const files = new FileDrainStore(dir);
    const { drains, connect } = drainManagerOn(files);
    await drains.load();
    connect('a');
    // Two drains that keep running (measured by connections, which no node reports), one per role.
    const ingress = await drains.create({ selector: { cluster: 'test-cluster' }, scope: 'ingress', method: 'remove', deadlineSeconds: 3600 });
    const egress = await drains.create({ selector: { cluster: 'test-cluster' }, scope: 'egress', method: 'remove', deadlineSeconds: 3600 });
    assert.ok('drain' in ingress && 'drain' in egress);
    // Node b joins both in one write; the second drain's file cannot be replaced (a folder took its name).
    const blocked = path.join(dir, 'drains', `${egress.drain.id}.json`);
    await rm(blocked);
    await mkdir(blocked);
    await writeFile(path.join(blocked, 'x'), '');
    connect('b');
    const joined = (id: string) => JSON.stringify(drains.get(id)!.phases.map((p) => p.nodes.map((n) => n.nodeId)));
    assert.equal(joined(egress.drain.id), '[["a","b"]]', 'b joined in memory');
    await waitFor(async () => (await readFile(path.join(dir, 'drains', `${ingress.drain.id}.json`), 'utf8')).includes('"nodeId":"b"'));
    await rm(blocked, { recursive: true });

    // The next write, of another drain, finishes the join first.
    const other = await drains.create({ selector: { ids: ['a'] }, scope: 'ingress', method: 'remove', deadlineSeconds: 3600 });
    assert.ok('drain' in other);
    assert.deepEqual(JSON.parse(await readFile(blocked, 'utf8')).drain, drains.get(egress.drain.id), 'b joined on disk too');
    await assert.rejects(readFile(path.join(dir, 'drains', '.journal')), /ENOENT/);
    const stored = new Map((await new FileDrainStore(dir).load()).map((d) => [d.id, d]));
    assert.deepEqual(stored.get(egress.drain.id), drains.get(egress.drain.id), 'the egress drain is on disk as in memory, b included');
    assert.deepEqual(stored.get(ingress.drain.id), drains.get(ingress.drain.id));
    assert.deepEqual(stored.get(other.drain.id), drains.get(other.drain.id));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function waitFor(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(await done());
}
