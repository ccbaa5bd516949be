/**
 * After a failed write the drains are written again at a progress step, backing off while the
 * store keeps failing, and not at all while nothing failed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Drain } from '../../src/fleet/drain/model.js';
import { RepairingDrainStore } from '../../src/fleet/drain/store-repair.js';
import type { DrainStore, SaveOptions } from '../../src/fleet/ports/drain-store.js';
import { drainRecord } from '../support/drain-record.js';

class CountingStore implements DrainStore {
  failing = false;
  /** Per save, how many drains it named (-1: none named, so all). */
  readonly saves: number[] = [];
  load(): Promise<Drain[]> {
    return Promise.resolve([]);
  }
  watch(): () => void {
    return () => {};
  }
  save(_drains: readonly Drain[], options?: SaveOptions): Promise<void> {
    this.saves.push(options?.changed?.length ?? -1);
    return this.failing ? Promise.reject(new Error('EIO: i/o error, rename')) : Promise.resolve();
  }
}

test('nothing failed: no repair write; a failure: one repair, due after 1 s, then twice as long after each that fails, at most 30 s', async () => {
  let now = 0;
  const store = new CountingStore();
  const logs: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(line) });
  const repairing = new RepairingDrainStore(store, logger, () => now);
  const drains = [drainRecord('drn_a')];

  await repairing.repair(() => drains);
  assert.deepEqual(store.saves, [], 'nothing to repair');

  store.failing = true;
  await assert.rejects(repairing.save(drains, { changed: drains }), /EIO/);
  await repairing.repair(() => drains);
  assert.equal(store.saves.length, 1, 'not due yet');
  const repairsAt: number[] = [];
  for (; now <= 120_000; now += 500) {
    const before = store.saves.length;
    await repairing.repair(() => drains);
    if (store.saves.length > before) repairsAt.push(now);
  }
  assert.deepEqual(repairsAt.slice(0, 6), [1_000, 3_000, 7_000, 15_000, 31_000, 61_000]);
  assert.ok(
    store.saves.slice(1).every((named) => named === 0),
    'a repair names no drain of its own',
  );
  assert.equal(logs.length, repairsAt.length, 'one warning per failed repair');
  assert.match(logs[0]!, /"event":"drain_store_repair_failed"/);

  store.failing = false;
  now += 30_000;
  await repairing.repair(() => drains);
  const after = store.saves.length;
  now += 60_000;
  await repairing.repair(() => drains);
  assert.equal(store.saves.length, after, 'repaired: no more repair writes');
});

test('a save that fails while a repair is written is repaired in turn; a stop repairs at once', async () => {
  let now = 0;
  const store = new CountingStore();
  const repairing = new RepairingDrainStore(store, pino({ level: 'silent' }), () => now);
  const drains = [drainRecord('drn_a')];
  store.failing = true;
  await assert.rejects(repairing.save(drains, { changed: drains }));
  store.failing = false;
  now = 1_000;
  // Another save fails while the repair is being written (a node joining, outside the manager's lock).
  const save = store.save.bind(store);
  store.save = async (d, o) => {
    store.save = save;
    store.failing = true;
    await assert.rejects(repairing.save(d, { changed: d }));
    store.failing = false;
    return save(d, o);
  };
  await repairing.repair(() => drains);
  const after = store.saves.length;
  await repairing.repair(() => drains);
  assert.equal(store.saves.length, after, 'the next one is due later');
  now = 2_000;
  await repairing.repair(() => drains);
  assert.equal(store.saves.length, after + 1, 'repaired in turn');
  await repairing.repair(() => drains, { now: true });
  assert.equal(store.saves.length, after + 1, 'nothing left to repair');

  store.failing = true;
  await assert.rejects(repairing.save(drains, { changed: drains }));
  store.failing = false;
  await repairing.repair(() => drains, { now: true });
  assert.equal(store.saves.length, after + 3, 'a stop does not wait for the repair to be due');
});
