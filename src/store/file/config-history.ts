import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTempFiles, writeFileAtomic } from '../../fs/atomic-write.js';
import { KEPT_CONFIG_VERSIONS, newConfigVersion, versionInfo } from '../../fleet/config-version.js';
import type { ConfigStore, ConfigVersionInfo, StoredConfig } from '../../fleet/ports/config-store.js';

const FORMAT = 1;

/**
 * The versions of the running config, kept in the state folder (the last 20). The config file
 * stays the running config: this is its history, not a copy that replaces it.
 */
export class FileConfigHistory implements ConfigStore {
  readonly shared = false;
  readonly file: string;
  #versions: StoredConfig[] | undefined;

  constructor(
    stateDir: string,
    private readonly replica: string,
  ) {
    this.file = path.join(stateDir, 'config-versions.json');
  }

  async current(): Promise<StoredConfig | undefined> {
    return (await this.#load()).at(-1);
  }

  async put(text: string, previous: number | undefined, origin: string): Promise<StoredConfig | 'conflict'> {
    const versions = await this.#load();
    if (versions.at(-1)?.version !== previous) return 'conflict';
    const stored = newConfigVersion(text, (previous ?? 0) + 1, origin, this.replica);
    const next = [...versions, stored].slice(-KEPT_CONFIG_VERSIONS);
    await writeFileAtomic(this.file, `${JSON.stringify({ format: FORMAT, versions: next })}\n`);
    this.#versions = next;
    return stored;
  }

  async versions(): Promise<ConfigVersionInfo[]> {
    return (await this.#load()).map(versionInfo);
  }

  async version(n: number): Promise<StoredConfig | undefined> {
    return (await this.#load()).find((v) => v.version === n);
  }

  /** Only this process changes the config it runs. */
  watch(): () => void {
    return () => {};
  }

  async #load(): Promise<StoredConfig[]> {
    if (this.#versions) return this.#versions;
    // First read, at start-up: a write a crash cut short left its temporary file beside it.
    await removeStaleTempFiles(this.file);
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return (this.#versions = []);
    }
    const parsed = JSON.parse(text) as { format?: number; versions?: StoredConfig[] };
    if (parsed.format !== FORMAT || !Array.isArray(parsed.versions)) {
      throw new Error(`${this.file}: not a drainplane config history (format ${String(parsed.format)}; expected ${FORMAT})`);
    }
    return (this.#versions = parsed.versions);
  }
}
