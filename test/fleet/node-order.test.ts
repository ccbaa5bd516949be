import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareKeys, compareNatural, firstInOrder } from '../../src/fleet/node-order.js';

describe('node order: ids read as numbers', () => {
  test('runs of digits compare by value, the rest by code units', () => {
    const ids = ['10.2.1.10', 'edge-10', '10.2.1.2', 'edge-9', '10.2.1.1', 'Edge-1', '10.10.1.1', 'edge-09a'];
    assert.deepEqual(ids.sort(compareNatural), ['10.2.1.1', '10.2.1.2', '10.2.1.10', '10.10.1.1', 'Edge-1', 'edge-9', 'edge-09a', 'edge-10']);
  });

  test('a total order: only equal strings compare equal, leading zeros told apart', () => {
    assert.equal(compareNatural('n7', 'n7'), 0);
    assert.ok(compareNatural('n07', 'n7') !== 0);
    assert.equal(Math.sign(compareNatural('n07', 'n7')), -Math.sign(compareNatural('n7', 'n07')));
    assert.ok(compareNatural('a', 'a1') < 0);
  });

  test('numbers longer than a double holds still compare by value', () => {
    assert.ok(compareNatural('x99999999999999999999', 'x100000000000000000000') < 0);
  });

  test('keys compare element by element', () => {
    assert.ok(compareKeys(['edge', 'node-2'], ['edge', 'node-10']) < 0);
    assert.ok(compareKeys(['edge-2', 'z'], ['edge-10', 'a']) < 0);
  });
});

describe('the first N in order, without sorting the rest', () => {
  test('the same items, in the same order, as a stable sort and a slice: ties keep their order', () => {
    let seed = 11;
    const next = (k: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % k;
    const byKey = (a: { key: number }, b: { key: number }): number => a.key - b.key;
    for (let run = 0; run < 300; run++) {
      const items = Array.from({ length: next(60) }, (_, i) => ({ key: next(8), i }));
      for (const n of [0, 1, 2, 5, 20, 59, 60, 100]) {
        assert.deepEqual(firstInOrder(items, n, byKey), [...items].sort(byKey).slice(0, n), `run ${run}, ${n} of ${items.length}`);
      }
    }
  });
});
