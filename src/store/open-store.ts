import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { StoreOpenError } from './errors.js';
import { openFileStore } from './file/file-state-store.js';
import type { StateStore } from '../fleet/ports/state-store.js';

/** `--store` and its companions. */
export interface StoreOptions {
  /** `file://DIR` or `etcd://HOST:PORT[,HOST:PORT...]`. */
  readonly url: string;
  /** etcd TLS: PEM files. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** etcd: key prefix (default `/drainplane/`). */
  readonly prefix?: string;
  /** etcd: TTL of leadership and node records, in seconds. */
  readonly leaseSeconds?: number;
  /** This replica's id (default: host name and process id). */
  readonly replica?: string;
}

export type StoreLocation = { readonly kind: 'file'; readonly dir: string } | { readonly kind: 'etcd'; readonly endpoints: string[] };

/** Reads a store URL, or says what is wrong with it. */
export function parseStoreUrl(url: string): StoreLocation | { readonly error: string } {
  const file = /^file:\/\/(.+)$/.exec(url);
  if (file) return { kind: 'file', dir: file[1]! };
  const etcd = /^etcd:\/\/([^/]+)\/?$/.exec(url);
  if (etcd) {
    const endpoints = etcd[1]!.split(',');
    const bad = endpoints.find((e) => !/^[^:,\s]+:\d{1,5}$/.test(e) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(e));
    if (bad !== undefined) return { error: `"${bad}" is not host:port` };
    return { kind: 'etcd', endpoints };
  }
  return { error: 'expected file://DIR or etcd://HOST:PORT[,HOST:PORT...]' };
}

export function defaultReplicaId(): string {
  return `${hostname()}-${process.pid}`;
}

export async function openStateStore(options: StoreOptions, logger: Logger): Promise<StateStore> {
  const location = parseStoreUrl(options.url);
  if ('error' in location) throw new StoreOpenError(`store ${options.url}: ${location.error}`);
  const replica = options.replica ?? defaultReplicaId();
  if (location.kind === 'file') return openFileStore(location.dir, replica);
  // Loaded only when asked for: the etcd client and its protos cost every other command time.
  const { openEtcdStore } = await import('./etcd/etcd-state-store.js');
  return openEtcdStore(
    {
      endpoints: location.endpoints,
      replica,
      ...(options.tls && { tls: options.tls }),
      ...(options.prefix !== undefined && { prefix: options.prefix }),
      ...(options.leaseSeconds !== undefined && { leaseSeconds: options.leaseSeconds }),
    },
    logger,
  );
}
