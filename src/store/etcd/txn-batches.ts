import type { Etcd3, IRequestOp } from 'etcd3';

/** etcd's default --max-txn-ops. */
export const MAX_TXN_OPS = 128;
/** Below etcd's default --max-request-bytes (1.5 MiB), with room for the request's envelope. */
export const MAX_TXN_BYTES = 1024 * 1024;
/** Transactions in flight at once: enough to keep etcd busy, few enough not to flood the connection. */
const CONCURRENCY = 4;

export interface SizedOp {
  readonly op: IRequestOp;
  /** Key and value bytes. */
  readonly bytes: number;
}

/** Ops grouped in order into as few transactions as etcd's limits allow. */
export function txnBatches(ops: readonly SizedOp[]): IRequestOp[][] {
  const batches: IRequestOp[][] = [];
  let batch: IRequestOp[] = [];
  let bytes = 0;
  for (const { op, bytes: size } of ops) {
    if (batch.length > 0 && (batch.length === MAX_TXN_OPS || bytes + size > MAX_TXN_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(op);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Writes independent ops (no two on one key) in unconditional transactions: thousands of
 * changes cost tens of requests rather than thousands. Each transaction applies whole or not
 * at all; when one fails, the error is thrown after the others ended, and the caller writes
 * again what it could not be sure of.
 */
export async function writeInTxns(client: Etcd3, ops: readonly SizedOp[]): Promise<void> {
  const batches = txnBatches(ops);
  let next = 0;
  let failure: Error | undefined;
  const worker = async (): Promise<void> => {
    while (next < batches.length && failure === undefined) {
      const success = batches[next++]!;
      try {
        await client.kv.txn({ compare: [], success, failure: [] });
      } catch (err) {
        failure ??= err as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batches.length) }, worker));
  if (failure !== undefined) throw failure;
}
