import type { Etcd3 } from 'etcd3';
import type { StoreHealth } from '../../fleet/ports/store-health.js';

/**
 * Whether etcd answers, probed with a linearizable read (it needs a quorum, as writes do) every
 * `intervalMs`. One failed probe makes the store unavailable, one answered probe available.
 */
export class EtcdHealth implements StoreHealth {
  #reason: string | undefined;
  readonly #listeners = new Set<(reason: string | undefined) => void>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly probeKey: string,
    private readonly location: string,
    private readonly intervalMs = 1000,
  ) {}

  unavailable(): string | undefined {
    return this.#reason;
  }

  onChange(listener: (reason: string | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Probes once; resolves with the reason etcd cannot be used, or undefined. */
  async probe(): Promise<string | undefined> {
    try {
      await this.client.get(this.probeKey).exec();
      this.#set(undefined);
    } catch (err) {
      this.#set(`etcd at ${this.location} does not answer: ${(err as Error).message}`);
    }
    return this.#reason;
  }

  start(): void {
    const next = (): void => {
      if (this.#closed) return;
      this.#timer = setTimeout(() => void this.probe().then(next), this.intervalMs);
      this.#timer.unref();
    };
    next();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #set(reason: string | undefined): void {
    if (reason === this.#reason || (reason !== undefined && this.#reason !== undefined)) return;
    this.#reason = reason;
    for (const listener of this.#listeners) listener(reason);
  }
}
