/**
 * The zero-error scenario: two grpc-js-xds XdsServer replicas, A and B, each taking its listener
 * from drainplane over ADS, under a round-robin client load that does not retry (unless asked to
 * use gRPC's transparent retry, see ZeroErrorOptions). In one run:
 *
 * 1. drain: A is drained through drainplane's HTTP API (a `modify` drain, then a `remove` drain
 *    measured by ACK), the run waits until A has no open connections, then stops A;
 * 2. abrupt stop (the baseline): A is brought back (both drains cancelled, a new A process), and
 *    with both replicas serving again, B is SIGKILLed under the same load, without a drain.
 *
 * Both phases open server-streaming RPCs just before the event, so some are in flight on the
 * replica that goes away. Everything the load sees is counted, per phase.
 */
import { startTestDaemon, type TestDaemon } from '../../test/support/daemon.js';
import { waitUntil } from '../../test/support/wait.js';
import { freeLoopbackPort, startGrpcXdsNode, type GrpcXdsNode } from '../../test/support/grpc-xds-node.js';
import { grpcServerListener } from '../../test/support/grpc-xds-resources.js';
import type { StreamOutcome, UnaryTally } from './load.js';
import { LoadThread } from './load-thread.js';

export interface ZeroErrorOptions {
  /** Unary RPCs in flight at any time, over all channels. */
  concurrency: number;
  /** Long-lived client channels, each balancing round-robin over both replicas. */
  channels: number;
  /** Unary RPCs per phase, at least (a phase goes on until its event is over). */
  rpcsPerPhase: number;
  /** Server-streaming RPCs opened just before each phase's event. */
  streams: number;
  /** Replies per stream, `streamIntervalMs` apart: how long a stream stays in flight. */
  streamReplies: number;
  streamIntervalMs: number;
  /** The event starts once this fraction of the phase's RPCs has been started. */
  eventAt: number;
  /** The replicas' drain grace time: how long a drained connection may keep in-flight streams. */
  drainGraceMs: number;
  rpcDeadlineMs: number;
  /** Bounds each phase's load, and each wait for a step of the scenario. */
  phaseTimeoutMs: number;
  /**
   * Let the clients resend RPCs the server refused unprocessed (grpc-js's transparent retry; see
   * LoadOptions). Off by default: no retries of any kind, so that every failure is seen.
   */
  transparentRetries: boolean;
}

/** The sizes of the issue: 200 concurrent RPCs, at least 100,000 unary RPCs in the run. */
export const DEFAULT_OPTIONS: Readonly<ZeroErrorOptions> = {
  concurrency: 200,
  channels: 8,
  rpcsPerPhase: 100_000,
  streams: 20,
  streamReplies: 20,
  streamIntervalMs: 100,
  eventAt: 0.3,
  drainGraceMs: 10_000,
  rpcDeadlineMs: 5_000,
  phaseTimeoutMs: 150_000,
  // gRPC clients' default: an RPC the server refused unprocessed (after its GOAWAY) is resent
  // once; no retry policy. --no-retries turns even that off.
  transparentRetries: true,
};

export interface StreamTally {
  opened: number;
  ok: number;
  failed: number;
  /** Streams whose first reply came from the replica that was drained or stopped. */
  onTarget: number;
  failedOnTarget: number;
  /** Failed streams by gRPC status name ("OK" for a stream that ended short of its replies). */
  byCode: Record<string, number>;
  byDetails: Record<string, number>;
  resets: number;
  refused: number;
}

export interface PhaseResult {
  name: 'drain' | 'abrupt-stop';
  /** What happened to the target replica. */
  action: string;
  /** The replica drained or stopped (its node id). */
  target: string;
  unary: UnaryTally;
  streams: StreamTally;
  /** Client connections the load saw cut: channels with a reset error on a unary RPC or a stream. */
  connectionsReset: number;
  /** From the first drain request until the target had no open connections; null for a kill. */
  timeToDrainedMs: number | null;
  /** The event's steps, in ms since it began. */
  timeline: { atMs: number; step: string }[];
}

