/**
 * What the drain manager needs from a store: drains kept between restarts and shared between
 * replicas. Defined here, beside its user, so that the domain does not depend on the store
 * that implements it (src/store/).
 */
import type { Drain } from '../drain/model.js';

/** Where drains live between restarts, and how replicas learn of each other's changes. */
export interface DrainStore {
  load(): Promise<Drain[]>;
  /**
   * Saves the drains that changed. A shared store writes each changed drain only if nobody
   * else changed it since this replica last saw it, and throws StoreConflictError when
   * someone did (after handing the newer version to the watchers).
   */
  save(drains: readonly Drain[], options?: SaveOptions): Promise<void>;
  /**
   * Told of drains changed elsewhere (another replica, or the stored version taking the place
   * of a losing write); `undefined` when a drain is gone. Returns the function that stops.
   */
  watch(listener: DrainListener): () => void;
}

export type DrainListener = (id: string, drain: Drain | undefined) => void;

export interface SaveOptions {
  /**
   * The drains this save is about (default: all). A store that writes drains one by one
   * writes only these, so that another drain's failed write cannot fail this change after
   * its own write went through. A store that writes the whole state at once ignores it.
   */
  readonly changed?: readonly Drain[];
  /**
   * A step only the leader takes (a batch, a phase, a deadline): refused with NotLeaderError
   * unless this replica still leads when it is written.
   */
  readonly step?: boolean;
  /**
   * For a changed drain that is a new object (changes are made on copies), the object it was
   * made from: a store that writes only over the version a change was made to finds that
   * version through it.
   */
  readonly madeFrom?: ReadonlyMap<Drain, Drain>;
  /**
   * Drains to forget (kept history that expired): not in `drains` any more. A store that
   * writes drains one by one deletes them; one that writes the whole state drops them with it.
   */
  readonly removed?: readonly Drain[];
}
