/**
 * The application in a replica's pod that calls out through its Envoy's egress listener: one
 * keep-alive connection, one request after another with a short pause, as an app that keeps
 * talking to its dependencies does.
 *
 * It gets SIGTERM when its pod does (the kubelet signals every container at once) and keeps
 * working for `workSeconds` more, finishing what it was doing: failures in that window are the
 * egress errors the pod's shutdown caused. Then it is done: it stops calling and closes its pool
 * (its egress connection ends), as an app that exits does. The pod is gone only when both its
 * Envoy and its app are: stop() returns once the window is over.
 */
import http from 'node:http';

export interface EgressAppOptions {
  readonly port: number;
  readonly pauseMs: number;
  readonly timeoutMs: number;
}

export interface EgressShutdownResult {
  /** Calls made in the work window after SIGTERM. */
  readonly calls: number;
  readonly errors: number;
  readonly errorsByKind: Record<string, number>;
  /** Seconds after SIGTERM of the last call that succeeded (egress still usable then). */
  readonly lastOkSeconds: number | null;
  /** Seconds after SIGTERM of the first call that failed. */
  readonly firstErrorSeconds: number | null;
}

export class EgressApp {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  #running = true;
  #loop: Promise<void>;
  #sigtermAt: number | undefined;
  #workUntil = Infinity;
  #calls = 0;
  #errors = 0;
  #errorsByKind: Record<string, number> = {};
  #lastOk: number | undefined;
  #firstError: number | undefined;

  constructor(private readonly options: EgressAppOptions) {
    this.#loop = this.#run();
  }

  /** The pod got SIGTERM now; the app works `workSeconds` longer. */
  sigterm(workSeconds: number): void {
    this.#sigtermAt = performance.now();
    this.#workUntil = this.#sigtermAt + workSeconds * 1000;
  }

  /** Its Envoy is gone: ends the loop once the work window is over, and reports the window. */
  async stop(): Promise<EgressShutdownResult> {
    const left = this.#workUntil - performance.now();
    if (Number.isFinite(left) && left > 0) await new Promise((r) => setTimeout(r, left));
    this.#running = false;
    await this.#loop;
    this.#agent.destroy();
    const since = (t: number | undefined): number | null =>
      t === undefined || this.#sigtermAt === undefined ? null : Math.round((t - this.#sigtermAt) / 10) / 100;
    return {
      calls: this.#calls,
      errors: this.#errors,
      errorsByKind: this.#errorsByKind,
      lastOkSeconds: since(this.#lastOk),
      firstErrorSeconds: since(this.#firstError),
    };
  }

  async #run(): Promise<void> {
    // After its window the app is done: no more calls, and its pool is closed below.
    while (this.#running && performance.now() < this.#workUntil) {
      const started = performance.now();
      const failure = await this.#call();
      const inWindow = this.#sigtermAt !== undefined && started >= this.#sigtermAt && started < this.#workUntil;
      if (this.#sigtermAt !== undefined && started >= this.#sigtermAt) {
        if (failure === undefined) this.#lastOk = started;
        else this.#firstError ??= started;
      }
      if (inWindow) {
        this.#calls++;
        if (failure !== undefined) {
          this.#errors++;
          this.#errorsByKind[failure] = (this.#errorsByKind[failure] ?? 0) + 1;
        }
      }
      await new Promise((r) => setTimeout(r, this.options.pauseMs));
    }
    this.#agent.destroy();
  }

  /** One GET through the egress listener: undefined on 2xx, else what went wrong. */
  #call(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const req = http.get(
        { host: '127.0.0.1', port: this.options.port, path: '/egress', agent: this.#agent, timeout: this.options.timeoutMs },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300 ? undefined : `HTTP ${res.statusCode}`),
          );
          res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  }
}
