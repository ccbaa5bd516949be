/** A temporary folder holding a config file, for tests that run `drainplane serve` as users do. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { demoConfig } from './fleet-configs.js';

export interface ConfigFolder {
  readonly dir: string;
  /** The config file: the demo config unless told otherwise. */
  readonly config: string;
  remove(): Promise<void>;
}

export async function configFolder(prefix: string, yaml = demoConfig(), name = 'drainplane.yaml'): Promise<ConfigFolder> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const config = path.join(dir, name);
  await writeFile(config, yaml);
  return { dir, config, remove: () => rm(dir, { recursive: true, force: true }) };
}
