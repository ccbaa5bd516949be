/**
 * Test nodes: grpc-js-xds XdsServers, each in its own child process (grpc-xds-node-main.ts) with
 * its own node id and cluster, configured only through LDS by the xDS server under test. Plus an
 * echo client that spreads calls over several nodes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { callEcho, echoService, type EchoReply } from './echo-service.js';
import { grpcServerListenerName } from './grpc-xds-resources.js';

export type { EchoReply } from './echo-service.js';

/** Events a node process reports; `at` is its Date.now() when it happened. */
export type ChildEvent =
  | { type: 'started'; at: number; pid: number; listenerName: string }
  /** XdsServer's serving state callback. Listener removal does not produce one (see main). */
  | { type: 'serving-status'; at: number; serving: boolean; code: number; details: string }
  /** XdsServer.bindAsync's callback: the first time the node serves. */
  | { type: 'bound'; at: number; port: number }
  /**
   * Connections, reported when a sample (every 50 ms) differs from the last: `open` TCP connections
   * on the port, draining ones included (absent if the node cannot count them); `active` HTTP/2
   * sessions still taking new streams. open - active are draining, or for a moment setting up.
   */
  | { type: 'connections'; at: number; open?: number; active: number }
  | { type: 'error'; at: number; message: string }
  | { type: 'stopping'; at: number; reason: string }
  | { type: 'stopped'; at: number };