export interface ZeroErrorResult {
  startedAt: string;
  durationMs: number;
  options: ZeroErrorOptions;
  replicas: { a: string; b: string };
  drain: PhaseResult;
  abruptStop: PhaseResult;
}

export interface ZeroErrorHooks {
  /** Progress lines, for a human watching the run. */
  log?: (line: string) => void;
}

const REPLICA_A = 'replica-a';
const REPLICA_B = 'replica-b';
const MAX_RECONNECT_BACKOFF_MS = 500;
const DRAIN_POLL_MS = 20;
const clusterOf = (nodeId: string): string => `zero-error-${nodeId}`;

/** One group per replica, each serving that replica's listener. */
function fleetConfig(ports: Record<string, number>): string {
  const groups = Object.entries(ports).map(([nodeId, port]) => ({
    name: nodeId,
    match: { cluster: clusterOf(nodeId) },
    listeners: [grpcServerListener({ port })],
  }));
  return JSON.stringify({ groups }); // JSON is YAML
}

export async function runZeroErrorScenario(overrides: Partial<ZeroErrorOptions> = {}, hooks: ZeroErrorHooks = {}): Promise<ZeroErrorResult> {
  const opts: ZeroErrorOptions = { ...DEFAULT_OPTIONS, ...overrides };
  validate(opts);
  const log = hooks.log ?? (() => {});
  const started = Date.now();
  // Picked at the same time, so they differ.
  const [portA, portB] = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);

  const d = await startTestDaemon(fleetConfig({ [REPLICA_A]: portA, [REPLICA_B]: portB }));
  const replicas: GrpcXdsNode[] = [];
  let load: LoadThread | undefined;
  const startReplica = async (nodeId: string, port: number): Promise<GrpcXdsNode> => {
    const node = await startGrpcXdsNode({
      xdsServer: d.xdsAddress,
      nodeId,
      cluster: clusterOf(nodeId),
      port,
      drainGraceMs: opts.drainGraceMs,
    });
    replicas.push(node);
    await node.waitForServing(opts.phaseTimeoutMs);
    return node;
  };

  try {
    // Settled, not raced: a replica still starting when the other fails must be known to the cleanup.
    const starts = await Promise.allSettled([startReplica(REPLICA_A, portA), startReplica(REPLICA_B, portB)]);
    let [a, b] = starts.map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    }) as [GrpcXdsNode, GrpcXdsNode];
    log(`replicas serving: ${a.nodeId} on ${a.address}, ${b.nodeId} on ${b.address}`);
    load = new LoadThread({
      addresses: [a.address, b.address],
      channels: opts.channels,
      concurrency: opts.concurrency,
      rpcDeadlineMs: opts.rpcDeadlineMs,
      maxReconnectBackoffMs: MAX_RECONNECT_BACKOFF_MS,
      transparentRetries: opts.transparentRetries,
    });
    await load.connect(opts.phaseTimeoutMs);
    await waitForClientConnections([a, b], opts.channels, opts.phaseTimeoutMs);

    const api = new DrainApi(d, opts.phaseTimeoutMs);
    const drainIds: string[] = [];
    const target = a;
    log(`drain phase: ${target.nodeId} drained under ${opts.concurrency} concurrent RPCs over ${opts.channels} channels`);
    const drainAction = 'drained by drainplane (modify, then remove), then stopped';
    const drain = await runPhase(load, opts, 'drain', target.nodeId, drainAction, async (mark) => {
      const selector = { ids: [target.nodeId] };
      // grpc-js-xds servers report no listener manager gauges: the ACK ends their modify drain.
      const modify = await api.create({ selector, scope: 'ingress', method: 'modify', measure: 'ack' });
      drainIds.push(modify);
      mark(`modify drain ${modify} created`);
      await api.waitForState(modify, 'completed');
      mark('modify drain completed (ACKed)');
      const remove = await api.create({ selector, scope: 'ingress', method: 'remove', measure: 'ack' });
      drainIds.push(remove);
      mark(`remove drain ${remove} created`);
      await api.waitForState(remove, 'completed');
      mark('remove drain completed (ACKed)');
      // The node samples its open TCP connections, draining ones included, every 50 ms.
      await waitUntil(`${target.nodeId} to have no open connections`, () => target.openConnections === 0, opts.drainGraceMs + opts.phaseTimeoutMs);
      const drainedAt = mark(`${target.nodeId} has no open connections`);
      await target.stop();
      mark(`${target.nodeId} stopped`);
      return drainedAt;
    });
    log(`drain phase: ${summary(drain)}`);

    // Back to two replicas: drainplane gives A its listener again, and a new A process serves it.
    for (const id of drainIds) await api.cancel(id);
    a = await startReplica(REPLICA_A, portA);
    await waitForClientConnections([a, b], opts.channels, opts.phaseTimeoutMs);
    log(`${a.nodeId} is back; abrupt-stop phase: ${b.nodeId} killed under the same load`);
    const abruptStop = await runPhase(load, opts, 'abrupt-stop', b.nodeId, 'SIGKILL, without a drain', async (mark) => {
      await b.kill();
      mark(`${b.nodeId} killed`);
      return null;
    });
    log(`abrupt-stop phase: ${summary(abruptStop)}`);

    return {
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      options: opts,
      replicas: { a: REPLICA_A, b: REPLICA_B },
      drain,
      abruptStop,
    };
  } finally {
    await load?.close();
    await Promise.all(replicas.map((r) => r.kill()));
    await d.close();
  }
}

