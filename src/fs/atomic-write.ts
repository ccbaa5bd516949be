import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Replaces a file so that readers, and the file after a crash, see either the old content or
 * the new, never a mix: write a temporary file beside it, fsync it, rename it over the old
 * one, then fsync the folder so the rename itself is durable.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await replaceFiles(path.dirname(file), new Map([[path.basename(file), data]]));
}

/**
 * Writes several files of one folder, and removes others, with one fsync of the folder: each
 * file is replaced atomically as by writeFileAtomic. Every new content is written and synced
 * before the first rename, so a write that fails (a full or read-only disk) changes nothing;
 * a crash during the renames leaves each file old or new, not all of them alike.
 */
export async function replaceFiles(dir: string, writes: ReadonlyMap<string, string | Uint8Array>, removals: readonly string[] = []): Promise<void> {
  const temps = new Map<string, string>();
  try {
    await writeTempFiles(dir, writes, temps);
    for (const [name, temp] of temps) {
      await rename(temp, path.join(dir, name));
      temps.delete(name);
    }
  } finally {
    await removeTemps(temps.values());
  }
  await removeFiles(dir, removals);
  await syncFolder(dir);
}

/**
 * Writes and fsyncs each content to a temporary file beside the file it is for, named as
 * removeStaleTempFilesIn finds them; `temps` gets each file's temporary path as it is made, so
 * that a failure part way leaves the caller the ones to remove.
 */
export async function writeTempFiles(dir: string, writes: ReadonlyMap<string, string | Uint8Array>, temps: Map<string, string>): Promise<void> {
  for (const [name, data] of writes) {
    const temp = path.join(dir, `${tempPrefix(name)}${randomBytes(6).toString('hex')}.tmp`);
    temps.set(name, temp);
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

export async function removeTemps(temps: Iterable<string>): Promise<void> {
  await Promise.all([...temps].map((temp) => unlink(temp).catch(() => {})));
}

/** Removes these files of the folder; one already gone is no error. */
export async function removeFiles(dir: string, names: Iterable<string>): Promise<void> {
  for (const name of names) {
    await unlink(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/** Makes the renames, creations and removals of a folder's entries durable. */
export async function syncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

function tempPrefix(name: string): string {
  return `.${name}.`;
}

const TEMP_SUFFIX = /^[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temporary files of writes to `file` that a crash cut short (the file itself
 * holds the old content or the new). Called at start-up, before anything writes the file;
 * returns how many there were.
 */
export async function removeStaleTempFiles(file: string): Promise<number> {
  const prefix = tempPrefix(path.basename(file));
  return removeTempFiles(path.dirname(file), (name) => name.startsWith(prefix) && TEMP_SUFFIX.test(name.slice(prefix.length)));
}

/** The same for every file of a folder that holds only files written here (a store's records). */
export async function removeStaleTempFilesIn(dir: string): Promise<number> {
  return removeTempFiles(dir, (name) => /^\..+\.[0-9a-f]{12}\.tmp$/.test(name));
}

async function removeTempFiles(dir: string, isTemp: (name: string) => boolean): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter(isTemp);
  await Promise.all(stale.map((n) => unlink(path.join(dir, n)).catch(() => undefined)));
  return stale.length;
}
