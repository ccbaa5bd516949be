import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { Etcd3, type IKeyValue, type IOptions, type Range, type WatchBuilder, type Watcher } from 'etcd3';
import type { Logger } from 'pino';

export interface EtcdConnection {
  /** host:port of each etcd member. */
  readonly endpoints: readonly string[];
  /** PEM files for TLS: the CA that signed etcd's certificate, and this client's certificate and key. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Deadline of every unary call (default 2000 ms): a partitioned member must not hang a request. */
  readonly callTimeoutMs?: number;
}

/** The largest etcd response read (a range of kept drains, config versions, node records). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Retries every few hundred ms: watches resume soon after etcd is back. */
const WATCH_RETRY = { duration: 500, next: () => WATCH_RETRY };

/**
 * No circuit breaker per member (the client's default keeps a member closed for 5 s after three
 * failures): with one etcd endpoint, that would keep drainplane from noticing etcd is back.
 * gRPC's own reconnect backoff, capped low below, spaces the attempts.
 */
const PASS_THROUGH = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose: () => {} }),
  onFailure: () => ({ dispose: () => {} }),
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
};

export async function etcdClient(connection: EtcdConnection): Promise<Etcd3> {
  const { tls } = connection;
  const read = (file: string | undefined, what: string): Promise<Buffer | undefined> =>
    file === undefined
      ? Promise.resolve(undefined)
      : readFile(file).catch((err: Error) => {
          throw new Error(`etcd TLS ${what}: cannot read ${file}: ${err.message}`);
        });
  const [ca, cert, key] = await Promise.all([read(tls?.ca, 'CA'), read(tls?.cert, 'certificate'), read(tls?.key, 'key')]);
  if ((cert === undefined) !== (key === undefined)) throw new Error('etcd TLS: a client certificate needs its key, and a key its certificate');
  if (cert !== undefined && ca === undefined) throw new Error("etcd TLS: a client certificate needs the CA of etcd's certificate too");
  const timeout = connection.callTimeoutMs ?? 2000;
  const options: IOptions = {
    hosts: connection.endpoints.map((e) => `${ca ? 'https' : 'http'}://${e}`),
    dialTimeout: timeout,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      // gRPC's default of 4 MiB per response is less than what drainplane keeps under one prefix:
      // a hundred kept drains of thousands of nodes, read at start and after a lost watch, would
      // fail that read for good. etcd is the store drainplane trusts; its values are at most
      // 1.5 MiB each (its request limit).
      'grpc.max_receive_message_length': MAX_RESPONSE_BYTES,
    },
    faultHandling: { host: () => PASS_THROUGH, watchBackoff: WATCH_RETRY },
    ...(ca && { credentials: { rootCertificate: ca, ...(cert && key && { certChain: cert, privateKey: key }) } }),
  };
  return new EtcdClient(options);
}

/**
 * An etcd client whose watches have a connection of their own. etcd3 answers a failed call
 * (a deadline passed while a connect storm keeps the process busy) by closing every channel to
 * that member: on one shared connection, that ended every watch, and each was read again in full.
 */
class EtcdClient extends Etcd3 {
  readonly #watches: Etcd3;

  constructor(options: IOptions) {
    super(options);
    this.#watches = new Etcd3({ ...options, grpcOptions: { ...options.grpcOptions, 'grpc.use_local_subchannel_pool': 1 } });
  }

  override watch(): WatchBuilder {
    return this.#watches.watch();
  }

  override close(): void {
    this.#watches.close();
    super.close();
  }
}

/** Keys under the store's prefix. */
export class EtcdKeys {
  constructor(readonly prefix: string) {}

  drains(): string {
    return `${this.prefix}drains/`;
  }

  drain(id: string): string {
    return `${this.drains()}${id}`;
  }

  configCurrent(): string {
    return `${this.prefix}config/current`;
  }

  configVersions(): string {
    return `${this.prefix}config/versions/`;
  }

  /** Zero-padded, so the versions sort by number. */
  configVersion(n: number): string {
    return `${this.configVersions()}${String(n).padStart(10, '0')}`;
  }

  nodes(): string {
    return `${this.prefix}nodes/`;
  }

  node(replica: string, nodeId: string): string {
    return `${this.nodes()}${encodeURIComponent(replica)}/${encodeURIComponent(nodeId)}`;
  }

  /** Where the election's candidates are (etcd3's Election keys live under `<this>/election/<name>/`). */
  electionNamespace(): string {
    return this.prefix;
  }

  health(): string {
    return `${this.prefix}health`;
  }

  secretFiles(): string {
    return `${this.prefix}secret-files/`;
  }

  /** Paths can be long and hold any character: the key is their hash. */
  secretFile(path: string): string {
    return `${this.secretFiles()}${createHash('sha256').update(path).digest('hex')}`;
  }
}

const compress = promisify(gzip);

