/**
 * The daemon under test, in a process of its own: `bin/drainplane.js serve` on port 0 for both
 * xDS and the API, at log level warn (so no per-event log line is written, and the bound ports
 * are not logged either). The ports are read from /proc: the sockets the process listens on,
 * the API being the one that answers GET /healthz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './generator.js';

const BIN = fileURLToPath(new URL('../../../bin/drainplane.js', import.meta.url));

export interface DaemonProcessOptions {
  readonly configFile: string;
  readonly stateDir: string;
  /** Where to write a V8 CPU profile of the daemon (node --cpu-prof), if anywhere. */
  readonly cpuProfDir?: string;
  /** Streams the generator opens per HTTP/2 connection: the daemon must admit as many. */
  readonly streamsPerConnection: number;
  /** A replica on an etcd store shared with other replicas, rather than the file store in `stateDir`. */
  readonly etcd?: { readonly endpoint: string; readonly prefix: string; readonly replicaId: string };
  /** The drainplane executable to run (another build's, to compare two); this checkout's by default. */
  readonly bin?: string;
}

/** The process metrics the benchmark reads from GET /metrics. */
export interface DaemonMetrics {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly cpuSeconds: number;
  readonly streams: number;
  readonly responses: number;
  readonly acks: number;
  readonly nacks: number;
}

export class DaemonProcess {
  #stderr = '';
  /** The unfinished last line of the output, and how many lines each log event had. */
  #partialLine = '';
  readonly #events = new Map<string, number>();

  private constructor(
    readonly child: ChildProcess,
    readonly xdsPort: number,
    readonly apiUrl: string,
  ) {}

  static async start(options: DaemonProcessOptions, timeoutMs = 60_000): Promise<DaemonProcess> {
    const args = [
      ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []),
      options.bin ?? BIN,
      'serve',
      '--config',
      options.configFile,
      '--xds-host',
      '127.0.0.1',
      '--xds-port',
      '0',
      '--api-port',
      '0',
      '--state-dir',
      options.stateDir,
      '--log-level',
      'warn',
      '--no-watch',
      '--xds-max-streams-per-connection',
      String(options.streamsPerConnection),
      // The benchmark is one trusted caller making more than the default 30 changes a minute (--history).
      '--api-rate-limit',
      '0',
      ...(options.etcd
        ? ['--store', `etcd://${options.etcd.endpoint}`, '--store-prefix', options.etcd.prefix, '--replica-id', options.etcd.replicaId]
        : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`the daemon exited (${signal ?? code}) while starting:\n${output}`))),
    );
    exited.catch(() => undefined);
    try {
      const { xdsPort, apiUrl } = await withTimeout('the daemon to listen', timeoutMs, Promise.race([discoverPorts(child.pid!), exited]));
      const daemon = new DaemonProcess(child, xdsPort, apiUrl);
      child.stdout.off('data', collect);
      child.stderr.off('data', collect);
      // Warnings and errors stay visible; per-event lines are not written at this level.
      const keep = (chunk: Buffer): void => {
        daemon.#stderr = (daemon.#stderr + chunk.toString()).slice(-20_000);
        daemon.#countEvents(chunk.toString());
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      return daemon;
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** What the daemon wrote (warn level and above), the last 20 kB. */
  get output(): string {
    return this.#stderr;
  }

  /** How many log lines (warn and above, since it listened) carried this event. */
  eventCount(event: string): number {
    return this.#events.get(event) ?? 0;
  }

  #countEvents(text: string): void {
    const lines = (this.#partialLine + text).split('\n');
    this.#partialLine = lines.pop()!;
    for (const line of lines) {
      const event = /"event":"([^"]+)"/.exec(line)?.[1];
      if (event !== undefined) this.#events.set(event, (this.#events.get(event) ?? 0) + 1);
    }
  }

  async metrics(): Promise<DaemonMetrics> {
    const text = await this.#text('GET', '/metrics');
    const sum = (name: string): number => {
      let total = 0;
      let found = false;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
        found = true;
      }
      if (!found && !name.startsWith('drainplane_xds_')) throw new Error(`metric ${name} missing from /metrics`);
      return total;
    };
    return {
      rssBytes: sum('drainplane_process_resident_memory_bytes'),
      heapUsedBytes: sum('drainplane_nodejs_heap_size_used_bytes'),
      cpuSeconds: sum('drainplane_process_cpu_seconds_total'),
      streams: sum('drainplane_xds_streams'),
      responses: sum('drainplane_xds_responses_total'),
      acks: sum('drainplane_xds_acks_total'),
      nacks: sum('drainplane_xds_nacks_total'),
    };
  }

  async json<T>(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      ...(body !== undefined && { body, headers: { 'content-type': contentType } }),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async #text(method: string, path: string): Promise<string> {
    const res = await fetch(`${this.apiUrl}${path}`, { method, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}`);
    return res.text();
  }

  /** SIGKILL: the process dies with its streams open, as in a crash or a lost machine. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM (graceful: streams ended, CPU profile written), SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    try {
      await withTimeout('the daemon to stop', graceMs, exited);
    } catch {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}

/** Polls /proc until the process listens on two ports, then tells the API from xDS. */
async function discoverPorts(pid: number): Promise<{ xdsPort: number; apiUrl: string }> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const ports = await listeningPorts(pid).catch(() => []);
    if (ports.length >= 2) {
      for (const port of ports) {
        const url = `http://127.0.0.1:${port}`;
        const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ready) {
          const xdsPort = ports.find((p) => p !== port)!;
          return { xdsPort, apiUrl: url };
        }
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`process ${pid} did not listen on an xDS and an API port`);
}

/** TCP ports in LISTEN state whose sockets belong to the process (Linux /proc). */
async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]!);
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9]!)) continue;
      ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports];
}
