/**
 * `drainplane serve` as the hostile-client soak runs it: a process of its own on loopback, at
 * the default log level (info) so that what clients can make it log is measured, watching its
 * config file. Every byte it writes is counted, and its log lines by event; nothing of them is
 * kept but the last few warnings. It runs with V8's --trace-gc, whose lines (not counted as log)
 * tell the heap still live after each full collection: what the daemon holds, garbage aside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../fleet/generator.js';

const BIN = fileURLToPath(new URL('../../../bin/drainplane.js', import.meta.url));

export interface ServeOptions {
  readonly configFile: string;
  readonly stateDir: string;
}

export class ServeProcess {
  /** Bytes of log lines on stdout (V8's GC trace lines left out). */
  stdoutBytes = 0;
  /** The heap live after each full GC (V8's --trace-gc, in its MB of 2^20 bytes), which garbage does not inflate. */
  readonly fullGcs: { at: number; liveBytes: number }[] = [];
  stderrBytes = 0;
  /** Log lines by their "event" field ("-" for lines without one), and their bytes. */
  readonly linesByEvent = new Map<string, number>();
  readonly bytesByEvent = new Map<string, number>();
  /** The last warning and error lines (level 40 and up), and anything written to stderr. */
  readonly warnings: string[] = [];
  /** When the config and drain events were logged (the first 100). */
  readonly milestones: { at: number; event: string }[] = [];
  /** The first 2,000 characters written to stderr (where a crash says why). */
  stderrHead = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  xdsPort = 0;
  apiUrl = '';
  #partial = '';
  #started: ((line: string) => void) | undefined;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout!.on('data', (chunk: Buffer) => this.#count(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrBytes += chunk.length;
      const text = chunk.toString();
      if (this.stderrHead.length < 2000) this.stderrHead += text.slice(0, 2000 - this.stderrHead.length);
      this.#keep(text.slice(0, 2000));
    });
  }

  static async start(options: ServeOptions, timeoutMs = 60_000): Promise<ServeProcess> {
    const args = ['--trace-gc', BIN, 'serve', '--config', options.configFile, '--state-dir', options.stateDir];
    args.push('--xds-host', '127.0.0.1', '--xds-port', '0', '--api-host', '127.0.0.1', '--api-port', '0');
    const serve = new ServeProcess(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    const started = new Promise<string>((resolve, reject) => {
      serve.#started = resolve;
      void serve.exited.then(({ code, signal }) =>
        reject(new Error(`drainplane serve exited (${signal ?? code}) while starting:\n${serve.warnings.join('\n')}`)),
      );
    });
    try {
      const line = await withTimeout('drainplane serve to listen', timeoutMs, started);
      serve.xdsPort = Number(/"xdsPort":(\d+)/.exec(line)?.[1]);
      serve.apiUrl = `http://127.0.0.1:${/"apiPort":(\d+)/.exec(line)?.[1]}`;
      return serve;
    } catch (err) {
      serve.killNow();
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get logLines(): number {
    let n = 0;
    for (const count of this.linesByEvent.values()) n += count;
    return n;
  }

  #count(chunk: Buffer): void {
    const text = this.#partial + chunk.toString('latin1');
    const lines = text.split('\n');
    this.#partial = lines.pop()!;
    if (this.#partial.length > 1_000_000) {
      this.stdoutBytes += this.#partial.length;
      this.#partial = '';
    }
    for (const line of lines) {
      // V8's --trace-gc lines ("[pid:isolate] ms: Mark-Compact 245.3 (270.1) -> 120.4 (150.2) MB, ...") are not the log.
      if (line.startsWith('[')) {
        const gc = /: Mark-Compact ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
        if (gc) this.fullGcs.push({ at: Date.now(), liveBytes: Number(gc[3]) * 2 ** 20 });
        continue;
      }
      this.stdoutBytes += line.length + 1;
      const event = /"event":"([^"]{1,64})"/.exec(line)?.[1] ?? '-';
      if (event === 'started' && this.#started) this.#started(line);
      if (/^(reload.*|config_.*|drain_.*)$/.test(event) && this.milestones.length < 100) this.milestones.push({ at: Date.now(), event });
      this.linesByEvent.set(event, (this.linesByEvent.get(event) ?? 0) + 1);
      this.bytesByEvent.set(event, (this.bytesByEvent.get(event) ?? 0) + line.length + 1);
      const level = Number(/^\{"level":(\d+)/.exec(line)?.[1] ?? 0);
      if (level >= 40) this.#keep(line.slice(0, 600));
    }
  }

  #keep(line: string): void {
    this.warnings.push(line);
    if (this.warnings.length > 20) this.warnings.shift();
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    try {
      await withTimeout('drainplane serve to stop', graceMs, this.exited);
    } catch {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** At once, for a soak that is being interrupted. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
