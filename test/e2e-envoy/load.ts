/**
 * Load through Envoy listeners, as a well-behaved client fleet sends it: HTTP/1.1 keep-alive
 * (undici Pool, pipelining 1) and HTTP/2 (node:http2 sessions), spread over several targets.
 *
 * A lane is one protocol to one target. A lane that gets a drain signal from Envoy (HTTP/1.1:
 * `Connection: close` on a response; HTTP/2: GOAWAY) stops taking new requests at once, lets the
 * requests already in flight finish, closes its connections, and its workers move to the next
 * target that has not drained, as clients behind a load balancer reconnect elsewhere. Nothing is
 * retried: every request that errors or answers non-2xx is a failure.
 *
 * Connections are opened when a lane starts (HTTP/1.1: as its first requests need them) and are
 * then kept busy; none is opened to a lane that has drained: Envoy refuses new connections to a
 * removed listener, and a client learns of the drain only from a response on a connection it
 * already has.
 */
import http2 from 'node:http2';
import { Pool } from 'undici';

export type Protocol = 'http1' | 'h2';

export interface LoadTarget {
  readonly name: string;
  readonly port: number;
}

export interface LoadOptions {
  readonly targets: readonly LoadTarget[];
  /** Path prefix per protocol; a request counter is appended. */
  readonly paths: Readonly<Partial<Record<Protocol, string>>>;
  /** Workers per protocol (each has one request in flight at a time), spread over the targets. */
  readonly http1Workers: number;
  readonly h2Workers: number;
  readonly h2SessionsPerTarget: number;
  /** Bounds: the run stops by itself after this many requests, or this long. */
  readonly maxRequests: number;
  readonly maxDurationMs: number;
  readonly requestTimeoutMs: number;
  /** When every lane of a protocol has drained: `fail` (a client with nowhere to go) or `stop`. */
  readonly whenAllDrained: 'fail' | 'stop';
}

export interface DrainSignal {
  readonly at: number;
  readonly protocol: Protocol;
  readonly target: string;
  readonly kind: 'connection-close' | 'goaway';
}

export interface Failure {
  readonly at: number;
  readonly protocol: Protocol;
  readonly target: string;
  readonly error: string;
}

const MAX_FAILURES_KEPT = 50;
const FAILURE_PAUSE_MS = 10;
const CLOSE_GRACE_MS = 3_000;

abstract class Lane {
  draining = false;
  /** Completion times (epoch ms) of the 2xx responses, in completion order. */
  readonly okAt: number[] = [];

  constructor(
    readonly protocol: Protocol,
    readonly target: LoadTarget,
    protected readonly run: LoadRun,
  ) {}

  abstract request(path: string, worker: number, timeoutMs: number): Promise<number>;
  abstract close(): Promise<void>;

  protected drainSignal(kind: DrainSignal['kind']): void {
    this.run.recordSignal({ at: Date.now(), protocol: this.protocol, target: this.target.name, kind });
    if (this.draining) return;
    this.draining = true;
    this.onDraining();
  }

  protected abstract onDraining(): void;
}

class Http1Lane extends Lane {
  readonly #pool: Pool;

  constructor(target: LoadTarget, run: LoadRun, connections: number, timeoutMs: number) {
    super('http1', target, run);
    this.#pool = new Pool(`http://127.0.0.1:${target.port}`, {
      connections,
      pipelining: 1,
      // Idle connections are kept: a lane must not reconnect on its own while it runs.
      keepAliveTimeout: 120_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: 5_000,
    });
  }

  async request(path: string, _worker: number): Promise<number> {
    const res = await this.#pool.request({ method: 'GET', path });
    // Before reading the body: no other request may be sent to this lane from now on.
    if (hasToken(res.headers['connection'], 'close')) this.drainSignal('connection-close');
    await res.body.text();
    return res.statusCode;
  }

  protected onDraining(): void {
    // Graceful: the requests in flight finish, then every connection (idle ones too) closes.
    void this.#pool.close().catch(() => {});
  }

  async close(): Promise<void> {
    const closed = await settleWithin(this.#pool.close(), CLOSE_GRACE_MS);
    if (!closed) await this.#pool.destroy().catch(() => {});
  }
}

class H2Lane extends Lane {
  readonly #sessions: (http2.ClientHttp2Session | undefined)[];

  constructor(target: LoadTarget, run: LoadRun, sessions: number) {
    super('h2', target, run);
    this.#sessions = new Array(sessions).fill(undefined);
    for (let i = 0; i < sessions; i++) this.#session(i);
  }

  request(path: string, worker: number, timeoutMs: number): Promise<number> {
    const stream = this.#session(worker % this.#sessions.length).request({ ':method': 'GET', ':path': path }, { endStream: true });
    return new Promise((resolve, reject) => {
      let status = 0;
      let ended = false;
      stream.setTimeout(timeoutMs, () => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`no complete response within ${timeoutMs} ms`));
      });
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', () => {});
      stream.on('end', () => (ended = true));
      stream.on('error', reject);
      stream.on('close', () => {
        if (ended && status > 0 && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) resolve(status);
        else
          reject(new Error(`stream closed with RST code ${stream.rstCode}, status ${status || 'none'}, body ${ended ? 'complete' : 'incomplete'}`));
      });
    });
  }

  /** The worker's session, opened again only if it closed while the lane is not draining. */
  #session(i: number): http2.ClientHttp2Session {
    const current = this.#sessions[i];
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(`http://127.0.0.1:${this.target.port}`);
    session.on('goaway', () => this.drainSignal('goaway'));
    session.on('error', (err) => this.run.recordFailure(this.protocol, this.target.name, `session error: ${err.message}`));
    this.#sessions[i] = session;
    return session;
  }

  protected onDraining(): void {
    // Node closes the session that got the GOAWAY by itself; the others stop taking streams
    // too, and close once theirs are done.
    for (const s of this.#sessions) if (s && !s.closed) s.close();
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#sessions.map(async (s) => {
        if (!s || s.destroyed) return;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        if (!(await settleWithin(closed, CLOSE_GRACE_MS))) s.destroy();
      }),
    );
  }
}

