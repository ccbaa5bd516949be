/**
 * The crash test's look at drainplane's state files after a kill: the drain files must parse and
 * be exactly the committed drains, and the config file must be the committed config.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelState } from './crash-model.js';

/** A drain as its file holds it (the fields the test reads). */
export interface FileDrain {
  readonly id: string;
  readonly state: string;
  readonly spec: { selector: unknown; scope: unknown; method: string };
  readonly phases: { state: string; nodes: { nodeId: string }[] }[];
  /** Set when an advance is recorded, before the egress phase starts. */
  readonly advanced?: boolean;
}

export interface StateFiles {
  readonly drains: FileDrain[];
  readonly config: string;
}

/** Reads the state: every drain file must parse as a committed drain (a write cut short left only its temporary file). */
export async function readStateFiles(stateDir: string, configFile: string): Promise<StateFiles> {
  const folder = path.join(stateDir, 'drains');
  const names = await readdir(folder).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const drains: FileDrain[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const text = await readFile(path.join(folder, name), 'utf8');
    try {
      const parsed = JSON.parse(text) as { format?: number; drain?: FileDrain };
      if (parsed.format !== 1 || parsed.drain?.id !== name.slice(0, -'.json'.length))
        throw new Error(`format ${parsed.format}, drain ${parsed.drain?.id}`);
      drains.push(parsed.drain);
    } catch (err) {
      throw new Error(`drains/${name} is not a committed drain: ${(err as Error).message}\n${text.slice(0, 500)}`);
    }
  }
  return { drains, config: await readFile(configFile, 'utf8') };
}

/** How the files differ from the committed state (the operation cut short already settled). */
export function stateFileViolations(files: StateFiles, state: ModelState, configText: string, when: string): string[] {
  const out: string[] = [];
  const onDisk = new Map(files.drains.map((d) => [d.id, d]));
  for (const m of state.drains) {
    const f = onDisk.get(m.id);
    if (!f) out.push(`${when}: acknowledged drain ${m.id} has no file`);
    else if ((f.state === 'cancelled') !== m.cancelled) out.push(`${when}: drain ${m.id} is ${f.state} on disk, cancelled: ${m.cancelled}`);
    else if (JSON.stringify([f.spec.selector, f.spec.scope, f.spec.method]) !== JSON.stringify([m.body.selector, m.body.scope, m.body.method])) {
      out.push(`${when}: drain ${m.id} has another spec on disk: ${JSON.stringify(f.spec)}`);
    }
    onDisk.delete(m.id);
  }
  for (const id of onDisk.keys()) out.push(`${when}: a file holds drain ${id}, which was never created`);
  if (files.config !== configText) out.push(`${when}: the config file is neither the acknowledged config nor the one in flight`);
  return out;
}