/** Recorded by the parent when the node process ends. */
export interface ExitEvent {
  type: 'exit';
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type NodeEvent = ChildEvent | ExitEvent;

/** Messages the parent sends to a node process. */
export type ParentMessage = { type: 'stop' };

export interface GrpcXdsNodeOptions {
  /** The xDS management server, `127.0.0.1:PORT`. */
  xdsServer: string;
  nodeId: string;
  cluster: string;
  /**
   * The port to serve on 127.0.0.1. Must be fixed: XdsServer rejects port 0, and the listener's
   * name and socket_address carry the port. Use freeLoopbackPort().
   */
  port: number;
  /** Node metadata in the bootstrap, sent to the xDS server. */
  metadata?: Record<string, string>;
  /** How long a drained connection may keep in-flight streams before it is destroyed. */
  drainGraceMs?: number;
}

export interface GrpcXdsNode {
  readonly nodeId: string;
  readonly port: number;
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  /** The LDS resource name the node watches. */
  readonly listenerName: string;
  readonly events: readonly NodeEvent[];
  /** Open TCP connections, draining ones included, at the last sample; undefined before one. */
  readonly openConnections: number | undefined;
  /** Resolves once a new connection to the node is served. */
  waitForServing(timeoutMs: number): Promise<void>;
  /** Resolves once a new connection to the node is refused (in-flight ones may still drain). */
  waitForNotServing(timeoutMs: number): Promise<void>;
  /** Resolves with the first event, past or future, that matches. */
  waitForEvent(predicate: (event: NodeEvent, index: number) => boolean, timeoutMs: number): Promise<NodeEvent>;
  /** Graceful stop (in-flight streams get the drain grace time); rejects if it was not clean. */
  stop(): Promise<void>;
  /** Abrupt stop: SIGKILL. Idempotent, never rejects; safe in `after` hooks. */
  kill(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./grpc-xds-node-main.js', import.meta.url));
const DEFAULT_DRAIN_GRACE_MS = 1000;
const START_TIMEOUT_MS = 10_000;
/** A stop may take the drain grace time plus the node's own shutdown slack; then it is killed. */
const STOP_SLACK_MS = 5000;
const PROBE_INTERVAL_MS = 50;
const PROBE_TIMEOUT_MS = 1000;
const OUTPUT_TAIL_LINES = 40;

/** Nodes still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => live.forEach((c) => c.kill('SIGKILL')));

export async function startGrpcXdsNode(opts: GrpcXdsNodeOptions): Promise<GrpcXdsNode> {
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new Error(`a grpc-js-xds node needs a fixed port 1..65535 (got ${opts.port}); use freeLoopbackPort()`);
  }
  const drainGraceMs = opts.drainGraceMs ?? DEFAULT_DRAIN_GRACE_MS;
  const args = [
    ['--xds-server', opts.xdsServer],
    ['--node-id', opts.nodeId],
    ['--cluster', opts.cluster],
    ['--port', String(opts.port)],
    ['--drain-grace-ms', String(drainGraceMs)],
    ...Object.entries(opts.metadata ?? {}).map(([k, v]) => ['--metadata', `${k}=${v}`]),
  ].flat();
  const child = fork(MAIN, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Not the test runner's flags, which fork would otherwise pass on.
    execArgv: ['--enable-source-maps'],
  });
  const node = new ChildNode(child, opts.nodeId, opts.port, drainGraceMs);
  try {
    await node.waitForEvent((e) => e.type === 'started', START_TIMEOUT_MS);
  } catch (err) {
    await node.kill();
    throw err;
  }
  return node;
}

class ChildNode implements GrpcXdsNode {
  readonly address: string;
  readonly listenerName: string;
  readonly events: NodeEvent[] = [];
  private readonly output: string[] = [];
  private readonly onEvent = new Set<() => void>();
  private readonly exited: Promise<ExitEvent>;
  private exit: ExitEvent | undefined;

  constructor(
    private readonly child: ChildProcess,
    readonly nodeId: string,
    readonly port: number,
    private readonly drainGraceMs: number,
  ) {
    this.address = `127.0.0.1:${port}`;
    this.listenerName = grpcServerListenerName(port);
    live.add(child);
    child.on('message', (m: ChildEvent) => this.record(m));
    // Spawn or IPC failures; unhandled, an 'error' event would crash the test process.
    child.on('error', (err) => this.record({ type: 'error', at: Date.now(), message: `node process: ${err.message}` }));
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => this.keepOutput(chunk));
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.exit = { type: 'exit', at: Date.now(), code, signal };
        this.record(this.exit);
        resolve(this.exit);
      });
    });
  }

  get openConnections(): number | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.type === 'connections') return e.open;
    }
    return undefined;
  }

  waitForServing(timeoutMs: number): Promise<void> {
    return this.pollProbe('serving', timeoutMs);
  }

  waitForNotServing(timeoutMs: number): Promise<void> {
    return this.pollProbe('refused', timeoutMs);
  }

  waitForEvent(predicate: (event: NodeEvent, index: number) => boolean, timeoutMs: number): Promise<NodeEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.find(predicate);
        if (found) {
          done();
          resolve(found);
        } else if (this.exit) {
          done();
          reject(this.failure('the awaited event'));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`the awaited event within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.onEvent.delete(check);
      };
      this.onEvent.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    if (this.exit) return;
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies ParentMessage);
    else this.child.kill('SIGTERM');
    const timeoutMs = this.drainGraceMs + STOP_SLACK_MS;
    const exit = await within(this.exited, timeoutMs);
    if (!exit) {
      await this.kill();
      throw this.failure(`a graceful stop within ${timeoutMs} ms; killed it`);
    }
    if (exit.code !== 0) throw this.failure('a clean exit on stop');
  }

  async kill(): Promise<void> {
    if (!this.exit) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Probes a fresh connection until it gives `wanted`: see probePort. */
  private async pollProbe(wanted: ProbeResult, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: ProbeResult | undefined;
    for (;;) {
      if (this.exit) throw this.failure(`a ${wanted} probe (last probe: ${last ?? 'none'})`);
      const left = deadline - Date.now();
      if (left <= 0) throw this.failure(`a ${wanted} probe within ${timeoutMs} ms (last probe: ${last ?? 'none'})`);
      last = await probePort(this.port, Math.min(left, PROBE_TIMEOUT_MS));
      if (last === wanted) return;
      await sleep(Math.min(PROBE_INTERVAL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  private record(event: NodeEvent): void {
    this.events.push(event);
    this.onEvent.forEach((check) => check());
  }

  private keepOutput(chunk: string): void {
    this.output.push(...chunk.split('\n').filter((l) => l.length > 0));
    this.output.splice(0, Math.max(0, this.output.length - OUTPUT_TAIL_LINES));
  }

  /** An error that says what the node was doing, for failures that happen in a child process. */
  private failure(awaited: string): Error {
    const state = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : 'running';
    const recent = this.events.slice(-10).map((e) => `  ${JSON.stringify(e)}`);
    const output = this.output.map((l) => `  | ${l}`);
    return new Error(
      [`node ${this.nodeId} (${this.address}, ${state}) did not reach ${awaited}`, 'recent events:', ...recent]
        .concat(output.length > 0 ? ['output:', ...output] : [])
        .join('\n'),
    );
  }
}

/**
 * A port that is free right now. XdsServer listens on the port on every interface, not just on
 * 127.0.0.1, so the port is picked the same way to be sure that bind will succeed.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * - serving: the node answered a new connection with its HTTP/2 settings;
 * - refused: the connection was refused, or accepted and closed unanswered (how XdsServer treats
 *   connections while it has no listener);
 * - no-answer: neither within the timeout (a busy node); not a verdict either way.
 */
export type ProbeResult = 'serving' | 'refused' | 'no-answer';

/** HTTP/2 connection preface followed by an empty SETTINGS frame. */
const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/**
 * Whether 127.0.0.1:port serves a new connection right now. A raw connection rather than a gRPC
 * call, so the answer depends on neither channel state nor reconnect backoff. It counts briefly
 * as an open connection on the node.
 */
export function probePort(port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish('no-answer'), timeoutMs);
    socket.once('connect', () => socket.write(HTTP2_PREFACE));
    socket.once('data', () => finish('serving'));
    socket.once('error', () => finish('refused'));
    socket.once('close', () => finish('refused'));
  });
}

export interface EchoStream {
  /** Replies received so far. */
  readonly replies: readonly EchoReply[];
  /** The first reply: the stream is open on some node. */
  readonly first: Promise<EchoReply>;
  /** Every reply, once the node ends the stream with OK; rejects with the call's error otherwise. */
  readonly done: Promise<readonly EchoReply[]>;
  cancel(): void;
}

export interface EchoClient {
  echo(message: string, deadlineMs?: number): Promise<EchoReply>;
  /** Asks one node for `count` replies, `intervalMs` apart. */
  stream(count: number, intervalMs: number): EchoStream;
  close(): void;
}

export interface EchoClientOptions {
  /** Reconnect backoff cap; grpc-js's default (120 s) would stall tests after a refusal. */
  maxReconnectBackoffMs?: number;
}

/** A grpc-js client spreading calls round-robin over `127.0.0.1:PORT` addresses. */
export function echoClient(addresses: readonly string[], opts: EchoClientOptions = {}): EchoClient {
  if (addresses.length === 0 || addresses.some((a) => !/^127\.\d+\.\d+\.\d+:\d+$/.test(a))) {
    throw new Error(`echoClient wants loopback IPv4 host:port addresses, got ${addresses.join(', ')}`);
  }
  const maxBackoff = opts.maxReconnectBackoffMs ?? 1000;
  const client = new grpc.Client(`ipv4:${addresses.join(',')}`, grpc.credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    // Connections of their own, not shared with other clients in the test process.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.initial_reconnect_backoff_ms': Math.min(100, maxBackoff),
    'grpc.max_reconnect_backoff_ms': maxBackoff,
  });
  const { Stream } = echoService;

  return {
    echo(message, deadlineMs = 5000) {
      return callEcho(client, message, deadlineMs);
    },

    stream(count, intervalMs) {
      const replies: EchoReply[] = [];
      const call = client.makeServerStreamRequest(
        Stream.path,
        Stream.requestSerialize,
        Stream.responseDeserialize,
        { count, interval_ms: intervalMs },
        new grpc.Metadata(),
        { deadline: Date.now() + count * intervalMs + 10_000 },
      );
      const first = new Promise<EchoReply>((resolve, reject) => {
        call.once('data', resolve);
        call.once('error', reject);
        call.once('end', () => reject(new Error('stream ended without a reply')));
      });
      const done = new Promise<readonly EchoReply[]>((resolve, reject) => {
        call.on('data', (reply: EchoReply) => replies.push(reply));
        call.once('error', reject);
        // After an error, 'end' still comes, but the promise is settled by then.
        call.once('end', () => resolve(replies));
      });
      // A test may ignore either promise (say, after cancel()); that must not be an unhandled rejection.
      first.catch(() => {});
      done.catch(() => {});
      return { replies, first, done, cancel: () => call.cancel() };
    },

    close: () => client.close(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`'s value, or undefined if it takes longer than `ms`; leaves no timer behind. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