/**
 * Drains and config versions are stored as gzipped JSON. etcd refuses requests over 1.5 MiB by
 * default (--max-request-bytes): a drain's JSON passes that near 7,000 nodes, and its per-node
 * entries repeat themselves, so gzip makes 10,000 nodes about 35 KiB (level 1: a few ms, off
 * the event loop).
 */
export function encodeValue(json: string): Promise<Buffer> {
  return compress(json, { level: 1 });
}

/** A stored value's JSON text; plain JSON is read as well. */
export function decodeValue(value: Buffer): string {
  const gzipped = value[0] === 0x1f && value[1] === 0x8b;
  return (gzipped ? gunzipSync(value) : value).toString('utf8');
}

/** etcd revisions are 64-bit: compared as BigInt. */
export function newer(a: string, b: string | undefined): boolean {
  return b === undefined || BigInt(a) > BigInt(b);
}

/** What a follower follows: one key, the keys under a prefix, or a range of keys. */
export type FollowTarget = { readonly key: string } | { readonly prefix: string } | { readonly range: Range };

/** A target as logs show it (a range's bounds are bytes). */
function shown(t: FollowTarget): object {
  return 'range' in t ? { from: t.range.start.toString(), to: t.range.end.toString() } : t;
}

/**
 * Follows a key, a prefix or a range from a revision on. After a disconnection or an error, everything
 * is read again (`reread`, which returns the revision it read at) and followed on from there.
 * etcd3 would resume a watch by itself, but from the revision in the last response header: a
 * create response carries etcd's current revision, ahead of the events still to come, so a
 * stream lost again before they came would skip them. And after compaction a watch cannot
 * resume at all.
 */
export class EtcdFollower {
  /**
   * A follower of values that are only ever put: `put` is told of each, and after a gap of
   * every one there is again.
   */
  static ofPuts(
    client: Etcd3,
    target: { readonly key: string } | { readonly prefix: string },
    put: (kv: IKeyValue) => void,
    logger: Logger,
  ): EtcdFollower {
    const reread = async (): Promise<string> => {
      const res = await ('key' in target ? client.get(target.key) : client.getAll().prefix(target.prefix)).exec();
      for (const kv of res.kvs) put(kv);
      return res.header.revision;
    };
    return new EtcdFollower(client, target, { put, delete: () => {} }, reread, logger);
  }

  #watcher: Watcher | undefined;
  #closed = false;
  #abandon: (() => void) | undefined;

  constructor(
    private readonly client: Etcd3,
    private readonly target: FollowTarget,
    private readonly handlers: { put(kv: IKeyValue): void; delete(kv: IKeyValue): void },
    private readonly reread: () => Promise<string>,
    private readonly logger: Logger,
  ) {}

  /**
   * Follows what changes after `revision`; resolves once etcd has created the watch. The watch
   * is held from the moment it is asked for, not from its creation: etcd3 keeps retrying a
   * watch it could not create yet (etcd unreachable) until it is canceled, so `close` must be
   * able to cancel one still pending, or the client retries it forever.
   */
  async start(revision: string): Promise<void> {
    const builder = this.client.watch().startRevision((BigInt(revision) + 1n).toString());
    const t = this.target;
    const watcher = ('key' in t ? builder.key(t.key) : 'prefix' in t ? builder.prefix(t.prefix) : builder.inRange(t.range)).watcher();
    this.#watcher = watcher;
    let created = false;
    watcher.on('put', (kv) => this.#handle('put', kv));
    watcher.on('delete', (kv) => this.#handle('delete', kv));
    // Before creation etcd3 retries the create itself, from the revision asked for: nothing is skipped.
    watcher.on('disconnected', (err: Error) => {
      if (created) void this.#restart(watcher, err);
    });
    await new Promise<void>((resolve, reject) => {
      // Closing while etcd is away: nothing would ever settle this wait.
      this.#abandon = resolve;
      watcher.once('connected', () => {
        created = true;
        resolve();
      });
      watcher.on('error', (err) => {
        if (created) void this.#restart(watcher, err);
        else {
          if (this.#watcher === watcher) this.#watcher = undefined;
          reject(err);
        }
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abandon?.();
    await this.#watcher?.cancel();
  }

  async #restart(failed: Watcher, err: Error): Promise<void> {
    if (this.#watcher !== failed || this.#closed) return;
    this.#watcher = undefined;
    this.logger.warn({ event: 'store_watch_restarted', target: shown(this.target), error: err.message }, 'etcd watch lost; reading the state again');
    // Not awaited: a watcher etcd already canceled may never confirm it.
    void failed.cancel().catch(() => undefined);
    while (!this.#closed) {
      try {
        const revision = await this.reread();
        if (this.#closed) return;
        await this.start(revision);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** A handler that throws must not take the process down (etcd3 rethrows it on its own). */
  #handle(kind: 'put' | 'delete', kv: IKeyValue): void {
    try {
      this.handlers[kind](kv);
    } catch (err) {
      this.logger.error(
        { event: 'store_event_failed', target: shown(this.target), key: kv.key.toString(), error: (err as Error).message },
        'a stored change could not be applied',
      );
    }
  }
}
