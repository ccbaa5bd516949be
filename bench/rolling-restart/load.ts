/**
 * The client load: wrk, paced by paced.lua to a fixed request rate (wrk has no rate flag), run
 * until the arm's events are over and stopped with SIGINT, on which wrk still reports. What it
 * reports is read from the one JSON line the script prints.
 */
import { fileURLToPath } from 'node:url';
import { BenchProcess } from './processes.js';

/** bench/rolling-restart/paced.lua in the repository, from dist/bench/rolling-restart/. */
const PACING_SCRIPT = fileURLToPath(new URL('../../../bench/rolling-restart/paced.lua', import.meta.url));

export interface LoadOptions {
  readonly bin: string;
  readonly url: string;
  /** Requests a second, all threads together. */
  readonly rate: number;
  readonly threads: number;
  readonly connections: number;
  /** wrk's own bound; the arm stops it sooner. */
  readonly maxSeconds: number;
}

export interface LoadResult {
  readonly seconds: number;
  readonly requests: number;
  /** Answered requests a second. */
  readonly rate: number;
  /** Answered and failed requests a second: the load offered. wrk reconnects a failed connection
   * and sends on it at once, unpaced, so under failures this can exceed the paced rate. */
  readonly offeredRate: number;
  readonly errors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
  /** Socket errors: connect + read + write + timeout. */
  readonly socketErrors: number;
  readonly non2xx: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };
}

interface WrkReport {
  durationUs: number;
  requests: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  non2xx: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

const ms = (us: number): number => Math.round(us / 10) / 100;

export class Load {
  private constructor(private readonly process: BenchProcess) {}

  static start(o: LoadOptions): Load {
    const process = BenchProcess.start({
      name: 'wrk',
      command: o.bin,
      args: [
        '-t', String(o.threads),
        '-c', String(o.connections),
        '-d', `${o.maxSeconds}s`,
        // A request that takes this long is a failure; wrk's default (2 s) would hide slow ones less.
        '--timeout', '5s',
        '-s', PACING_SCRIPT,
        o.url,
      ],
      env: { ...globalThis.process.env, WRK_RATE: String(o.rate), WRK_THREADS: String(o.threads) },
    });
    return new Load(process);
  }

  get running(): boolean {
    return this.process.exit === undefined;
  }

  /** Stops wrk (SIGINT: it stops its threads and reports) and reads its report. */
  async stop(): Promise<LoadResult> {
    this.process.signal('SIGINT');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
    await this.process.exited;
    clearTimeout(timer);
    const line = this.process
      .outputTail(64 * 1024)
      .split('\n')
      .find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`wrk printed no result:\n${this.process.outputTail()}`);
    const r = JSON.parse(line.slice('RESULT '.length)) as WrkReport;
    const seconds = r.durationUs / 1e6;
    const { connect, read, write, timeout } = r.errors;
    return {
      seconds: Math.round(seconds * 100) / 100,
      requests: r.requests,
      rate: Math.round(r.requests / seconds),
      offeredRate: Math.round((r.requests + connect + read + write + timeout) / seconds),
      errors: { connect, read, write, timeout },
      socketErrors: connect + read + write + timeout,
      non2xx: r.non2xx,
      latencyMs: { p50: ms(r.latencyUs.p50), p90: ms(r.latencyUs.p90), p99: ms(r.latencyUs.p99), p999: ms(r.latencyUs.p999), max: ms(r.latencyUs.max) },
    };
  }
}
