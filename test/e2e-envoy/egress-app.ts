/**
 * The application in a pod under test: it calls out through Envoy's egress listener on one
 * keep-alive connection, a request every 100 ms, as an app with a connection pool does, until
 * it is told to let go (it closes its pool). Every call is recorded with its time and outcome.
 */
import { Client } from 'undici';

export interface Call {
  readonly at: number;
  readonly status: number;
  readonly error?: string;
}

export class PooledEgressApp {
  readonly calls: Call[] = [];
  readonly #client: Client;
  #running = true;
  readonly #loop: Promise<void>;

  constructor(
    egressPort: number,
    private readonly pauseMs = 100,
  ) {
    this.#client = new Client(`http://127.0.0.1:${egressPort}`, { pipelining: 1, headersTimeout: 3_000, bodyTimeout: 3_000 });
    this.#loop = this.#run();
  }

  /** Calls made at or after `from` (epoch ms) that failed. */
  failedSince(from: number): Call[] {
    return this.calls.filter((c) => c.at >= from && c.status !== 200);
  }

  /** The app is done calling out: it stops and closes its pool, so its egress connection ends. */
  async letGo(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.#client.close().catch(() => this.#client.destroy());
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const at = Date.now();
      try {
        const res = await this.#client.request({ method: 'GET', path: '/egress/app-call' });
        await res.body.text();
        this.calls.push({ at, status: res.statusCode });
      } catch (err) {
        this.calls.push({ at, status: 0, error: (err as Error).message });
      }
      await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }
}