/**
 * Runs one phase's load; once `eventAt` of its RPCs are started, opens the streams, waits until
 * each has its first reply (so that they are in flight on both replicas), and runs the event,
 * which returns when (ms into the event) the target counted as drained, or null. The load goes on
 * until both its RPCs are started and the event is over.
 */
async function runPhase(
  load: LoadThread,
  opts: ZeroErrorOptions,
  name: PhaseResult['name'],
  target: string,
  action: string,
  event: (mark: (step: string) => number) => Promise<number | null>,
): Promise<PhaseResult> {
  const run = load.run({ rpcs: opts.rpcsPerPhase, maxMs: opts.phaseTimeoutMs, maxRpcs: opts.rpcsPerPhase * 10 });
  const timeline: PhaseResult['timeline'] = [];
  let timeToDrainedMs: number | null;
  let batch: number;
  try {
    const eventAt = Math.floor(opts.rpcsPerPhase * opts.eventAt);
    await run.whenSent(eventAt);
    // A stream that fails before its first reply is in its outcome; the event goes ahead anyway.
    const opened = await load.openStreams(opts.streams, opts.streamReplies, opts.streamIntervalMs);
    batch = opened.batch;
    const t0 = Date.now();
    const mark = (step: string): number => {
      const atMs = Date.now() - t0;
      timeline.push({ atMs, step });
      return atMs;
    };
    const onTarget = opened.nodes.filter((n) => n === target).length;
    mark(`${eventAt} RPCs started; ${opened.nodes.length} streams in flight, ${onTarget} of them on ${target}`);
    timeToDrainedMs = await event(mark);
  } finally {
    await run.release();
  }
  const [unary, outcomes] = await Promise.all([run.done, load.streamOutcomes(batch)]);
  const resetChannels = new Set(unary.channelsReset);
  for (const o of outcomes) if (o.error?.kind === 'reset') resetChannels.add(o.channel);
  return {
    name,
    action,
    target,
    unary,
    streams: tallyStreams(outcomes, target),
    connectionsReset: resetChannels.size,
    timeToDrainedMs,
    timeline,
  };
}

