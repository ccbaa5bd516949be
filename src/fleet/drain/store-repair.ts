/**
 * After a failed write, the drains in memory are written again at the next progress step, not
 * at the next change. A write can fail after it reached the disk (a file store's folder sync
 * failing after a rename, or its journal failing to be withdrawn): the store then holds, or will
 * hold, changes the caller was told had failed, and a
 * crash before some later change rewrote them would bring those changes back at the restart. A store
 * writes what a failure left unsure from the drains it is given (`changed: []` names no drain
 * of its own); while it keeps failing (a full disk), the repair backs off.
 */
import type { Logger } from 'pino';
import type { DrainStore, SaveOptions } from '../ports/drain-store.js';
import type { Drain } from './model.js';

/** The first repair after a failure, then twice as long after each that fails, up to the most. */
const FIRST_REPAIR_MS = 1_000;
const MOST_REPAIR_MS = 30_000;

export class RepairingDrainStore {
  /** When to write again after a failure (absent: nothing failed since the last repair). */
  #repair: { readonly at: number; readonly waitMs: number } | undefined;
  /** Saves that failed: one failing while a repair is written needs a repair of its own. */
  #failures = 0;

  constructor(
    private readonly store: DrainStore,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  async save(drains: readonly Drain[], options?: SaveOptions): Promise<void> {
    try {
      await this.store.save(drains, options);
    } catch (err) {
      this.#failures++;
      this.#repair ??= { at: this.now() + FIRST_REPAIR_MS, waitMs: FIRST_REPAIR_MS };
      throw err;
    }
  }

  /**
   * Once its time came after a failed write (or now, with `now`: the process stops): writes what
   * the store is unsure of from `drains()` (all in memory), asked for only then.
   */
  async repair(drains: () => readonly Drain[], options: { readonly now?: boolean } = {}): Promise<void> {
    const due = this.#repair;
    if (!due || (!options.now && this.now() < due.at)) return;
    const failures = this.#failures;
    try {
      await this.store.save(drains(), { changed: [] });
      // A save that failed meanwhile (a node joining, outside the manager's lock) may have left
      // drains unsure that this repair was not told of: it is repaired in turn.
      this.#repair = this.#failures === failures ? undefined : { at: this.now() + FIRST_REPAIR_MS, waitMs: FIRST_REPAIR_MS };
    } catch (err) {
      const waitMs = Math.min(due.waitMs * 2, MOST_REPAIR_MS);
      this.#repair = { at: this.now() + waitMs, waitMs };
      this.logger.warn(
        { event: 'drain_store_repair_failed', error: (err as Error).message, retryInSeconds: waitMs / 1000 },
        `the drains could not be written again after a failed write; retrying in ${waitMs / 1000}s`,
      );
    }
  }
}
