import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Replaces a file so that readers, and the file after a crash, see either the old content or
 * the new, never a mix: write a temporary file beside it, fsync it, rename it over the old
 * one, then fsync the folder so the rename itself is durable.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `${tempPrefix(file)}${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

function tempPrefix(file: string): string {
  return `.${path.basename(file)}.`;
}

/**
 * Removes the temporary files of writes to `file` that a crash cut short (the file itself
 * holds the old content or the new). Called at start-up, before anything writes the file;
 * returns how many there were.
 */
export async function removeStaleTempFiles(file: string): Promise<number> {
  const dir = path.dirname(file);
  const prefix = tempPrefix(file);
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => n.startsWith(prefix) && /^[0-9a-f]{12}\.tmp$/.test(n.slice(prefix.length)));
  await Promise.all(stale.map((n) => unlink(path.join(dir, n)).catch(() => undefined)));
  return stale.length;
}
