import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { SecretFileStore, SharedSecretFile } from '../ports/secret-file-store.js';
import type { SecretFiles } from './secret-files.js';

/**
 * Secret files read through a store that replicas share. A replica publishes a file's content
 * when it reads it anew (at start, where Kubernetes mounts the current Secret, and whenever the
 * file changes on its disk), and every replica serves the content last published by any of them.
 * So while the kubelet updates the Secret volume of one pod after another, every replica serves
 * the new certificate as soon as the first one sees it, and a node moving between replicas is
 * never sent the old one again. A replica without the file (not mounted there) serves what the
 * others published.
 */
export class SharedSecretFiles implements SecretFiles {
  /**
   * The latest published content of each file, by its name as the config writes it: the same
   * on every replica, wherever each mounts the files.
   */
  readonly #published = new Map<string, { readonly data: Buffer; readonly sha256: string }>();
  /** The hash of each file as this replica last read it from its own disk. */
  readonly #localSeen = new Map<string, string>();
  /** What this replica served last, by path: another replica's change to it means a reload. */
  readonly #served = new Map<string, string>();
  /** Read here anew, not yet stored. */
  readonly #pending = new Map<string, Buffer>();
  readonly #listeners = new Set<() => void>();
  #stopWatch: (() => void) | undefined;

  private constructor(
    private readonly local: SecretFiles,
    private readonly store: SecretFileStore,
    private readonly logger: Logger,
  ) {}

  /** Reads what the store holds, and follows it. */
  static async open(local: SecretFiles, store: SecretFileStore, logger: Logger): Promise<SharedSecretFiles> {
    const files = new SharedSecretFiles(local, store, logger);
    files.#stopWatch = store.watch((file) => files.#stored(file));
    for (const file of await store.all()) files.#published.set(file.path, { data: file.data, sha256: file.sha256 });
    return files;
  }

  resolve(file: string): string {
    return this.local.resolve(file);
  }

  read(path: string): Buffer {
    let local: Buffer | undefined;
    let failure: unknown;
    try {
      local = this.local.read(path);
    } catch (err) {
      failure = err;
    }
    if (local) {
      const sha256 = hash(local);
      if (this.#localSeen.get(path) !== sha256) {
        this.#localSeen.set(path, sha256);
        if (this.#published.get(path)?.sha256 !== sha256) {
          this.#published.set(path, { data: local, sha256 });
          this.#pending.set(path, local);
        }
      }
    }
    const served = this.#published.get(path);
    if (!served) throw failure;
    this.#served.set(path, served.sha256);
    return served.data;
  }

  /** Stores what was read here anew; a file that fails is kept and tried again next time. */
  async publish(): Promise<void> {
    for (const [path, data] of [...this.#pending]) {
      try {
        await this.store.put(path, data);
        if (this.#pending.get(path) === data) this.#pending.delete(path);
      } catch (err) {
        this.logger.warn(
          { event: 'secret_file_publish_failed', file: path, error: (err as Error).message },
          'a secret file could not be shared with the other replicas; it is served here and tried again at the next read',
        );
      }
    }
  }

  /**
   * Calls `listener` when another replica publishes a file whose content differs from what this
   * one serves; returns the function that stops.
   */
  follow(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#stopWatch?.();
  }

  #stored(file: SharedSecretFile): void {
    if (this.#published.get(file.path)?.sha256 === file.sha256) return;
    this.#published.set(file.path, { data: file.data, sha256: file.sha256 });
    if (this.#served.has(file.path) && this.#served.get(file.path) !== file.sha256) for (const listener of this.#listeners) listener();
  }
}

function hash(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
