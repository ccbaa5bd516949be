/**
 * drainplane replicas as child processes (`drainplane serve --store etcd://...`), so a test can
 * SIGKILL one. Each has its own copy of the config file, its own ports and a fixed replica id.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apiRequest } from './api-request.js';
import { startCli, type CliProcess } from './cli.js';

export interface ReplicaOptions {
  readonly id: string;
  readonly configYaml: string;
  /** host:port of etcd (or of a proxy in front of it). */
  readonly etcd: string;
  /** A prefix per test keeps tests sharing one etcd apart. */
  readonly prefix: string;
  readonly leaseSeconds?: number;
  /** Fills the replica's folder (where its config file goes) before it starts. */
  readonly prepare?: (dir: string) => Promise<void>;
}

export interface ApiAnswer {
  readonly status: number;
  /** JSON from the API under test, read by each assertion as it needs. */
  readonly body: any;
}

export class Replica {
  private constructor(
    readonly id: string,
    readonly cli: CliProcess,
    readonly xdsAddress: string,
    readonly apiUrl: string,
    private readonly dir: string,
  ) {}

  /** Its own copy of the config file (as if mounted from a ConfigMap); watched. */
  get configFile(): string {
    return path.join(this.dir, 'drainplane.yaml');
  }

  static async start(o: ReplicaOptions): Promise<Replica> {
    const dir = await mkdtemp(path.join(tmpdir(), `drainplane-${o.id}-`));
    const config = path.join(dir, 'drainplane.yaml');
    await writeFile(config, o.configYaml);
    await o.prepare?.(dir);
    // Watched (no --no-watch): a change of one replica's file is a config change for all.
    const cli = startCli([
      'serve',
      '--config',
      config,
      '--xds-host',
      '127.0.0.1',
      '--xds-port',
      '0',
      '--api-port',
      '0',
      '--state-dir',
      path.join(dir, 'state'),
      '--store',
      `etcd://${o.etcd}`,
      '--store-prefix',
      o.prefix,
      '--store-lease-seconds',
      String(o.leaseSeconds ?? 2),
      '--replica-id',
      o.id,
    ]);
    const started = await cli.waitForLog((l) => l['event'] === 'started', 60_000);
    return new Replica(o.id, cli, `127.0.0.1:${String(started['xdsPort'])}`, `http://127.0.0.1:${String(started['apiPort'])}`, dir);
  }

  async api(method: string, urlPath: string, body?: unknown): Promise<ApiAnswer> {
    const res = await fetch(`${this.apiUrl}${urlPath}`, { ...apiRequest(method, body), signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.json() };
  }

  /** GET /v1/store, or undefined when the replica does not answer. */
  async store(): Promise<{ leading: boolean; leader: string | null; available: boolean } | undefined> {
    try {
      const res = await this.api('GET', '/v1/store');
      return res.status === 200 ? res.body : undefined;
    } catch {
      return undefined;
    }
  }

  get alive(): boolean {
    return this.cli.child.exitCode === null && this.cli.child.signalCode === null;
  }

  /** kill -9: no goodbye, its leases run out on their own. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.cli.child.kill('SIGKILL');
    await this.cli.exited;
  }

  /** SIGTERM, then the temp folder goes. */
  async stop(): Promise<void> {
    if (this.alive) {
      this.cli.child.kill('SIGTERM');
      await this.cli.exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
