/**
 * A list-then-watch of some Kubernetes objects (the client library's ListWatch) that keeps going:
 * after any failure (API server unreachable, connection dropped, access refused) it is started
 * again after a growing, jittered delay (0.5 s doubling to 30 s), from the last resource version
 * it saw (listing again when the API server says that version is too old). The library reports
 * failures through 'error' and leaves restarting to its user; this is that user.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface RestartingWatchOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** The collection's API path, e.g. /api/v1/namespaces/NS/pods. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** What is watched, for log lines ("EndpointSlices of shop/app"). */
  readonly what: string;
  /** After the first listing (the objects are known) and after every change. */
  readonly onChange: (objects: readonly T[]) => void;
  readonly onRestart?: () => void;
  readonly logger: Logger;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/**
 * The library's Watch, with a failure to prepare the request (credentials that cannot be had
 * right now) reported through `done` like any other: ListWatch opens watches again on its own
 * (each normal end, a 410) from a callback no one awaits, where a throw would be an unhandled
 * rejection, which ends the process.
 */
class ReportingWatch extends Watch {
  override async watch(...[path, params, callback, done]: Parameters<Watch['watch']>): Promise<AbortController> {
    try {
      return await super.watch(path, params, callback, done);
    } catch (err) {
      done(err);
      return new AbortController();
    }
  }
}

export class RestartingWatch<T extends KubernetesObject> {
  readonly #informer: ListWatch<T>;
  #stopped = false;
  #retryMs = FIRST_RETRY_MS;
  #retry: NodeJS.Timeout | undefined;
  #listed = false;
  #failures = 0;
  /** Settled once the first listing was handed on. */
  readonly listed: Promise<void>;
  #markListed!: () => void;

  constructor(private readonly options: RestartingWatchOptions<T>) {
    this.#informer = new ListWatch<T>(
      options.path,
      new ReportingWatch(options.kubeConfig),
      options.list,
      false,
      options.labelSelector,
      options.fieldSelector,
    );
    this.listed = new Promise((resolve) => (this.#markListed = resolve));
    const changed = (): void => {
      // Changes seen while the first list is read are handed on with it; none after stop.
      if (this.#listed && !this.#stopped) options.onChange(this.#informer.list());
    };
    this.#informer.on('add', changed);
    this.#informer.on('update', changed);
    this.#informer.on('delete', changed);
    this.#informer.on('error', (err: unknown) => this.#failed(err));
  }

  start(): void {
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    void this.#informer.stop();
  }

  async #connect(): Promise<void> {
    // A failed list or watch comes through 'error', and start() resolves anyway.
    const failuresBefore = this.#failures;
    try {
      await this.#informer.start();
    } catch (err) {
      this.#failed(err);
      return;
    }
    // Stopped while it listed: the library opens the watch anyway, so it is closed now.
    if (this.#stopped) {
      void this.#informer.stop();
      return;
    }
    if (this.#failures !== failuresBefore) return;
    this.#retryMs = FIRST_RETRY_MS;
    if (this.#listed) return;
    // Listed, and the watch is on: the objects are known now, even when there are none.
    this.#listed = true;
    this.options.onChange(this.#informer.list());
    this.#markListed();
  }

  #failed(err: unknown): void {
    this.#failures++;
    if (this.#stopped || this.#retry) return;
    const { what, logger } = this.options;
    const delay = Math.round(this.#retryMs * (0.5 + Math.random() / 2));
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    logger.warn(
      { event: 'kube_watch_failed', watch: what, error: describe(err), retryMs: delay },
      `${what}: ${describe(err)}; watching again in ${delay} ms`,
    );
    this.options.onRestart?.();
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#stopped) void this.#connect();
    }, delay);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'code' in err) return `HTTP ${String(err.code)}`;
  return String(err);
}
