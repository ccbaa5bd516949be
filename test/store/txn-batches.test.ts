import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TXN_BYTES, MAX_TXN_OPS, txnBatches, type SizedOp } from '../../src/store/etcd/txn-batches.js';

const put = (i: number, bytes: number): SizedOp => ({ op: { request_put: { key: Buffer.from(`k${i}`) } }, bytes });
const keysOf = (batches: ReturnType<typeof txnBatches>): string[][] => batches.map((b) => b.map((op) => op.request_put!.key!.toString()));

test("node records go to etcd in as few transactions as etcd's op and size limits allow, in order", () => {
  const small = Array.from({ length: 300 }, (_, i) => put(i, 100));
  const batches = txnBatches(small);
  assert.deepEqual(
    batches.map((b) => b.length),
    [MAX_TXN_OPS, MAX_TXN_OPS, 300 - 2 * MAX_TXN_OPS],
  );
  assert.deepEqual(
    keysOf(batches).flat(),
    small.map((_, i) => `k${i}`),
  );

  // Large records: the byte limit cuts first.
  const big = Array.from({ length: 5 }, (_, i) => put(i, 400 * 1024));
  assert.deepEqual(
    txnBatches(big).map((b) => b.length),
    [2, 2, 1],
  );
  // One record over the limit still goes (alone): etcd, not the batching, judges it.
  assert.deepEqual(
    txnBatches([put(0, 10), put(1, MAX_TXN_BYTES + 1), put(2, 10)]).map((b) => b.length),
    [1, 1, 1],
  );
  assert.deepEqual(txnBatches([]), []);
});
