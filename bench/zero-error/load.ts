/**
 * Client load for the zero-error scenario: long-lived grpc-js channels, each balancing round-robin
 * over every replica address, driven by a fixed number of concurrent unary RPCs (a closed loop),
 * plus server-streaming RPCs opened on demand. Runs in a worker thread (load-thread.ts), so that a
 * saturated event loop here does not slow down the control plane or the scenario's timing.
 *
 * By default nothing retries: the channels set `grpc.enable_retries: 0`, which in grpc-js also
 * turns off transparent retries, so every RPC the load starts is counted exactly once, and a
 * failure is seen as it happened.
 */
import * as grpc from '@grpc/grpc-js';
import { callEcho, echoService, type EchoReply } from '../../test/support/echo-service.js';

export interface LoadOptions {
  /** `127.0.0.1:PORT` of every replica; each channel balances over all of them. */
  addresses: readonly string[];
  /** Client channels (each with its own connection to every replica). */
  channels: number;
  /** Unary RPCs in flight at any time, spread evenly over the channels. */
  concurrency: number;
  rpcDeadlineMs: number;
  /** Reconnect backoff cap, so a channel soon finds a replica that is back. */
  maxReconnectBackoffMs: number;
  /**
   * false (the default): no retries at all. true: grpc-js's defaults, which resend an RPC only
   * if it provably never reached the server's application (refused with REFUSED_STREAM, as after
   * a GOAWAY, or never sent), at most once. There is no retry policy either way.
   */
  transparentRetries?: boolean;
}

/** Outcomes of the unary RPCs of one load run. */
export interface UnaryTally {
  sent: number;
  ok: number;
  failed: number;
  /** Failed RPCs by gRPC status name, e.g. `{ UNAVAILABLE: 12 }`. */
  byCode: Record<string, number>;
  /** Failed RPCs by `CODE: details`, the way grpc-js reported them. */
  byDetails: Record<string, number>;
  /** Successful RPCs by the node id that answered. */
  servedBy: Record<string, number>;
  /** Failed RPCs whose error says the connection was reset or dropped (see classifyFailure). */
  resets: number;
  /** Failed RPCs the server refused before its application saw them (see classifyFailure). */
  refused: number;
  /** Channels (indexes) that saw at least one reset error: connections the load saw cut. */
  channelsReset: number[];
  durationMs: number;
}

export interface StreamFailure {
  /** The status name; "OK" for a stream that ended short of its replies. */
  code: string;
  details: string;
  kind: FailureKind;
}

export interface StreamOutcome {
  channel: number;
  /** The node that sent the first reply; undefined if there was none. */
  node: string | undefined;
  replies: number;
  expected: number;
  /** Undefined if every reply came and the stream ended with OK. */
  error: StreamFailure | undefined;
}

export interface StreamHandle {
  readonly channel: number;
  /** The first reply: the stream is open on `reply.node`. Rejects if the stream ends before. */
  readonly first: Promise<EchoReply>;
  /** Settles once the stream is over, either way; never rejects. */
  readonly outcome: Promise<StreamOutcome>;
}

export interface RunOptions {
  /** Unary RPCs to start, at least: the run goes on past them until it is released. */
  rpcs: number;
  /** Hard limits: the run stops starting RPCs after this long, or after `maxRpcs`. */
  maxMs: number;
  maxRpcs: number;
}

export interface LoadRun {
  /** Unary RPCs started so far in this run. */
  readonly sent: number;
  /** Resolves once `n` RPCs of this run have been started, or the run is over. */
  whenSent(n: number): Promise<void>;
  /** Lets the run end once it has started its `rpcs`. */
  release(): void;
  /** Resolves when every worker is done and the last RPC has finished. */
  readonly done: Promise<UnaryTally>;
}

/**
 * - reset: the connection was cut under the RPC, as grpc-js reports it: UNAVAILABLE
 *   ("Connection dropped", ECONNRESET) or INTERNAL ("Received RST_STREAM with code 2 ...");
 * - refused: UNAVAILABLE "Stream refused by server": the stream was above the last stream id of
 *   the server's GOAWAY (HTTP/2 REFUSED_STREAM), so the server never processed it;
 * - other: anything else (deadlines, no replica ready, ...).
 */
export type FailureKind = 'reset' | 'refused' | 'other';

const RESET_DETAILS = /connection dropped|rst_stream|econnreset|socket hang up|reset/i;
const REFUSED_DETAILS = /stream refused by server/i;

export function classifyFailure(code: grpc.status, details: string): FailureKind {
  if (code === grpc.status.UNAVAILABLE && REFUSED_DETAILS.test(details)) return 'refused';
  if ((code === grpc.status.UNAVAILABLE || code === grpc.status.INTERNAL) && RESET_DETAILS.test(details)) return 'reset';
  return 'other';
}

export function statusName(code: number): string {
  return grpc.status[code] ?? `CODE_${code}`;
}

const increment = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

export class EchoLoad {
  private readonly clients: grpc.Client[];

