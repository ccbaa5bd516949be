/**
 * The client load: wrk, paced by paced.lua to a fixed request rate (wrk has no rate flag), run
 * until the arm's events are over. It is stopped in two steps, so that no request is in flight
 * when it reports: the script's stop file makes every connection hold, and once the last answers
 * are in, SIGINT (on which wrk still reports). What it reports is read from the one JSON line the
 * script prints.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
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
  /** Where the stop file goes. */
  readonly dir: string;
}

export interface LoadResult {
  /** From the start to the stop file (the time requests were sent in). */
  readonly seconds: number;
  readonly sent: number;
  /** Answered, whatever the status. */
  readonly requests: number;
  /** Sent and never answered: the connection was reset or closed under them, or they timed out. */
  readonly unanswered: number;
  /** Answered requests a second. */
  readonly rate: number;
  /** Sent requests a second: the load offered. wrk sends on a reconnected connection at once,
   * without asking the script's pacing, so under failures this can exceed the paced rate. */
  readonly offeredRate: number;
  /** What wrk itself counted; it counts no error for a connection closed (not reset) under a request. */
  readonly errors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
  /** Socket errors: connect + read + write + timeout. */
  readonly socketErrors: number;
  readonly non2xx: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };
}

interface WrkReport {
  durationUs: number;
  sent: number;
  requests: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  non2xx: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

const ms = (us: number): number => Math.round(us / 10) / 100;
/** After the stop file: time for the answers still on their way (wrk's own timeout is 5 s). */
const QUIESCE_MS = 2_000;

export class Load {
  readonly #startedAt = performance.now();

  private constructor(
    private readonly process: BenchProcess,
    private readonly stopFile: string,
  ) {}

  static start(o: LoadOptions): Load {
    const stopFile = path.join(o.dir, 'wrk-stop');
    const process = BenchProcess.start({
      name: 'wrk',
      command: o.bin,
      args: [
        '-t',
        String(o.threads),
        '-c',
        String(o.connections),
        '-d',
        `${o.maxSeconds}s`,
        // A request that takes this long is a failure; wrk's default (2 s) would hide slow ones less.
        '--timeout',
        '5s',
        '-s',
        PACING_SCRIPT,
        o.url,
      ],
      env: { ...globalThis.process.env, WRK_RATE: String(o.rate), WRK_THREADS: String(o.threads), WRK_STOP_FILE: stopFile },
    });
    return new Load(process, stopFile);
  }

  get running(): boolean {
    return this.process.exit === undefined;
  }

  /** Stops sending, waits for the answers still due, stops wrk and reads its report. */
  async stop(): Promise<LoadResult> {
    await writeFile(this.stopFile, '');
    const seconds = (performance.now() - this.#startedAt) / 1000;
    await new Promise((r) => setTimeout(r, QUIESCE_MS));
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
    const { connect, read, write, timeout } = r.errors;
    return {
      seconds: Math.round(seconds * 100) / 100,
      sent: r.sent,
      requests: r.requests,
      unanswered: r.sent - r.requests,
      rate: Math.round(r.requests / seconds),
      offeredRate: Math.round(r.sent / seconds),
      errors: { connect, read, write, timeout },
      socketErrors: connect + read + write + timeout,
      non2xx: r.non2xx,
      latencyMs: {
        p50: ms(r.latencyUs.p50),
        p90: ms(r.latencyUs.p90),
        p99: ms(r.latencyUs.p99),
        p999: ms(r.latencyUs.p999),
        max: ms(r.latencyUs.max),
      },
    };
  }
}
