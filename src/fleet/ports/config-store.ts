/** What the config service needs from a store: the running config's versions. */

/** One version of the running config, as stored. */
export interface StoredConfig {
  /** 1, 2, 3 ... in the order the versions were stored. */
  readonly version: number;
  readonly text: string;
  readonly sha256: string;
  readonly at: string;
  /** What made the change: `start`, `signal`, `watch` (the file changed) or `api`. */
  readonly origin: string;
  /** The replica that stored it. */
  readonly replica: string;
}

export type ConfigVersionInfo = Omit<StoredConfig, 'text'>;

/** The running config's versions. */
export interface ConfigStore {
  /**
   * True when replicas share the config through the store: the stored version, not the local
   * config file, is what runs, and a change on any replica applies on all of them.
   */
  readonly shared: boolean;
  /** The latest stored version, if any. */
  current(): Promise<StoredConfig | undefined>;
  /**
   * Stores `text` as the version after `previous` (undefined: the first). 'conflict' when
   * another version was stored after `previous` first.
   */
  put(text: string, previous: number | undefined, origin: string): Promise<StoredConfig | 'conflict'>;
  /** The kept versions, oldest first. */
  versions(): Promise<ConfigVersionInfo[]>;
  version(n: number): Promise<StoredConfig | undefined>;
  /** Told of every version stored after the watch started (by any replica). */
  watch(listener: (config: StoredConfig) => void): () => void;
}
