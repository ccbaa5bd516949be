import path from 'node:path';
import { KEPT_CONFIG_VERSIONS, newConfigVersion, versionInfo } from '../../fleet/config-version.js';
import type { ConfigStore, ConfigVersionInfo, StoredConfig } from '../../fleet/ports/config-store.js';
import { StoreOpenError } from '../errors.js';
import { parseStateJson, RecordFolder } from './record-folder.js';

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
    await this.folder.write(
      new Map([[String(stored.version), record(stored)]]),
      dropped.map((v) => String(v.version)),
    );
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

  /**
   * First read, at start-up: the versions kept, oldest first. Versions beyond the kept ones (a
   * crash between storing one and removing the oldest) are removed now.
   */
  async #load(): Promise<StoredConfig[]> {
    if (this.#versions) return this.#versions;
    const records = await this.folder.load(this.legacyFile, (text) => new Map(this.#parseLegacy(text).map((v) => [String(v.version), record(v)])));
    const versions = [...records].map(([key, text]) => this.#parse(key, text)).sort((a, b) => a.version - b.version);
    const surplus = versions.splice(0, Math.max(0, versions.length - KEPT_CONFIG_VERSIONS));
    const gone = surplus.map((v) => String(v.version));
    if (gone.length > 0) await this.folder.write(new Map(), gone);
    return (this.#versions = versions);
  }

  #parse(key: string, text: string): StoredConfig {
    const file = this.folder.fileOf(key);
    const unreadable = (why: string): StoreOpenError =>
      new StoreOpenError(`${file}: ${why}; repair it, or move it aside to start without this version`);
    const parsed = parseStateJson(text, unreadable) as { format?: unknown; config?: StoredConfig } | null;
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
    const parsed = parseStateJson(text, unreadable) as { format?: unknown; versions?: unknown } | null;
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
