/**
 * Secret files as read by the replicas, shared through the store, so that every replica serves
 * the same bytes (the same Secret versions) even while the files on their hosts differ: a
 * Kubernetes Secret volume is updated pod by pod, up to a minute apart.
 */

/** A file's content as one replica read it. */
export interface SharedSecretFile {
  /** The path as the config writes it (relative ones are the same on every replica). */
  readonly path: string;
  readonly data: Buffer;
  readonly sha256: string;
  readonly replica: string;
  readonly at: string;
}

export interface SecretFileStore {
  /** Every stored file (read once at start). */
  all(): Promise<SharedSecretFile[]>;
  /** Stores what this replica read. */
  put(path: string, data: Buffer): Promise<void>;
  /** Told of every file stored after the watch started, by any replica. */
  watch(listener: (file: SharedSecretFile) => void): () => void;
}
