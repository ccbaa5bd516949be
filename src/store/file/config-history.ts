import path from 'node:path';
import { KEPT_CONFIG_VERSIONS, newConfigVersion, versionInfo } from '../../fleet/config-version.js';
import type { ConfigStore, ConfigVersionInfo, StoredConfig } from '../../fleet/ports/config-store.js';
import { StoreOpenError } from '../errors.js';
import { RecordFolder } from './record-folder.js';

/** The format of one version's file (`config-versions/N.json`). */
const FORMAT = 1;
/** The format of the earlier layout's single file (`config-versions.json`), read once and moved. */
const LEGACY_FORMAT = 1;

/**
 * The versions of the running config, kept in the state folder (the last 20), one file each
 * (`config-versions/N.json`): storing a version writes that version alone. The config file
 * stays the running config: this is its history, not a copy that replaces it.
 */
export class FileConfigHistory implements ConfigStore {
  readonly shared = false;
  readonly folder: RecordFolder;
  /** Where the earlier layout kept every version. */
  readonly legacyFile: string;
  #versions: StoredConfig[] | undefined;
  /** Versions found beyond the kept ones (a crash between storing one and trimming): removed with the next. */
  #surplus: string[] = [];

  constructor(
    stateDir: string,
    private readonly replica: string,
  ) {
    this.folder = new RecordFolder(path.join(stateDir, 'config-versions'));
    this.legacyFile = path.join(stateDir, 'config-versions.json');
  }

  async current(): Promise<StoredConfig | undefined> {
    return (await this.#load()).at(-1);
  }

  async put(text: string, previous: number | undefined, origin: string): Promise<StoredConfig | 'conflict'> {
    const versions = await this.#load();
    if (versions.at(-1)?.version !== previous) return 'conflict';
    const stored = newConfigVersion(text, (previous ?? 0) + 1, origin, this.replica);
    const next = [...versions, stored];
    const dropped = next.splice(0, Math.max(0, next.length - KEPT_CONFIG_VERSIONS));
    await this.folder.write(new Map([[String(stored.version), record(stored)]]), [...this.#surplus, ...dropped.map((v) => String(v.version))]);
    this.#versions = next;
    this.#surplus = [];
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

  /** First read, at start-up: the versions kept, oldest first (a crash may have left one too many). */
  async #load(): Promise<StoredConfig[]> {
    if (this.#versions) return this.#versions;
    const legacy = await this.folder.readLegacy(this.legacyFile);
    let versions: StoredConfig[];
    if (legacy !== undefined) {
      versions = this.#parseLegacy(legacy);
      await this.folder.adopt(this.legacyFile, new Map(versions.map((v) => [String(v.version), record(v)])));
    } else {
      versions = [...(await this.folder.readAll())].map(([key, text]) => this.#parse(key, text));
    }
    versions.sort((a, b) => a.version - b.version);
    this.#surplus = versions.slice(0, -KEPT_CONFIG_VERSIONS).map((v) => String(v.version));
    return (this.#versions = versions.slice(-KEPT_CONFIG_VERSIONS));
  }

  #parse(key: string, text: string): StoredConfig {
    const file = this.folder.fileOf(key);
    let parsed: { format?: unknown; config?: StoredConfig };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (err) {
      throw new StoreOpenError(`${file}: not valid JSON (${(err as Error).message}); repair it, or move it aside to start without this version`);
    }
    const config = parsed?.config;
    if (
      parsed?.format !== FORMAT ||
      typeof config !== 'object' ||
      config === null ||
      typeof config.text !== 'string' ||
      String(config.version) !== key
    ) {
      throw new StoreOpenError(`${file}: not a drainplane config version (format ${String(parsed?.format)}; expected ${FORMAT}, version ${key})`);
    }
    return config;
  }

  /** The earlier layout's file, moved into the folder at the first start on it. */
  #parseLegacy(text: string): StoredConfig[] {
    const unreadable = (why: string): StoreOpenError =>
      new StoreOpenError(`${this.legacyFile}: ${why}; repair it, or move it aside to start without the config history`);
    let parsed: { format?: unknown; versions?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (err) {
      throw unreadable(`not valid JSON (${(err as Error).message})`);
    }
    if (parsed?.format !== LEGACY_FORMAT || !Array.isArray(parsed.versions)) {
      throw unreadable(`not a drainplane config history (format ${String(parsed?.format)}; expected ${LEGACY_FORMAT})`);
    }
    parsed.versions.forEach((v: Partial<StoredConfig> | null, i) => {
      if (typeof v?.text !== 'string' || !Number.isSafeInteger(v.version) || v.version! < 1)
        throw unreadable(`versions[${i}] is not a config version`);
    });
    return parsed.versions as StoredConfig[];
  }
}

function record(config: StoredConfig): string {
  return `${JSON.stringify({ format: FORMAT, config })}\n`;
}
