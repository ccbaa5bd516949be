import { createHash } from 'node:crypto';
import type { Etcd3, IKeyValue } from 'etcd3';
import type { Logger } from 'pino';
import type { SecretFileStore, SharedSecretFile } from '../../fleet/ports/secret-file-store.js';
import { decodeValue, encodeValue, EtcdFollower, type EtcdKeys } from './client.js';

interface StoredFile {
  readonly path: string;
  /** base64 */
  readonly data: string;
  readonly sha256: string;
  readonly replica: string;
  readonly at: string;
}

/**
 * Secret files under `secret-files/<sha256 of the path>`, one key each, the last one stored
 * winning. They hold private keys: etcd must be as closed as the files themselves (TLS and
 * client certificates, see the README's etcd section).
 */
export class EtcdSecretFileStore implements SecretFileStore {
  readonly #listeners = new Set<(file: SharedSecretFile) => void>();
  readonly #follower: EtcdFollower;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly replica: string,
    private readonly logger: Logger,
  ) {
    this.#follower = EtcdFollower.ofPuts(client, { prefix: keys.secretFiles() }, (kv) => this.#stored(kv), logger);
  }

  async start(): Promise<void> {
    const res = await this.client.get(this.keys.secretFiles()).exec();
    await this.#follower.start(res.header.revision);
  }

  async all(): Promise<SharedSecretFile[]> {
    const res = await this.client.getAll().prefix(this.keys.secretFiles()).exec();
    return res.kvs.flatMap((kv) => this.#parse(kv) ?? []);
  }

  async put(path: string, data: Buffer): Promise<void> {
    const stored: StoredFile = {
      path,
      data: data.toString('base64'),
      sha256: createHash('sha256').update(data).digest('hex'),
      replica: this.replica,
      at: new Date().toISOString(),
    };
    await this.client.put(this.keys.secretFile(path)).value(await encodeValue(JSON.stringify(stored)));
  }

  watch(listener: (file: SharedSecretFile) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    return this.#follower.close();
  }

  #stored(kv: IKeyValue): void {
    const file = this.#parse(kv);
    if (file) for (const listener of this.#listeners) listener(file);
  }

  #parse(kv: IKeyValue): SharedSecretFile | undefined {
    try {
      const stored = JSON.parse(decodeValue(kv.value)) as StoredFile;
      if (typeof stored.path !== 'string' || typeof stored.data !== 'string') throw new Error('not a stored secret file');
      return { ...stored, data: Buffer.from(stored.data, 'base64') };
    } catch (err) {
      this.logger.error(
        { event: 'secret_file_unreadable', key: kv.key.toString(), error: (err as Error).message },
        'a stored secret file is not readable; ignored',
      );
      return undefined;
    }
  }
}
