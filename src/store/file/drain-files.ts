import path from 'node:path';
import type { Drain } from '../../fleet/drain/model.js';
import type { DrainStore, SaveOptions } from '../../fleet/ports/drain-store.js';
import { StoreOpenError } from '../errors.js';
import { parseStateJson, RecordFolder } from './record-folder.js';

/** The format of one drain's file (`drains/ID.json`). */
const FORMAT = 1;
/** The format of the earlier layout's single file (`drains.json`), read once and moved. */
const LEGACY_FORMAT = 1;

/**
 * A queued write: each drain's text, or null to remove its file, with the number of failed
 * writes there had been when that was decided (see FileDrainStore.#unsure); and when it is done.
 */
interface Batch {
  readonly changes: Map<string, { readonly text: string | null; readonly failures: number }>;
  readonly done: Promise<void>;
}

/**
 * Drains in the state folder, one file each (`drains/ID.json`), each replaced atomically: a
 * save writes the drains it changes, not the kept history (100 finished drains of 10,000
 * nodes are 340 MB of JSON). A save of several drains is one change (RecordFolder.write): after
 * a crash the folder holds the last save, whole. Saves are serialized, and saves asked for while
 * one runs are folded into the next.
 */
export class FileDrainStore implements DrainStore {
  readonly folder: RecordFolder;
  /** Where the earlier layout kept every drain. */
  readonly legacyFile: string;
  /** The drains with a file, as of the last write that went through. */
  readonly #stored = new Set<string>();
  /**
   * Drains whose file a failed write may have left other than memory has them, with the count
   * of failed writes when they became so: the next saves write them again from memory.
   */
  readonly #unsure = new Map<string, number>();
  #failures = 0;
  #writing: Promise<void> = Promise.resolve();
  /** A write that has not started yet; later saves join it. */
  #queued: Batch | undefined;

  constructor(stateDir: string) {
    this.folder = new RecordFolder(path.join(stateDir, 'drains'));
    this.legacyFile = path.join(stateDir, 'drains.json');
  }

  async load(): Promise<Drain[]> {
    // Drains moved from the earlier layout are used as read from it, not parsed again from their
    // new files (a kept history can be hundreds of megabytes).
    let moved: Map<string, Drain> | undefined;
    const records = await this.folder.load(this.legacyFile, (text) => {
      moved = new Map(this.#parseLegacy(text).map((d) => [d.id, d]));
      return new Map([...moved].map(([id, d]) => [id, record(d)]));
    });
    const drains = moved ? [...moved.values()] : [...records].map(([id, text]) => this.#parse(id, text));
    for (const d of drains) this.#stored.add(d.id);
    // In the order they were created, as they were listed before the restart.
    return drains.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  }

  /** One drain's file; a file that is not one names itself and what is wrong, and nothing starts. */
  #parse(id: string, text: string): Drain {
    const file = this.folder.fileOf(id);
    const unreadable = (why: string): StoreOpenError =>
      new StoreOpenError(`${file}: ${why}; repair it, or move it aside to start without this drain`);
    const parsed = parseStateJson(text, unreadable) as { format?: unknown; drain?: unknown } | null;
    if (typeof parsed !== 'object' || parsed === null || parsed.format !== FORMAT) {
      throw unreadable(`not a drainplane drain (format ${String(parsed?.format)}; expected ${FORMAT})`);
    }
    const why = notADrain(parsed.drain);
    if (why) throw unreadable(why);
    const drain = parsed.drain as Drain;
    if (drain.id !== id) throw unreadable(`it holds drain ${JSON.stringify(drain.id)}, not ${id}`);
    return drain;
  }

  /** The earlier layout's file, moved into the folder at the first start on it. */
  #parseLegacy(text: string): Drain[] {
    const unreadable = (why: string): StoreOpenError =>
      new StoreOpenError(`${this.legacyFile}: ${why}; repair it, or move it aside to start without its drains`);
    const parsed = parseStateJson(text, unreadable) as { format?: unknown; drains?: unknown } | null;
    if (typeof parsed !== 'object' || parsed === null || parsed.format !== LEGACY_FORMAT || !Array.isArray(parsed.drains)) {
      throw unreadable(`not a drainplane drain state (format ${String(parsed?.format)}; expected ${LEGACY_FORMAT})`);
    }
    parsed.drains.forEach((d: unknown, i) => {
      const why = notADrain(d);
      if (why) throw unreadable(`drains[${i}] ${why}`);
    });
    return parsed.drains as Drain[];
  }

