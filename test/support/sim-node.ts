/**
 * A simulated Envoy for drain tests: a SotW ADS stream that ACKs every listener response (or
 * NACKs the ones a test says to), and a metrics service stream that reports the connection
 * gauges the test sets, as Envoy's metrics_service sink does.
 */
import { openSotwStream, TYPE, type SotwResponse, type SotwStream } from './ads-client.js';
import { openEnvoyMetricsStream, type ConnectionGaugeInput, type EnvoyMetricsStream } from './envoy-metrics-client.js';

/** How often a simulated node flushes its stats to the metrics service (Envoy: stats_flush_interval). */
const STATS_FLUSH_MS = 100;

export interface SimNodeOptions {
  readonly cluster?: string;
  readonly metadata?: Record<string, string>;
  readonly locality?: { zone?: string; region?: string };
  /** NACK a listener response when this returns an error message. */
  readonly reject?: (response: SotwResponse) => string | undefined;
  /** version_info of the first request (what a reconnecting Envoy reports it has). */
  readonly versionInfo?: string;
  /** Where the metrics stream goes (default: the xDS address); with replicas, maybe another one. */
  readonly metricsAddress?: string;
  /** Told of every listener response as it arrives, before it is answered. */
  readonly onLds?: (response: SotwResponse) => void;
}

export class SimNode {
  readonly lds: SotwResponse[] = [];
  readonly #waiters = new Set<() => void>();
  #lastGood = '';
  #metrics: EnvoyMetricsStream | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  /** The listener manager counts every later report carries, once a test set them. */
  #listenerManager: ConnectionGaugeInput['listenerManager'];

  private constructor(
    readonly id: string,
    private readonly xdsAddress: string,
    readonly stream: SotwStream,
    private readonly options: SimNodeOptions,
  ) {}

  static connect(xdsAddress: string, id: string, options: SimNodeOptions = {}): SimNode {
    const stream = openSotwStream(xdsAddress, {
      node: {
        id,
        cluster: options.cluster ?? 'test-cluster',
        ...(options.metadata && { metadata: options.metadata }),
        ...(options.locality && { locality: options.locality }),
      },
    });
    const node = new SimNode(id, xdsAddress, stream, options);
    stream.send({ type_url: TYPE.LDS, ...(options.versionInfo !== undefined && { version_info: options.versionInfo }) });
    void node.#answer();
    return node;
  }

  async #answer(): Promise<void> {
    for (;;) {
      let res: SotwResponse;
      try {
        res = await this.stream.next(TYPE.LDS, 120_000);
      } catch {
        return; // stream ended
      }
      this.lds.push(res);
      this.options.onLds?.(res);
      const error = this.options.reject?.(res);
      if (error) this.stream.nack(res, this.#lastGood, error);
      else {
        this.#lastGood = res.version_info;
        this.stream.ack(res);
      }
      for (const w of this.#waiters) w();
    }
  }

  /** Listener names of the latest LDS response. */
  listeners(): string[] {
    return this.lds.at(-1)?.resources.map((r) => r.name) ?? [];
  }

  /** Resolves with the first LDS response (already received or coming) that passes `check`. */
  waitForLds(check: (res: SotwResponse) => boolean, what: string, timeoutMs = 5_000): Promise<SotwResponse> {
    return new Promise((resolve, reject) => {
      let seen = 0;
      const look = (): void => {
        for (; seen < this.lds.length; seen++) {
          const res = this.lds[seen]!;
          if (check(res)) {
            done();
            resolve(res);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.id}: no LDS response ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.lds.map((r) => r.resources.map((x) => x.name)))}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(look);
      };
      this.#waiters.add(look);
      look();
    });
  }

  /** Reports active connections per listener stat address, e.g. { '127.0.0.1_10000': 3 }. */
  reportConnections(listeners: Record<string, number>): void {
    this.#report({ listeners });
  }

  /** Reports the listener versions Envoy warms and drains (and from now on, with every report). */
  reportListenerVersions(listenerManager: { warming: number; draining: number }): void {
    this.#listenerManager = listenerManager;
    this.#report({});
  }

  /**
   * Sends these gauges now and again every flush interval, as Envoy's sink flushes its stats
   * periodically: drainplane trusts a flush to be newer than the one before it arrived, not than
   * its own arrival, so one message alone never counts as a reading after an ACK.
   */
  #report(gauges: ConnectionGaugeInput): void {
    this.#metrics ??= openEnvoyMetricsStream(this.options.metricsAddress ?? this.xdsAddress, this.id);
    const metrics = this.#metrics;
    const flush = (): void =>
      metrics.send({ ...gauges, ...(this.#listenerManager && { listenerManager: this.#listenerManager }) }, { tagsAsLabels: true });
    flush();
    clearInterval(this.#flushTimer);
    this.#flushTimer = setInterval(flush, STATS_FLUSH_MS);
    this.#flushTimer.unref();
  }

  close(): void {
    clearInterval(this.#flushTimer);
    this.stream.close();
    void this.#metrics?.close().catch(() => undefined);
  }
}
