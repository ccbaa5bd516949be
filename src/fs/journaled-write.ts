/**
 * Several files of one folder replaced, and others removed, as one change: whatever fails or
 * crashes, the folder ends up with all of the change or none of it, as the next start or the
 * next write finds it.
 *
 * The new contents go to temporary files, synced. Then a journal that names each temporary
 * file's destination and the files to remove is written atomically: that is the commit. The
 * renames and removals follow, and the journal goes last. A journal found later (a crash, or a
 * rename that failed after the commit) is finished before the folder is read or written again:
 * each rename whose temporary file is still there is made, each removal made again. Both are
 * idempotent, and the temporary files' names are random, so finishing twice changes nothing.
 */
import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { removeFiles, removeTemps, syncFolder, writeFileAtomic, writeTempFiles } from './atomic-write.js';
import { readFileIfPresent } from './read-if-present.js';

/** The journal's name in its folder: no `.json` record, and no temporary file's pattern. */
const JOURNAL = '.journal';
const FORMAT = 1;

interface Journal {
  readonly format: typeof FORMAT;
  /** [temporary file, the file it becomes], names in the folder. */
  readonly renames: readonly (readonly [string, string])[];
  readonly removals: readonly string[];
}

/**
 * Replaces `writes` (name to content) and removes `removals` in `dir` as one change. Once the
 * journal is written the change is made, and this resolves even if a rename fails after it:
 * the next write, or the next start, finishes it (and fails if it still cannot). A failure
 * before that leaves the folder as it was.
 */
export async function replaceFilesTogether(
  dir: string,
  writes: ReadonlyMap<string, string | Uint8Array>,
  removals: readonly string[] = [],
): Promise<void> {
  await finishJournal(dir);
  const file = path.join(dir, JOURNAL);
  const temps = new Map<string, string>();
  let journal: Journal;
  try {
    await writeTempFiles(dir, writes, temps);
    journal = { format: FORMAT, renames: [...temps].map(([name, temp]) => [path.basename(temp), name] as const), removals };
    // Its folder's sync makes the temporary files' entries durable too.
    await writeFileAtomic(file, `${JSON.stringify(journal)}\n`);
  } catch (err) {
    // The journal may be in place all the same (its folder's sync failed after its rename). It
    // is withdrawn first, and the temporary files go only once it surely is: a journal left
    // behind must never name files that are gone, or finishing it would make half the change.
    if (await withdraw(dir, file)) await removeTemps(temps.values());
    throw err;
  }
  // Made: a failure from here on is the next write's (or start's) to finish, not this one's.
  await apply(dir, journal).catch(() => undefined);
}

/**
 * Finishes the change a journal left in `dir` records, if there is one; returns whether there
 * was. Called before anything reads or writes the folder. A journal that is not one names its
 * file, for the operator to move it aside.
 */
export async function finishJournal(dir: string): Promise<boolean> {
  const file = path.join(dir, JOURNAL);
  const text = await readFileIfPresent(file);
  if (text === undefined) return false;
  await apply(dir, parseJournal(file, text));
  return true;
}

/** Removes a journal not made (or not surely made); whether it surely is gone. */
async function withdraw(dir: string, file: string): Promise<boolean> {
  try {
    await unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    return false;
  }
  return syncFolder(dir).then(
    () => true,
    () => false,
  );
}

async function apply(dir: string, journal: Journal): Promise<void> {
  for (const [temp, name] of journal.renames) {
    await rename(path.join(dir, temp), path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      // Renamed before: by the write itself, or by an earlier finish cut short.
      if (err.code !== 'ENOENT') throw err;
    });
  }
  await removeFiles(dir, journal.removals);
  await syncFolder(dir);
  await unlink(path.join(dir, JOURNAL));
  // The journal must not come back after a crash: it would remove files written since.
  await syncFolder(dir);
}

function parseJournal(file: string, text: string): Journal {
  const bad = (why: string): Error =>
    new Error(`${file}: ${why}; it records a change drainplane had made, to finish at start: move it aside to start without it`);
  let parsed: Partial<Journal> | null;
  try {
    parsed = JSON.parse(text) as Partial<Journal> | null;
  } catch (err) {
    throw bad(`not valid JSON (${(err as Error).message})`);
  }
  const isName = (n: unknown): n is string => typeof n === 'string' && n !== '' && n !== '.' && n !== '..' && path.basename(n) === n;
  const ok =
    parsed?.format === FORMAT &&
    Array.isArray(parsed.renames) &&
    parsed.renames.every((r) => Array.isArray(r) && r.length === 2 && isName(r[0]) && isName(r[1])) &&
    Array.isArray(parsed.removals) &&
    parsed.removals.every(isName);
  if (!ok) throw bad(`not a journal of this drainplane (format ${String(parsed?.format)}; expected ${FORMAT}, with file names only)`);
  return parsed as Journal;
}
