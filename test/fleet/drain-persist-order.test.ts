/**
 * "What a node is sent is always already on disk", for a node that connects while a drain's
 * creation is being saved: the drain manager with a store whose saves the test holds open,
 * standing in for a slow fsync that a kill could interrupt.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import type { DrainStore } from '../../src/fleet/ports/drain-store.js';
import { drainManagerOn } from '../support/manager-fixture.js';

/** A store whose saves complete only when the test lets them; it keeps what reached "disk". */
class HeldStore implements DrainStore {
  onDisk: Drain[] = [];
  readonly #held: (() => void)[] = [];

  async load(): Promise<Drain[]> {
    return [];
  }

  /** One replica: nothing changes elsewhere. */
  watch(): () => void {
    return () => {};
  }

  save(drains: readonly Drain[]): Promise<void> {
    const copy = JSON.parse(JSON.stringify(drains)) as Drain[];
    return new Promise((resolve) =>
      this.#held.push(() => {
        this.onDisk = copy;
        resolve();
      }),
    );
  }

  get waiting(): number {
    return this.#held.length;
  }

  releaseAll(): void {
    for (const release of this.#held.splice(0)) release();
  }
}

function setup() {
  const store = new HeldStore();
  return { store, ...drainManagerOn(store) };
}

const ALL = ['egress_http', 'ingress_http'];

test('a node that connects while a drain is being created is not sent the drained set before the drain is on disk, and joins it', async () => {
  const { store, drains, connect } = setup();
  connect('early');
  const creating = drains.create({ selector: { cluster: 'test-cluster' }, scope: 'ingress', method: 'remove' });
  await new Promise((r) => setImmediate(r));
  assert.equal(store.waiting, 1, 'the creation is being saved');
  const late = connect('late');
  assert.deepEqual(late.listeners(), ALL, 'nothing on disk yet: the late node is sent its full set');
  let done = false;
  void creating.then(() => (done = true));
  while (!done) {
    store.releaseAll();
    await new Promise((r) => setImmediate(r));
    // A node loses a listener only to a drain that is on disk with that node in it.
    if (late.listeners().length < 2) {
      const onDisk = store.onDisk.find((d) => d.spec.selector.cluster === 'test-cluster');
      assert.ok(
        onDisk?.phases[0]!.nodes.some((n) => n.nodeId === 'late'),
        'the late node was drained before its join was on disk',
      );
    }
  }
  const { drain } = (await creating) as { drain: Drain };
  assert.deepEqual(late.listeners(), ['egress_http'], 'the late node joined the drain');
  assert.ok(store.onDisk.find((d) => d.id === drain.id)!.phases[0]!.nodes.some((n) => n.nodeId === 'late'));
});
