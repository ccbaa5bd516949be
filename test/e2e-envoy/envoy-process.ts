/**
 * A real Envoy for the end-to-end suite: started on a bootstrap file with the drain flags the
 * suite needs, its output kept (the tail) for failure reports, stopped with SIGTERM and then
 * SIGKILL within a bound, and read through its admin API on loopback.
 *
 * Admin endpoints used (docs: operations/admin; ../shared/ENVOY-FACTS.md "Admin API"):
 * `/ready` (200 "LIVE"), `/listeners?format=json` (the active listeners: a removed listener leaves
 * this list at once, while its connections drain), `/server_info`, `/stats?format=json`,
 * `/config_dump?resource=dynamic_listeners`; any other call, mutations included, through admin().
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface EnvoyProcessOptions {
  readonly name: string;
  readonly bin: string;
  readonly bootstrapFile: string;
  readonly adminPort: number;
  /** Unique per Envoy on the machine: hot-restart shared memory is named after it. */
  readonly baseId: number;
  readonly drainTimeSeconds: number;
  /** Envoy's --log-level (default warning; ENVOY_LOG_LEVEL overrides). */
  readonly logLevel?: string;
}

export interface EnvoyExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const OUTPUT_TAIL_CHARS = 64 * 1024;
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 5_000;
const ADMIN_TIMEOUT_MS = 2_000;

type Json = Record<string, any>; // admin JSON, read defensively below

/** One listener of /config_dump's ListenersConfigDump.dynamic_listeners (proto3 JSON). */
export interface DynamicListener {
  readonly name: string;
  readonly active_state?: ListenerState;
  readonly warming_state?: ListenerState;
  readonly draining_state?: ListenerState;
}

export interface ListenerState {
  readonly version_info?: string;
  /** The Listener; enum fields at their default (DEFAULT, UNSPECIFIED) are left out. */
  readonly listener: Json;
}

/** Envoys still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));

export class EnvoyProcess {
  readonly adminUrl: string;
  readonly exited: Promise<EnvoyExit>;
  #exit: EnvoyExit | undefined;
  #output = '';

  private constructor(
    readonly options: EnvoyProcessOptions,
    private readonly child: ChildProcess,
  ) {
    this.adminUrl = `http://127.0.0.1:${options.adminPort}`;
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
      child.once('error', (err) => {
        running.delete(child);
        keep(Buffer.from(`\n[spawn error] ${err.message}\n`));
        this.#exit ??= { code: null, signal: null };
        resolve(this.#exit);
      });
    });
  }

  static start(o: EnvoyProcessOptions): EnvoyProcess {
    const args = [
      '-c',
      o.bootstrapFile,
      '--base-id',
      String(o.baseId),
      '--drain-time-s',
      String(o.drainTimeSeconds),
      '--drain-strategy',
      'immediate',
      '--concurrency',
      '2',
      '--log-level',
      o.logLevel ?? process.env['ENVOY_LOG_LEVEL'] ?? 'warning',
    ];
    const child = spawn(o.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    return new EnvoyProcess(o, child);
  }

  get name(): string {
    return this.options.name;
  }

  /** Undefined while it runs. */
  get exit(): EnvoyExit | undefined {
    return this.#exit;
  }

  /** The last lines Envoy wrote, for failure reports. */
  outputTail(maxChars = 8_000): string {
    return this.#output.slice(-maxChars);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Envoy leaves at once on SIGTERM (no drain); SIGKILL if it has not gone within the bound. */
  async stop(): Promise<EnvoyExit> {
    if (this.#exit) return this.#exit;
    this.child.kill('SIGTERM');
    const exited = await within(this.exited, STOP_GRACE_MS);
    if (exited) return exited;
    this.child.kill('SIGKILL');
    return (await within(this.exited, KILL_WAIT_MS)) ?? { code: null, signal: 'SIGKILL' };
  }

  /** GET /ready: "LIVE" with 200, or the state Envoy names with its 503. */
  async ready(): Promise<{ status: number; state: string }> {
    const res = await this.#admin('/ready');
    return { status: res.status, state: (await res.text()).trim() };
  }

  /** Names of the active listeners (GET /listeners?format=json). */
  async listenerNames(): Promise<string[]> {
    const res = await this.#admin('/listeners?format=json');
    if (res.status !== 200) throw new Error(`${this.name} admin /listeners: HTTP ${res.status}`);
    const body = (await res.json()) as Json;
    const statuses = (body['listener_statuses'] ?? body['listenerStatuses'] ?? []) as Json[];
    return statuses.map((s) => String(s['name'])).sort();
  }

  async serverInfo(): Promise<Json> {
    const res = await this.#admin('/server_info');
    if (res.status !== 200) throw new Error(`${this.name} admin /server_info: HTTP ${res.status}`);
    return (await res.json()) as Json;
  }

  /** Envoy's dynamic listeners as /config_dump shows them: each with its active, warming and draining state. */
  async dynamicListeners(): Promise<DynamicListener[]> {
    const res = await this.#admin('/config_dump?resource=dynamic_listeners');
    if (res.status !== 200) throw new Error(`${this.name} admin /config_dump: HTTP ${res.status}`);
    const configs = (((await res.json()) as Json)['configs'] ?? []) as DynamicListener[];
    return configs.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Any admin call: its status and body as Envoy sent them. */
  async admin(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: string }> {
    const res = await this.#admin(path, method);
    return { status: res.status, body: await res.text() };
  }

  /** A gauge or counter by its full name; undefined when Envoy does not have it (any more). */
  async stat(name: string): Promise<number | undefined> {
    const filter = `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
    const res = await this.#admin(`/stats?format=json&filter=${encodeURIComponent(filter)}`);
    if (res.status !== 200) throw new Error(`${this.name} admin /stats: HTTP ${res.status}`);
    const stats = ((await res.json()) as Json)['stats'] as Json[] | undefined;
    const found = stats?.find((s) => s['name'] === name);
    return found === undefined ? undefined : Number(found['value']);
  }

  #admin(path: string, method = 'GET'): Promise<Response> {
    return fetch(`${this.adminUrl}${path}`, { method, signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
  }
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
