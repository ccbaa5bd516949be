import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { StoreOpenError } from '../errors.js';

/** Who holds a state folder, as written in its lock file. */
interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

export const LOCK_FILE = 'drainplane.lock';

/**
 * Takes the state folder for this process alone: two processes on one folder would each
 * answer for drains and overwrite each other's. The lock is a file created exclusively, with
 * the holder's pid and host. One left by a process that is gone (a crash, a container
 * restart on the same volume) is taken over; one whose process runs is refused, naming it.
 * Returns the release.
 */
export async function lockStateFolder(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, LOCK_FILE);
  const mine: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644);
      await handle.writeFile(`${JSON.stringify(mine)}\n`);
      await handle.close();
      return () => unlink(file).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreOpenError(`${file}: cannot create the state folder's lock: ${(err as Error).message}`);
      }
    }
    const holder = await readHolder(file);
    if (holder && (await holds(holder))) {
      throw new StoreOpenError(
        `${dir} is in use by drainplane pid ${holder.pid} on ${holder.host} since ${holder.since}: one process per state folder ` +
          `(stop that one; for several replicas use an etcd store). If that process is gone, remove ${file}`,
      );
    }
    // Left behind by a process that is gone: taken over.
    await unlink(file).catch(() => undefined);
  }
  throw new StoreOpenError(`${file}: another process took the state folder's lock while this one started`);
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, since: String(parsed.since) };
    }
  } catch {
    // Unreadable (a crash while it was written): nobody can be shown to hold it.
  }
  return undefined;
}

/**
 * Whether the holder still runs. On another host it cannot be checked, so it is taken to run.
 * Here: its pid is alive, is not this process (a restarted container can get the pid its
 * predecessor had), and, where /proc tells, runs drainplane (a pid reused by another program).
 */
async function holds(holder: Holder): Promise<boolean> {
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const cmdline = await readFile(`/proc/${holder.pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline === undefined || cmdline.includes('drainplane');
}
