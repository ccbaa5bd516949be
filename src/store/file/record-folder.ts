import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTempFiles, removeStaleTempFilesIn, replaceFiles, syncFolder, writeFileAtomic } from '../../fs/atomic-write.js';

/** A record's file name: what a record's key may be, so that no key leaves the folder. */
const KEY = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * A folder of JSON records, one file each (`KEY.json`), replaced atomically: how the file
 * store keeps drains and config versions, so that a change writes the records it changes and
 * nothing else (a fleet's drain history is hundreds of megabytes at 10,000 nodes per drain).
 */
export class RecordFolder {
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
   * the folder, and removes the temporary files of writes a crash cut short.
   */
  async readAll(): Promise<Map<string, string>> {
    // A folder made here is synced into its parent: its files' syncs do not make its own entry durable.
    if ((await mkdir(this.dir, { recursive: true })) !== undefined) await syncFolder(path.dirname(this.dir));
    await removeStaleTempFilesIn(this.dir);
    const keys = (await readdir(this.dir)).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
    const texts = await Promise.all(keys.map((k) => readFile(this.fileOf(k), 'utf8')));
    return new Map(keys.map((k, i) => [k, texts[i]!]));
  }

  /** Writes these records and removes those, with one fsync of the folder (see replaceFiles). */
  write(records: ReadonlyMap<string, string>, removed: Iterable<string> = []): Promise<void> {
    for (const key of records.keys()) if (!KEY.test(key)) throw new Error(`cannot keep a record named ${JSON.stringify(key)} in ${this.dir}`);
    return replaceFiles(
      this.dir,
      new Map([...records].map(([key, text]) => [`${key}.json`, text])),
      [...removed].map((key) => `${key}.json`),
    );
  }

  /**
   * The state file of the earlier layout (one file for every record), if there is one and it
   * was not moved yet: its text, for the store to parse and hand to `adopt`. Until `adopt`
   * replaces it, it is what counts.
   */
  async readLegacy(file: string): Promise<string | undefined> {
    await removeStaleTempFiles(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return isMovedMarker(text) ? undefined : text;
  }

  /**
   * Moves the earlier layout's records here: the folder is made to hold exactly `records`
   * (what a start cut short left gives way to the old file), then the old file is replaced by
   * a marker saying where they went. A crash before
   * that makes the next start do it again from the old file. The marker's format is one no
   * earlier drainplane reads: started on this folder after an upgrade was rolled back, it
   * stops with one line naming the file, rather than starting without the records.
   */
  async adopt(legacyFile: string, records: ReadonlyMap<string, string>): Promise<void> {
    const present = await this.readAll();
    await this.write(
      records,
      [...present.keys()].filter((k) => !records.has(k)),
    );
    const moved = {
      format: MOVED_FORMAT,
      movedTo: `${path.basename(this.dir)}/`,
      note: 'one file per record since this layout; earlier drainplane releases cannot read it',
    };
    await writeFileAtomic(legacyFile, `${JSON.stringify(moved)}\n`);
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
