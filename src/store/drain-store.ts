import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Drain } from '../fleet/drain/model.js';
import { removeStaleTempFiles, writeFileAtomic } from '../fs/atomic-write.js';
import type { DrainStore } from '../fleet/ports/drain-store.js';
import { StoreOpenError } from './errors.js';

const FORMAT = 1;

/**
 * Drains as one JSON file in the state folder, replaced atomically on every save: after a
 * crash it holds the last state that was saved in full. Saves are serialized, and a save
 * asked for while one runs is folded into the next.
 */
export class FileDrainStore implements DrainStore {
  readonly file: string;
  #writing: Promise<void> = Promise.resolve();
  /** A write that has not started yet; later saves join it. */
  #queued: Promise<void> | undefined;
  #latest = '';

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'drains.json');
  }

  async load(): Promise<Drain[]> {
    await removeStaleTempFiles(this.file);
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return this.#parse(text);
  }

  /** The stored drains; a file that is not one names itself and what is wrong, and nothing starts. */
  #parse(text: string): Drain[] {
    const unreadable = (why: string): StoreOpenError =>
      new StoreOpenError(`${this.file}: ${why}; repair it, or move it aside to start without its drains`);
    let parsed: { format?: unknown; drains?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (err) {
      throw unreadable(`not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || parsed.format !== FORMAT || !Array.isArray(parsed.drains)) {
      throw unreadable(`not a drainplane drain state (format ${String((parsed as { format?: unknown } | null)?.format)}; expected ${FORMAT})`);
    }
    parsed.drains.forEach((d: unknown, i) => {
      const drain = d as Partial<Record<keyof Drain, unknown>> | null;
      const ok =
        typeof drain === 'object' && drain !== null && typeof drain.id === 'string' && typeof drain.spec === 'object' && Array.isArray(drain.phases);
      if (!ok) throw unreadable(`drains[${i}] is not a drain (it needs an id, a spec and phases)`);
    });
    return parsed.drains as Drain[];
  }

  save(drains: readonly Drain[]): Promise<void> {
    // Serialized now: the caller goes on changing its objects after asking for the save.
    // Unindented: at 10,000 nodes per drain, indentation makes this about 60% slower.
    this.#latest = `${JSON.stringify({ format: FORMAT, drains })}\n`;
    if (!this.#queued) {
      const queued = this.#writing.then(() => {
        this.#queued = undefined;
        return writeFileAtomic(this.file, this.#latest);
      });
      this.#queued = queued;
      this.#writing = queued.catch(() => undefined);
    }
    return this.#queued;
  }

  /** One process owns the folder: nobody else changes its drains. */
  watch(): () => void {
    return () => {};
  }
}