export class LoadRun {
  readonly startedAt = Date.now();
  readonly signals: DrainSignal[] = [];
  readonly failures: Failure[] = [];
  failureCount = 0;
  /** Set when the run stopped by one of its own bounds rather than by stop(). */
  boundReached: string | undefined;
  #issued = 0;
  #stopping = false;
  readonly #lanes: Lane[] = [];
  readonly #workers: Promise<void>[] = [];

  constructor(private readonly o: LoadOptions) {
    for (const target of o.targets) {
      // As many connections as workers start on the lane: they stay busy, none sits idle. Workers
      // that move here from a drained lane queue on them rather than open more.
      const connections = Math.ceil(o.http1Workers / o.targets.length);
      if (o.http1Workers > 0) this.#lanes.push(new Http1Lane(target, this, connections, o.requestTimeoutMs));
      if (o.h2Workers > 0) this.#lanes.push(new H2Lane(target, this, o.h2SessionsPerTarget));
    }
    for (let i = 0; i < o.http1Workers; i++) this.#workers.push(this.#work('http1', i));
    for (let i = 0; i < o.h2Workers; i++) this.#workers.push(this.#work('h2', i));
  }

  get issued(): number {
    return this.#issued;
  }

  /** 2xx responses of one lane, optionally only those completed in [from, to). */
  successes(protocol: Protocol, target: string, from = 0, to = Infinity): number {
    const lane = this.#lanes.find((l) => l.protocol === protocol && l.target.name === target);
    return lane ? firstAtOrAfter(lane.okAt, to) - firstAtOrAfter(lane.okAt, from) : 0;
  }

  totalSuccesses(): number {
    return this.#lanes.reduce((n, l) => n + l.okAt.length, 0);
  }

  draining(protocol: Protocol, target: string): boolean {
    return this.#lanes.find((l) => l.protocol === protocol && l.target.name === target)?.draining ?? false;
  }

  /** One line per lane, for reports. */
  summary(): string {
    const lanes = this.#lanes.map((l) => `${l.protocol}->${l.target.name}: ${l.okAt.length} ok${l.draining ? ', drained' : ''}`);
    const signals = this.signals.length === 0 ? 'none' : countBy(this.signals.map((s) => `${s.kind} from ${s.target}`));
    return `${this.#issued} requests, ${this.failureCount} failed; ${lanes.join('; ')}; drain signals: ${signals}`;
  }

  recordSignal(signal: DrainSignal): void {
    this.signals.push(signal);
  }

  recordFailure(protocol: Protocol, target: string, error: string): void {
    this.failureCount++;
    if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push({ at: Date.now(), protocol, target, error });
  }

  /** Stops sending, waits for the requests in flight, and closes every connection. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#workers);
    await Promise.all(this.#lanes.map((l) => l.close()));
  }

  async #work(protocol: Protocol, worker: number): Promise<void> {
    const lanes = this.#lanes.filter((l) => l.protocol === protocol);
    const home = worker % lanes.length;
    const deadline = this.startedAt + this.o.maxDurationMs;
    while (!this.#stopping) {
      if (this.#issued >= this.o.maxRequests) {
        this.boundReached ??= `${this.o.maxRequests} requests`;
        return;
      }
      if (Date.now() >= deadline) {
        this.boundReached ??= `${this.o.maxDurationMs} ms`;
        return;
      }
      // The worker's own lane while it serves, else the next one that has not drained.
      const lane = [...lanes.slice(home), ...lanes.slice(0, home)].find((l) => !l.draining);
      if (!lane) {
        if (this.o.whenAllDrained === 'fail') this.recordFailure(protocol, '-', 'every target has drained: nowhere left to send');
        return;
      }
      const n = ++this.#issued;
      try {
        const status = await lane.request(`${this.o.paths[protocol] ?? '/'}${n}`, worker, this.o.requestTimeoutMs);
        if (status >= 200 && status < 300) lane.okAt.push(Date.now());
        else this.recordFailure(protocol, lane.target.name, `HTTP ${status}`);
      } catch (err) {
        this.recordFailure(protocol, lane.target.name, describe(err));
        // Errors can come back at once (a refused connect): no busy loop while they do.
        await new Promise((resolve) => setTimeout(resolve, FAILURE_PAUSE_MS));
      }
    }
  }
}

/** Index of the first time >= t in ascending times (completion order; Date.now() does not go back here). */
function firstAtOrAfter(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function hasToken(value: string | string[] | undefined, token: string): boolean {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.some((v) => v.split(',').some((t) => t.trim().toLowerCase() === token));
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const cause = err.cause instanceof Error ? ` (cause: ${err.cause.message})` : '';
  return `${code ? `${code}: ` : ''}${err.message}${cause}`;
}

function countBy(items: string[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${v}x ${k}`).join(', ');
}

/** True if the promise settled within ms. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
