/**
 * The go-control-plane peer (go-peer/main.go) as the benchmark sees it: built once from the Go
 * module proxy into .bench-bin/ (rebuilt only when its Go files are newer than the binary), fed
 * the resources drainplane encodes for the fleet config, and driven by JSON lines on its stdin
 * and stdout.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { DEFAULT_XDS_LIMITS } from '../../src/xds/server.js';
import { withTimeout } from './generator.js';
import { groupResources } from './group-resources.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE = path.join(REPO, 'bench', 'fleet', 'go-peer');
const SOURCE_FILES = ['go.mod', 'go.sum', 'main.go'];
const BINARY = path.join(REPO, '.bench-bin', 'go-control-plane-peer');
/** A first build downloads go-control-plane and gRPC and compiles them. */
const BUILD_TIMEOUT_MS = 600_000;
const REPLY_TIMEOUT_MS = 60_000;

/** The types the simulated nodes subscribe to: all the peer serves. */
const SERVED_TYPES = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration] as const;

const run = promisify(execFile);

/** The modules whose versions go into the record. */
const RECORDED_MODULES = [
  'github.com/envoyproxy/go-control-plane',
  'github.com/envoyproxy/go-control-plane/envoy',
  'google.golang.org/grpc',
  'google.golang.org/protobuf',
];

export interface GoPeerBuild {
  readonly binary: string;
  /** The Go release it was built with, e.g. go1.26.8. */
  readonly go: string;
  /** Versions of the modules that do the work (RECORDED_MODULES), by module path. */
  readonly modules: Readonly<Record<string, string>>;
}

export interface GoPeerStats {
  readonly cpuMs: number;
  readonly rssBytes: number;
  readonly streams: number;
}

type ToPeer = { readonly op: 'drain' } | { readonly op: 'stats' } | { readonly op: 'stop' };

type FromPeer =
  { readonly op: 'listening'; readonly port: number } | { readonly op: 'drained'; readonly ms: number } | ({ readonly op: 'stats' } & GoPeerStats);

async function goOnPath(): Promise<boolean> {
  try {
    await run('go', ['version']);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function upToDate(): Promise<boolean> {
  const built = await stat(BINARY).catch(() => undefined);
  if (!built) return false;
  const sources = await Promise.all(SOURCE_FILES.map((f) => stat(path.join(SOURCE, f))));
  return sources.every((s) => s.mtimeMs <= built.mtimeMs);
}

/** What `go version -m` reads from the binary: the Go release and the module versions linked in. */
async function buildInfo(): Promise<GoPeerBuild> {
  const { stdout } = await run('go', ['version', '-m', BINARY]);
  const modules: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const [kind, module, version] = line.trim().split('\t');
    if (kind === 'dep' && module !== undefined && version !== undefined && RECORDED_MODULES.includes(module)) modules[module] = version;
  }
  return { binary: BINARY, go: /: (go\S+)/.exec(stdout)?.[1] ?? 'unknown', modules };
}

/**
 * The peer's binary, built if it is missing or older than its Go files; null when there is no
 * `go` on PATH (the peer is then left out of the run).
 */
export async function goPeerBuild(log: (line: string) => void): Promise<GoPeerBuild | null> {
  if (!(await goOnPath())) return null;
  if (await upToDate()) return buildInfo();
  await mkdir(path.dirname(BINARY), { recursive: true });
  log(`building the go-control-plane peer (${path.relative(REPO, SOURCE)})`);
  const t0 = Date.now();
  try {
    await run('go', ['build', '-trimpath', '-o', BINARY, './'], { cwd: SOURCE, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 << 20 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`go build failed: ${(err as Error).message}${stderr ? `\n${stderr.slice(-3000)}` : ''}`);
  }
  log(`built the go-control-plane peer in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return buildInfo();
}

/** The peer's input: drainplane's encoded resources of every group, base64, by type URL. */
async function writeResources(configFile: string, file: string): Promise<void> {
  const groups: Record<string, { resources: Record<string, string[]>; ingress: readonly string[] }> = {};
  for (const { nodeCluster, snapshot, ingress } of await groupResources(configFile)) {
    const resources = Object.fromEntries(SERVED_TYPES.map((t) => [t, snapshot.get(t).sorted.map((r) => Buffer.from(r.bytes).toString('base64'))]));
    groups[nodeCluster] = { resources, ingress };
  }
  const input = {
    maxReceiveMessageBytes: DEFAULT_XDS_LIMITS.maxReceiveMessageBytes,
    maxSendMessageBytes: DEFAULT_XDS_LIMITS.maxSendMessageBytes,
    groups,
  };
  await writeFile(file, JSON.stringify(input));
}

export class GoPeerProcess {
  readonly #queue: FromPeer[] = [];
  readonly #waiters: ((m: FromPeer) => void)[] = [];
  #stderr = '';
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcessByStdio<Writable, Readable, Readable>) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as FromPeer;
      const w = this.#waiters.shift();
      if (w) w(m);
      else this.#queue.push(m);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-20_000);
    });
    // A write after the peer exited fails with EPIPE: the exit itself is what gets reported.
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /**
   * Writes the resources of `configFile` next to it, starts the peer and waits until it listens.
   * With `cpuProfile`, the peer writes a pprof CPU profile there when it stops (`go tool pprof`).
   */
  static async start(binary: string, configFile: string, cpuProfile?: string): Promise<{ peer: GoPeerProcess; port: number }> {
    const resources = configFile.replace(/\.yaml$/, '') + '.go-peer.json';
    await writeResources(configFile, resources);
    const args = cpuProfile === undefined ? [resources] : [`-cpuprofile=${cpuProfile}`, resources];
    const peer = new GoPeerProcess(spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    try {
      const listening = await peer.#reply('listening');
      return { peer, port: listening.port };
    } catch (err) {
      await peer.stop();
      throw err;
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stats(): Promise<GoPeerStats> {
    this.#send({ op: 'stats' });
    const { cpuMs, rssBytes, streams } = await this.#reply('stats');
    return { cpuMs, rssBytes, streams };
  }

  /** Every group's ingress listeners removed; resolves with the time the peer took to set the snapshots. */
  async drain(): Promise<number> {
    this.#send({ op: 'drain' });
    return (await this.#reply('drained')).ms;
  }

  /** SIGKILL, as a process dies in a failover; resolves once it is gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    this.#send({ op: 'stop' });
    this.child.stdin.end();
    try {
      await withTimeout('the go-control-plane peer to exit', 10_000, this.exited);
    } catch {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  #send(message: ToPeer): void {
    if (this.child.stdin.writable) this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  async #reply<T extends FromPeer['op']>(op: T): Promise<Extract<FromPeer, { op: T }>> {
    const exited = this.exited.then(() => {
      throw new Error(`the go-control-plane peer exited (${this.child.exitCode ?? this.child.signalCode}): ${this.#stderr.trim().slice(-3000)}`);
    });
    const m = await withTimeout(`the go-control-plane peer's ${op}`, REPLY_TIMEOUT_MS, Promise.race([this.#next(), exited]));
    if (m.op !== op) throw new Error(`the go-control-plane peer answered ${m.op}, expected ${op}`);
    return m as Extract<FromPeer, { op: T }>;
  }

  #next(): Promise<FromPeer> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