  /**
   * Writes the drains this save is about (`changed`; all of them without it) and removes
   * `removed` (without `changed`: every stored drain not in `drains`). Each drain's text is
   * made now: the caller goes on changing its objects after asking for the save. Drains a
   * failed write left unsure are written again as `drains` has them (or removed, if it does
   * not list them), so the folder comes back to what is in memory.
   */
  save(drains: readonly Drain[], options: SaveOptions = {}): Promise<void> {
    const changes = new Map<string, string | null>();
    if (this.#unsure.size > 0) {
      const listed = new Map(drains.map((d) => [d.id, d]));
      for (const id of this.#unsure.keys()) {
        const drain = listed.get(id);
        changes.set(id, drain ? record(drain) : null);
      }
    }
    for (const d of options.changed ?? drains) changes.set(d.id, record(d));
    if (options.removed) {
      for (const d of options.removed) changes.set(d.id, null);
    } else if (!options.changed) {
      const listed = new Set(drains.map((d) => d.id));
      for (const id of this.#stored) if (!listed.has(id)) changes.set(id, null);
    }
    if (changes.size === 0) return Promise.resolve();
    const batch = this.#batch();
    for (const [id, text] of changes) batch.changes.set(id, { text, failures: this.#failures });
    return batch.done;
  }

  /** The queued write, or a new one that starts when the write under way has ended. */
  #batch(): Batch {
    if (this.#queued) return this.#queued;
    const changes: Batch['changes'] = new Map();
    const done = this.#writing.then(async () => {
      this.#queued = undefined;
      const writes = new Map<string, string>();
      for (const [id, { text }] of changes) if (text !== null) writes.set(id, text);
      const removals = [...changes.keys()].filter((id) => !writes.has(id));
      try {
        await this.folder.write(writes, removals);
      } catch (err) {
        // Most failures (a full or read-only disk) change nothing. Some leave it unknown: the
        // folder's sync failing after a rename, or a journal that could not be withdrawn (the
        // next write would finish it).
        this.#failures++;
        for (const id of changes.keys()) this.#unsure.set(id, this.#failures);
        throw err;
      }
      for (const id of writes.keys()) this.#stored.add(id);
      for (const id of removals) this.#stored.delete(id);
      // Sure again once written with a text decided after the failure, from memory; a text
      // decided before it (a save queued meanwhile, made on a change that then failed) is not.
      for (const [id, { failures }] of changes) if ((this.#unsure.get(id) ?? Infinity) <= failures) this.#unsure.delete(id);
    });
    this.#queued = { changes, done };
    this.#writing = done.catch(() => undefined);
    return this.#queued;
  }

  /** One process owns the folder: nobody else changes its drains. */
  watch(): () => void {
    return () => {};
  }
}

/** A drain's file. Unindented: at 10,000 nodes, indentation makes it about 60% slower to write. */
function record(drain: Drain): string {
  return `${JSON.stringify({ format: FORMAT, drain })}\n`;
}

/** Why a stored value is not a drain, or undefined when it has what a drain needs to be read. */
function notADrain(value: unknown): string | undefined {
  const drain = value as Partial<Record<keyof Drain, unknown>> | null;
  const ok =
    typeof drain === 'object' && drain !== null && typeof drain.id === 'string' && typeof drain.spec === 'object' && Array.isArray(drain.phases);
  if (!ok) return 'is not a drain (it needs an id, a spec and phases)';
  if (!RecordFolder.isKey(drain.id as string)) return `has an id drainplane does not make: ${JSON.stringify(drain.id)}`;
  return undefined;
}
