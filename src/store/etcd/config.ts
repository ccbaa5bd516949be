import type { Etcd3, IKeyValue } from 'etcd3';
import type { Logger } from 'pino';
import { KEPT_CONFIG_VERSIONS, newConfigVersion, versionInfo } from '../../fleet/config-version.js';
import type { ConfigStore, ConfigVersionInfo, StoredConfig } from '../../fleet/ports/config-store.js';
import { decodeValue, encodeValue, EtcdFollower, type EtcdKeys } from './client.js';

/**
 * The running config of every replica, in etcd: `config/current` and the last 20 versions
 * under `config/versions/`. A version is stored in one transaction that creates its own key
 * (so two replicas cannot both store version n) and moves `current` to it.
 */
export class EtcdConfigStore implements ConfigStore {
  readonly shared = true;
  readonly #listeners = new Set<(config: StoredConfig) => void>();
  readonly #follower: EtcdFollower;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly replica: string,
    private readonly logger: Logger,
  ) {
    this.#follower = EtcdFollower.ofPuts(client, { key: keys.configCurrent() }, (kv) => this.#stored(kv), logger);
  }

  /** Starts following `config/current`. */
  async start(): Promise<void> {
    const res = await this.client.get(this.keys.configCurrent()).exec();
    await this.#follower.start(res.header.revision);
  }

  async current(): Promise<StoredConfig | undefined> {
    const value = await this.client.get(this.keys.configCurrent()).buffer();
    return value === null ? undefined : this.#parse(decodeValue(value));
  }

  async put(text: string, previous: number | undefined, origin: string): Promise<StoredConfig | 'conflict'> {
    const stored = newConfigVersion(text, (previous ?? 0) + 1, origin, this.replica);
    const value = await encodeValue(JSON.stringify(stored));
    const current = this.keys.configCurrent();
    const next = this.keys.configVersion(stored.version);
    const res = await this.client
      .if(next, 'Create', '==', 0)
      .and(previous === undefined ? current : this.keys.configVersion(previous), 'Create', previous === undefined ? '==' : '>', 0)
      .then(
        this.client.put(next).value(value),
        this.client.put(current).value(value),
        ...(stored.version > KEPT_CONFIG_VERSIONS ? [this.client.delete().key(this.keys.configVersion(stored.version - KEPT_CONFIG_VERSIONS))] : []),
      )
      .commit();
    return res.succeeded ? stored : 'conflict';
  }

  async versions(): Promise<ConfigVersionInfo[]> {
    const res = await this.client.getAll().prefix(this.keys.configVersions()).sort('Key', 'Ascend').exec();
    return res.kvs.flatMap((kv) => this.#parse(decodeValue(kv.value)) ?? []).map(versionInfo);
  }

  async version(n: number): Promise<StoredConfig | undefined> {
    const value = await this.client.get(this.keys.configVersion(n)).buffer();
    return value === null ? undefined : this.#parse(decodeValue(value));
  }

  watch(listener: (config: StoredConfig) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.#follower.close();
  }

  #stored(kv: IKeyValue): void {
    const stored = this.#parse(decodeValue(kv.value));
    if (stored) for (const listener of this.#listeners) listener(stored);
  }

  #parse(text: string): StoredConfig | undefined {
    try {
      const stored = JSON.parse(text) as StoredConfig;
      if (typeof stored.version !== 'number' || typeof stored.text !== 'string') throw new Error('not a stored config');
      return stored;
    } catch (err) {
      this.logger.error({ event: 'config_unreadable', error: (err as Error).message }, 'a stored config version is not readable; ignored');
      return undefined;
    }
  }
}
