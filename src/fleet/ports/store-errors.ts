/**
 * Why a write to the state store did not happen: part of the ports' contract (a store throws
 * them, the domain retries or gives up on them), so they live with the ports. They carry no
 * HTTP status: the API decides how to answer them (src/api/errors.ts); `code` names the
 * error in that answer.
 */

/** The store cannot be reached (or lost its quorum); nothing was written. */
export class StoreUnavailableError extends Error {
  readonly code = 'store-unavailable';
}

/** This replica stopped leading while it was advancing drains; the new leader carries on. */
export class NotLeaderError extends StoreUnavailableError {}

/** Another replica changed the same thing first; the newer version was taken instead. */
export class StoreConflictError extends Error {
  readonly code = 'conflict';
}

/** Runs `work` again (up to `attempts` times) while it loses races to other replicas. */
export async function retryOnConflict<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof StoreConflictError) || i >= attempts) throw err;
    }
  }
}
