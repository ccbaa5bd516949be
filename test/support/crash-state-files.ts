/**
 * The crash test's look at drainplane's state files after a kill: drains.json must parse and
 * hold exactly the committed drains, and the config file must be the committed config.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelState } from './crash-model.js';

/** A drain as drains.json holds it (the fields the test reads). */
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

/** Reads both files; a drains.json that does not parse as a whole state is an error. */
export async function readStateFiles(stateDir: string, configFile: string): Promise<StateFiles> {
  let drains: FileDrain[] = [];
  const text = await readFile(path.join(stateDir, 'drains.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text) as { format?: number; drains?: FileDrain[] };
      if (parsed.format !== 1 || !Array.isArray(parsed.drains)) throw new Error(`format ${parsed.format}`);
      drains = parsed.drains;
    } catch (err) {
      throw new Error(`drains.json is not a committed state: ${(err as Error).message}\n${text.slice(0, 500)}`);
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
    if (!f) out.push(`${when}: acknowledged drain ${m.id} is missing from drains.json`);
    else if ((f.state === 'cancelled') !== m.cancelled) out.push(`${when}: drain ${m.id} is ${f.state} in drains.json, cancelled: ${m.cancelled}`);
    else if (JSON.stringify([f.spec.selector, f.spec.scope, f.spec.method]) !== JSON.stringify([m.body.selector, m.body.scope, m.body.method])) {
      out.push(`${when}: drain ${m.id} has another spec in drains.json: ${JSON.stringify(f.spec)}`);
    }
    onDisk.delete(m.id);
  }
  for (const id of onDisk.keys()) out.push(`${when}: drains.json holds drain ${id}, which was never created`);
  if (files.config !== configText) out.push(`${when}: the config file is neither the acknowledged config nor the one in flight`);
  return out;
}