  constructor(private readonly opts: LoadOptions) {
    if (opts.addresses.length === 0) throw new Error('the load needs at least one address');
    if (!(opts.channels >= 1) || !(opts.concurrency >= opts.channels)) {
      throw new Error(`need 1 <= channels <= concurrency, got ${opts.channels} channels, concurrency ${opts.concurrency}`);
    }
    const target = `ipv4:${opts.addresses.join(',')}`;
    this.clients = Array.from(
      { length: opts.channels },
      () =>
        new grpc.Client(target, grpc.credentials.createInsecure(), {
          'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
          // Each channel has connections of its own rather than sharing the process-wide pool:
          // several clients, several connections per replica.
          'grpc.use_local_subchannel_pool': 1,
          ...(opts.transparentRetries ? {} : { 'grpc.enable_retries': 0 }),
          'grpc.initial_reconnect_backoff_ms': Math.min(100, opts.maxReconnectBackoffMs),
          'grpc.max_reconnect_backoff_ms': opts.maxReconnectBackoffMs,
        }),
    );
  }

  /** Connects every channel (round_robin then connects to every replica); rejects on timeout. */
  async connect(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      this.clients.map((client) => new Promise<void>((resolve, reject) => client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())))),
    );
  }

  /** Starts a closed-loop unary load: `concurrency` workers, each starting its next RPC when its last one ends. */
  run(runOpts: RunOptions): LoadRun {
    const tally: UnaryTally = {
      sent: 0,
      ok: 0,
      failed: 0,
      byCode: {},
      byDetails: {},
      servedBy: {},
      resets: 0,
      refused: 0,
      channelsReset: [],
      durationMs: 0,
    };
    const resetChannels = new Set<number>();
    const started = Date.now();
    const stopAt = started + runOpts.maxMs;
    let released = false;
    const waiters: { n: number; resolve: () => void }[] = [];
    const wake = (): void => {
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (tally.sent >= waiters[i]!.n) waiters.splice(i, 1)[0]!.resolve();
      }
    };
    const more = (): boolean => tally.sent < runOpts.maxRpcs && Date.now() < stopAt && (tally.sent < runOpts.rpcs || !released);

    const worker = async (channel: number): Promise<void> => {
      const client = this.clients[channel]!;
      while (more()) {
        const seq = tally.sent++;
        wake();
        const result = await this.echo(client, `rpc-${seq}`);
        if ('reply' in result) {
          tally.ok++;
          increment(tally.servedBy, result.reply.node);
          continue;
        }
        tally.failed++;
        const name = statusName(result.code);
        increment(tally.byCode, name);
        increment(tally.byDetails, `${name}: ${result.details}`);
        const kind = classifyFailure(result.code, result.details);
        if (kind === 'refused') tally.refused++;
        if (kind === 'reset') {
          tally.resets++;
          resetChannels.add(channel);
        }
      }
    };
    const workers = Array.from({ length: this.opts.concurrency }, (_, i) => worker(i % this.clients.length));
    const done = Promise.all(workers).then(() => {
      tally.durationMs = Date.now() - started;
      tally.channelsReset = [...resetChannels].sort((a, b) => a - b);
      // Waiters for counts never reached would otherwise hang; they learn the run is over.
      waiters.splice(0).forEach((w) => w.resolve());
      return tally;
    });

    return {
      get sent() {
        return tally.sent;
      },
      whenSent: (n) => (tally.sent >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
      release: () => {
        released = true;
      },
      done,
    };
  }

  /**
   * Opens `count` server-streaming RPCs, spread over the channels (and, by round-robin, over the
   * replicas), each asking for `replies` replies `intervalMs` apart.
   */
  streams(count: number, replies: number, intervalMs: number): StreamHandle[] {
    const { Stream } = echoService;
    return Array.from({ length: count }, (_, i) => {
      const channel = i % this.clients.length;
      const call = this.clients[channel]!.makeServerStreamRequest(
        Stream.path,
        Stream.requestSerialize,
        Stream.responseDeserialize,
        { count: replies, interval_ms: intervalMs },
        new grpc.Metadata(),
        { deadline: Date.now() + replies * intervalMs + this.opts.rpcDeadlineMs },
      );
      let node: string | undefined;
      let received = 0;
      const first = new Promise<EchoReply>((resolve, reject) => {
        call.once('data', resolve);
        call.once('error', reject);
        call.once('end', () => reject(new Error('the stream ended without a reply')));
      });
      first.catch(() => {}); // the outcome reports the failure; `first` may go unobserved
      const outcome = new Promise<StreamOutcome>((resolve) => {
        const settle = (error: StreamFailure | undefined): void => resolve({ channel, node, replies: received, expected: replies, error });
        call.on('data', (reply: EchoReply) => {
          node ??= reply.node;
          received++;
        });
        call.once('error', (err: grpc.ServiceError) =>
          settle({ code: statusName(err.code), details: err.details, kind: classifyFailure(err.code, err.details) }),
        );
        // After an error, 'end' still comes, but the outcome is settled by then.
        call.once('end', () =>
          settle(received === replies ? undefined : { code: 'OK', details: `ended after ${received} of ${replies} replies`, kind: 'other' }),
        );
      });
      return { channel, first, outcome };
    });
  }

  close(): void {
    this.clients.forEach((c) => c.close());
  }

  private echo(client: grpc.Client, message: string): Promise<{ reply: EchoReply } | { code: grpc.status; details: string }> {
    return callEcho(client, message, this.opts.rpcDeadlineMs).then(
      (reply) => ({ reply }),
      (err: grpc.ServiceError) => ({ code: err.code, details: err.details }),
    );
  }
}