function tallyStreams(outcomes: readonly StreamOutcome[], target: string): StreamTally {
  const tally: StreamTally = {
    opened: outcomes.length,
    ok: 0,
    failed: 0,
    onTarget: 0,
    failedOnTarget: 0,
    byCode: {},
    byDetails: {},
    resets: 0,
    refused: 0,
  };
  for (const o of outcomes) {
    const onTarget = o.node === target;
    if (onTarget) tally.onTarget++;
    if (!o.error) {
      tally.ok++;
      continue;
    }
    tally.failed++;
    if (onTarget) tally.failedOnTarget++;
    tally.byCode[o.error.code] = (tally.byCode[o.error.code] ?? 0) + 1;
    const key = `${o.error.code}: ${o.error.details}`;
    tally.byDetails[key] = (tally.byDetails[key] ?? 0) + 1;
    if (o.error.kind === 'reset') tally.resets++;
    if (o.error.kind === 'refused') tally.refused++;
  }
  return tally;
}

/** Every client channel holds a connection to each replica, so the load is balanced over both. */
function waitForClientConnections(replicas: readonly GrpcXdsNode[], channels: number, timeoutMs: number): Promise<void> {
  return waitUntil(
    `${channels} client connections on each of ${replicas.map((r) => r.nodeId).join(', ')}`,
    () => replicas.every((r) => (r.openConnections ?? 0) >= channels),
    timeoutMs,
  );
}

function summary(p: PhaseResult): string {
  return (
    `${p.unary.sent} RPCs, ${p.unary.failed} failed; ${p.streams.failed} of ${p.streams.opened} streams failed` +
    (p.timeToDrainedMs === null ? '' : `; drained ${p.timeToDrainedMs} ms after the first drain request`)
  );
}

function validate(o: ZeroErrorOptions): void {
  const problems: string[] = [];
  const integer = (name: keyof ZeroErrorOptions, min: number): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      problems.push(`${name} must be an integer >= ${min}, got ${v}`);
    }
  };
  const positive = [
    'concurrency',
    'channels',
    'rpcsPerPhase',
    'streamReplies',
    'streamIntervalMs',
    'drainGraceMs',
    'rpcDeadlineMs',
    'phaseTimeoutMs',
  ] as const;
  for (const name of positive) integer(name, 1);
  integer('streams', 0);
  if (o.channels > o.concurrency) problems.push(`channels (${o.channels}) must not exceed concurrency (${o.concurrency})`);
  if (!(o.eventAt > 0 && o.eventAt < 1)) problems.push(`eventAt must be between 0 and 1 (exclusive), got ${o.eventAt}`);
  if (o.streamReplies * o.streamIntervalMs >= o.drainGraceMs) {
    problems.push('a stream must be able to finish within the drain grace time (streamReplies * streamIntervalMs < drainGraceMs)');
  }
  if (problems.length > 0) throw new Error(`invalid zero-error options: ${problems.join('; ')}`);
}

/** drainplane's drain API, used over HTTP the way an operator would. */
class DrainApi {
  constructor(
    private readonly d: TestDaemon,
    private readonly timeoutMs: number,
  ) {}

  async create(body: Record<string, unknown>): Promise<string> {
    const res = await this.request('POST', '/v1/drains', body);
    if (res.status !== 201) throw new Error(`POST /v1/drains answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }

  async cancel(id: string): Promise<void> {
    const res = await this.request('POST', `/v1/drains/${id}/cancel`);
    if (res.status !== 200) throw new Error(`POST /v1/drains/${id}/cancel answered ${res.status}: ${await res.text()}`);
  }

  async waitForState(id: string, wanted: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let last = 'unknown';
    while (Date.now() < deadline) {
      const res = await this.request('GET', `/v1/drains/${id}`);
      if (res.status !== 200) throw new Error(`GET /v1/drains/${id} answered ${res.status}: ${await res.text()}`);
      last = ((await res.json()) as { state: string }).state;
      if (last === wanted) return;
      if (last !== 'running') throw new Error(`drain ${id} ended ${last}, not ${wanted}`);
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    throw new Error(`drain ${id} did not reach ${wanted} within ${this.timeoutMs} ms (last: ${last})`);
  }

  private request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.d.apiUrl}${path}`, {
      method,
      // The API takes changes typed JSON only, with a body or without.
      ...(method !== 'GET' && { headers: { 'content-type': 'application/json' } }),
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
  }
}
