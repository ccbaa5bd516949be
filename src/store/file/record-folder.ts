import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTempFiles, removeStaleTempFilesIn, replaceFiles, syncFolder } from '../../fs/atomic-write.js';

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
    await mkdir(this.dir, { recursive: true });
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
   * The state file of the earlier layout (one file for every record), if there is one: its text,
   * for the store to parse and hand to `adopt`. Until `adopt` removes it, it is what counts.
   */
  async readLegacy(file: string): Promise<string | undefined> {
    await removeStaleTempFiles(file);
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Moves the earlier layout's records here: the folder is made to hold exactly `records`
   * (anything a start cut short, or an older drainplane's later changes, give way to the old
   * file), then the old file is removed. A crash before that removal makes the next start do
   * it again from the old file.
   */
  async adopt(legacyFile: string, records: ReadonlyMap<string, string>): Promise<void> {
    const present = await this.readAll();
    await this.write(
      records,
      [...present.keys()].filter((k) => !records.has(k)),
    );
    await unlink(legacyFile);
    await syncFolder(path.dirname(legacyFile));
  }
}
