import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { StoreOpenError } from '../errors.js';
import { removeStaleTempFiles, removeStaleTempFilesIn, replaceFiles, syncFolder, writeFileAtomic } from '../../fs/atomic-write.js';
import { finishJournal, replaceFilesTogether } from '../../fs/journaled-write.js';
import { readFileIfPresent } from '../../fs/read-if-present.js';

/** A record's file name: what a record's key may be, so that no key leaves the folder. */
const KEY = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * A folder of JSON records, one file each (`KEY.json`), replaced atomically: how the file
 * store keeps drains and config versions, so that a change writes the records it changes and
 * nothing else (a fleet's drain history is hundreds of megabytes at 10,000 nodes per drain).
 * A change to several records is one change (through a journal, fs/journaled-write.ts).
 */
export class RecordFolder {
  /** The write under way: writes are made one after the other (a journal is the folder's own). */
  #writing: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  /** The file a record is kept in. */
  fileOf(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  /** Whether `key` can name a record (a file in this folder). */
  static isKey(key: string): boolean {
    return KEY.test(key);
  }

  /**
   * Every record, by key, as its file's text: at start-up, before anything writes here. Creates
   * the folder, finishes a change to several records that a crash cut short after it was made,
   * and removes the temporary files of writes cut short before.
   */
  async readAll(): Promise<Map<string, string>> {
    // Its files' syncs do not make the folder's own entry durable: its parent is synced too (at
    // every start, in case a crash came between the folder's creation and that sync).
    await mkdir(this.dir, { recursive: true });
    await syncFolder(path.dirname(this.dir));
    await finishJournal(this.dir).catch((err: Error) => {
      throw new StoreOpenError(err.message);
    });
    await removeStaleTempFilesIn(this.dir);
    const keys = (await readdir(this.dir)).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
    const texts = await Promise.all(keys.map((k) => readFile(this.fileOf(k), 'utf8')));
    return new Map(keys.map((k, i) => [k, texts[i]!]));
  }

  /**
   * Writes these records and removes those, as one change: after a failure or a crash, the
   * folder has all of it or none. One record alone is one atomic rename (or removal); several
   * go through a journal.
   */
  write(records: ReadonlyMap<string, string>, removed: Iterable<string> = []): Promise<void> {
    for (const key of records.keys()) if (!KEY.test(key)) throw new Error(`cannot keep a record named ${JSON.stringify(key)} in ${this.dir}`);
    const writes = new Map([...records].map(([key, text]) => [`${key}.json`, text]));
    const removals = [...removed].map((key) => `${key}.json`);
    const done = this.#writing.then(async () => {
      if (writes.size + removals.length > 1) return replaceFilesTogether(this.dir, writes, removals);
      // An earlier change that failed after it was made is finished first: this one comes after it.
      await finishJournal(this.dir);
      await replaceFiles(this.dir, writes, removals);
    });
    this.#writing = done.catch(() => undefined);
    return done;
  }

  /**
   * Every record, by key, as its file's text, at start-up: from this folder, or, the first time,
   * from the earlier layout's file (one file for every record), which `fromLegacy` turns into
   * records' texts and which is then moved here (see #adopt). Until it is moved, the old file is
   * what counts.
   */
  async load(legacyFile: string, fromLegacy: (text: string) => ReadonlyMap<string, string>): Promise<ReadonlyMap<string, string>> {
    const legacy = await readLegacy(legacyFile);
    if (legacy === undefined) return this.readAll();
    const records = fromLegacy(legacy);
    await this.#adopt(legacyFile, records);
    return records;
  }

  /**
   * Moves the earlier layout's records here, then replaces the old file by a marker saying
   * where they went. A crash before that makes the next start do it again from the old file:
   * what the cut-short move left here is the same records, byte for byte. Any other record here
   * means drainplane ran on both layouts (an earlier release started after an upgrade was
   * rolled back, the marker moved aside): nothing is written or removed, and the start stops
   * naming both, for the operator to say which to keep. The marker's format is one no earlier
   * release reads: started on this folder, it stops with one line naming the file, rather than
   * starting without the records.
   */
  async #adopt(legacyFile: string, records: ReadonlyMap<string, string>): Promise<void> {
    const present = await this.readAll();
    const other = [...present].filter(([key, text]) => records.get(key) !== text).map(([key]) => key);
    if (other.length > 0) {
      const [legacy, folder] = [path.basename(legacyFile), `${path.basename(this.dir)}/`];
      throw new StoreOpenError(
        `${legacyFile} and ${this.dir}/ hold different records (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', ...' : ''} in ${folder}): ` +
          `an earlier drainplane ran on this folder after they were moved to ${folder}; move one aside: ${legacy} to keep ${folder}, or ${folder} to start from ${legacy}`,
      );
    }
    await this.write(records);
    const moved = {
      format: MOVED_FORMAT,
      movedTo: `${path.basename(this.dir)}/`,
      note: 'one file per record since this layout; earlier drainplane releases cannot read it',
    };
    await writeFileAtomic(legacyFile, `${JSON.stringify(moved)}\n`);
  }
}

/** The earlier layout's file, if there is one and it was not moved yet. */
async function readLegacy(file: string): Promise<string | undefined> {
  await removeStaleTempFiles(file);
  const text = await readFileIfPresent(file);
  return text === undefined || isMovedMarker(text) ? undefined : text;
}

/** A state file's text as JSON; one that is not names itself through `unreadable`. */
export function parseStateJson(text: string, unreadable: (why: string) => Error): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw unreadable(`not valid JSON (${(err as Error).message})`);
  }
}

/** The format of the marker left where the earlier layout's file was (its own format was 1). */
const MOVED_FORMAT = 2;

function isMovedMarker(text: string): boolean {
  if (text.length > 4096) return false;
  try {
    const parsed = JSON.parse(text) as { format?: unknown; movedTo?: unknown } | null;
    return parsed?.format === MOVED_FORMAT && typeof parsed.movedTo === 'string';
  } catch {
    return false;
  }
}
