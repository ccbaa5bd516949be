/**
 * The upstreams behind the Envoys of the end-to-end suite, on 127.0.0.1:
 * - an HTTP/1.1 keep-alive server (the app behind ingress, and the upstream behind egress). A
 *   request to `/app/hold/<key>` is answered only when the test releases that key, so a
 *   connection through Envoy can be kept busy on purpose;
 * - an HTTP/2 server without TLS (h2c, prior knowledge, as Envoy speaks to it).
 * Every other request gets 200 at once.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

const HOLD_PREFIX = '/app/hold/';

export function holdPath(key: string): string {
  return `${HOLD_PREFIX}${encodeURIComponent(key)}`;
}

export class Http1Upstream {
  readonly #held = new Map<string, http.ServerResponse>();
  readonly #arrivals = new Map<string, () => void>();
  #requests = 0;

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  /**
   * `keepAliveMs`: how long an idle connection stays open (default 120 s). Envoy keeps upstream
   * connections for reuse; the server must not close them under it while a request is on its way
   * (the keep-alive race), so idle ones stay open for long unless a test needs them gone.
   */
  static async start(keepAliveMs = 120_000): Promise<Http1Upstream> {
    const server = http.createServer();
    server.keepAliveTimeout = keepAliveMs;
    server.headersTimeout = 130_000;
    server.requestTimeout = 0;
    await listen(server);
    const upstream = new Http1Upstream(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => upstream.#handle(req, res));
    return upstream;
  }

  /** Requests answered or held so far. */
  get requests(): number {
    return this.#requests;
  }

  /** Resolves when a request for this hold key has arrived (now or before). */
  waitForHeld(key: string, timeoutMs: number): Promise<void> {
    if (this.#held.has(key)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#arrivals.delete(key);
        reject(new Error(`no request for ${holdPath(key)} reached the upstream within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#arrivals.set(key, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Whether a request for this hold key is held here now. */
  holds(key: string): boolean {
    return this.#held.has(key);
  }

  /** Answers the held request, if there is one. */
  release(key: string): void {
    const res = this.#held.get(key);
    this.#held.delete(key);
    if (res && !res.writableEnded) res.end(`released ${key}\n`);
  }

  async close(): Promise<void> {
    for (const key of [...this.#held.keys()]) this.release(key);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#requests++;
    req.resume();
    const url = req.url ?? '/';
    res.setHeader('content-type', 'text/plain');
    if (url.startsWith(HOLD_PREFIX)) {
      const key = decodeURIComponent(url.slice(HOLD_PREFIX.length));
      res.statusCode = 200;
      this.#held.set(key, res);
      this.#arrivals.get(key)?.();
      this.#arrivals.delete(key);
      return;
    }
    res.statusCode = 200;
    res.end(`ok ${url}\n`);
  }
}

export class H2Upstream {
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  #streams = 0;

  private constructor(
    private readonly server: http2.Http2Server,
    readonly port: number,
  ) {}

  static async start(): Promise<H2Upstream> {
    const server = http2.createServer();
    await listen(server);
    const upstream = new H2Upstream(server, (server.address() as AddressInfo).port);
    server.on('session', (session) => {
      upstream.#sessions.add(session);
      session.once('close', () => upstream.#sessions.delete(session));
    });
    server.on('stream', (stream, headers) => {
      upstream.#streams++;
      stream.on('error', () => {}); // a reset from Envoy's side is Envoy's to report
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`ok h2 ${String(headers[':path'])}\n`);
    });
    return upstream;
  }

  get streams(): number {
    return this.#streams;
  }

  async close(): Promise<void> {
    for (const session of this.#sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function listen(server: http.Server | http2.Http2Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
