/**
 * An attacker process of the hostile-client soak (child_process.fork of soak.ts): it runs the
 * attacks its plan names against the xDS port and the API, on loopback, each spread over the
 * attack window, and reports what it did over IPC.
 *
 * It speaks raw HTTP/2 with requests encoded by hand (bench/fleet/wire.ts), so its own memory
 * stays small whatever it sends: the 3.9 MB of every metadata value and NACK message are one
 * buffer, written again and again; the requests of the names attack are built one at a time.
 * Connections are few: eight each for metadata and nack, four for names, one for stale, one per
 * API client, one per slow stream.
 *
 * The attacks (the sizes of the findings the daemon's bounds answer, times ten by default):
 *   metadata   invented node ids, each with a 3.9 MB metadata value, connect, get their
 *              listeners and go;
 *   nack       nodes NACK their listeners with a 3.9 MB error_detail, then leave;
 *   names      streams ask for RDS by lists of 2,000 names, a different list each request, each
 *              request the ACK of the last response;
 *   slow       streams ask for the large listeners of the bulk group and never read; a stream
 *              the daemon resets is opened again a second later;
 *   stale      one stream sends requests with a stale nonce as fast as its share of the window;
 *   nodes-api  GET /v1/nodes (every node, metadata included), a second after each answer, by one
 *              client (or as many as the plan says, each one request at a time).
 */
import { setMaxListeners } from 'node:events';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { GrpcFrameReader, readResponse, strField, varint, type ResponseSummary } from '../fleet/wire.js';
import type { AttackCounts, AttackPlan, FromAttacker, ToAttacker } from './protocol.js';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
/** Operations of one kind in flight at once (metadata, nack), and streams of the names attack. */
const IN_FLIGHT = 32;
const NAME_STREAMS = 40;
/** GET /v1/nodes, one at a time, this long after the last answer (a script polling it). */
const NODES_API_PAUSE_MS = 1000;
/** How long an attack waits for an answer before it counts the operation as unanswered. */
const ANSWER_MS = 30_000;

const counts: AttackCounts = {};
const add = (key: string, n = 1): void => void (counts[key] = (counts[key] ?? 0) + n);
const max = (key: string, value: number): void => void (counts[key] = Math.max(counts[key] ?? 0, value));

let stopping = false;
const stopped = new AbortController();
// Every paced wait listens on it.
setMaxListeners(0, stopped.signal);
const sessions = new Set<http2.ClientHttp2Session>();
const send = (message: FromAttacker): void => void process.send?.(message);

// ---------------------------------------------------------------------------------------------
// Encoding: the few DiscoveryRequest fields the attacks send, written around one shared blob.

/** Tag and length of a length-delimited field whose payload (`length` bytes) follows. */
function lenHead(field: number, length: number): Buffer {
  return Buffer.from([...varint((field << 3) | 2), ...varint(length)]);
}

/** The 5-byte gRPC message header for a message of `length` bytes. */
function grpcHead(length: number): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(length, 1);
  return head;
}

/** One gRPC message from parts written one after the other; only the header is new bytes. */
function framed(parts: readonly Buffer[]): Buffer[] {
  return [grpcHead(parts.reduce((s, p) => s + p.length, 0)), ...parts];
}

/** core.v3.Node with id and cluster (and whatever `more` adds, already encoded), as field `field`. */
function nodeField(field: number, id: string, cluster: string, more: readonly Buffer[] = []): Buffer[] {
  const head = Buffer.concat([strField(1, id), strField(2, cluster)]);
  const length = head.length + more.reduce((s, p) => s + p.length, 0);
  return [lenHead(field, length), head, ...more];
}

/**
 * DiscoveryRequest { node { id, cluster, metadata { fields { "blob": { string_value: BLOB } } } }, type_url }.
 * Struct.fields is map<string, Value> (field 1: entries of key 1, value 2); Value.string_value is 3.
 */
function metadataRequest(id: string, cluster: string, blob: Buffer, typeUrl: string): Buffer[] {
  const stringValue = [lenHead(3, blob.length), blob];
  const valueLength = stringValue[0]!.length + blob.length;
  const key = strField(1, 'blob');
  const entryLength = key.length + lenHead(2, valueLength).length + valueLength;
  const structLength = lenHead(1, entryLength).length + entryLength;
  const metadata = [lenHead(3, structLength), lenHead(1, entryLength), key, lenHead(2, valueLength), ...stringValue];
  return framed([...nodeField(2, id, cluster, metadata), strField(4, typeUrl)]);
}

/** A first request: node and type, wildcard. */
function firstRequest(id: string, cluster: string, typeUrl: string): Buffer[] {
  return framed([...nodeField(2, id, cluster), strField(4, typeUrl)]);
}

/** DiscoveryRequest { type_url, response_nonce, error_detail { code: INVALID_ARGUMENT, message: BLOB } }. */
function nackRequest(typeUrl: string, nonce: string, blob: Buffer): Buffer[] {
  const code = Buffer.from([0x08, 3]);
  const message = lenHead(2, blob.length);
  return framed([strField(4, typeUrl), strField(5, nonce), lenHead(6, code.length + message.length + blob.length), code, message, blob]);
}

/**
 * DiscoveryRequest { version_info, node (first request only), resource_names x count, type_url RDS,
 * response_nonce }: `count` names no config has, each different from those of any other request.
 */
function namesRequest(prefix: string, count: number, ack: ResponseSummary | undefined, node: Buffer[] | undefined): Buffer[] {
  const names = Array.from({ length: count }, (_, k) => `${prefix}-${k}-${'r'.repeat(24)}`);
  const size = names.reduce((s, n) => s + 2 + n.length, 0);
  const list = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const name of names) {
    list[offset++] = (3 << 3) | 2;
    list[offset++] = name.length; // under 128: one byte
    offset += list.write(name, offset, 'latin1');
  }
  return framed([strField(1, ack?.version ?? ''), ...(node ?? []), list, strField(4, TypeUrl.RouteConfiguration), strField(5, ack?.nonce ?? '')]);
}

/** DiscoveryRequest { type_url, response_nonce: "stale-N" }: a nonce this stream was never sent. */
function staleRequest(i: number): Buffer {
  const body = Buffer.concat([strField(4, TypeUrl.Listener), strField(5, `stale-${i}`)]);
  return Buffer.concat([grpcHead(body.length), body]);
}

// ---------------------------------------------------------------------------------------------
// Connections and streams

function connect(port: number, options: http2.ClientSessionOptions = {}): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`, { ...options, settings: { enablePush: false, ...options.settings } });
  session.on('error', () => add('errors.connection'));
  sessions.add(session);
  session.once('close', () => sessions.delete(session));
  return session;
}

/** A few connections, opened again when one fails, that the streams of one attack share. */
class Pool {
  readonly #sessions: (http2.ClientHttp2Session | undefined)[];
  constructor(
    private readonly port: number,
    size: number,
    private readonly options: http2.ClientSessionOptions = {},
  ) {
    this.#sessions = Array.from({ length: size }, () => undefined);
  }
  get(i: number): http2.ClientHttp2Session {
    const k = i % this.#sessions.length;
    let s = this.#sessions[k];
    if (!s || s.closed || s.destroyed) this.#sessions[k] = s = connect(this.port, this.options);
    return s;
  }
}

/** One xDS stream, read (responses decoded for their nonce and version) or never read. */
class Call {
  readonly stream: http2.ClientHttp2Stream;
  /** The RST_STREAM code it ended with (0 for none). */
  readonly closed: Promise<number>;
  #reader = new GrpcFrameReader();
  #unread: ResponseSummary[] = [];
  #waiter: ((res: ResponseSummary | undefined) => void) | undefined;
  #isClosed = false;

  constructor(session: http2.ClientHttp2Session, read: boolean) {
    this.stream = session.request({ ':method': 'POST', ':path': ADS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    this.stream.on('error', () => undefined);
    if (read) {
      this.stream.on('data', (chunk: Buffer) => {
        try {
          this.#reader.push(chunk, (message) => {
            const res = readResponse(message, false);
            if (this.#waiter) {
              const w = this.#waiter;
              this.#waiter = undefined;
              w(res);
            } else if (this.#unread.length < 4) this.#unread.push(res);
          });
        } catch {
          this.cancel();
        }
      });
    } else {
      this.stream.pause();
    }
    this.closed = new Promise((resolve) =>
      this.stream.once('close', () => {
        this.#isClosed = true;
        this.#waiter?.(undefined);
        this.#waiter = undefined;
        resolve(this.stream.rstCode ?? 0);
      }),
    );
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Writes the parts, waiting while HTTP/2 holds them back; false if the stream closed first. */
  async write(parts: readonly Buffer[]): Promise<boolean> {
    for (const part of parts) {
      if (this.#isClosed || this.stream.destroyed) return false;
      if (!this.stream.write(part)) {
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => this.stream.once('drain', () => resolve(true))),
          this.closed.then(() => false),
        ]);
        if (!drained) return false;
      }
    }
    return !this.#isClosed;
  }

  /** The next response, or undefined if none comes within `ms` or the stream closes. */
  next(ms: number): Promise<ResponseSummary | undefined> {
    const res = this.#unread.shift();
    if (res) return Promise.resolve(res);
    if (this.#isClosed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(undefined);
      }, ms);
      this.#waiter = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }

  cancel(): void {
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

// ---------------------------------------------------------------------------------------------
// Pacing

/** Hands out operation numbers 0..target-1, evenly over the window, none after it. */
class Schedule {
  #next = 0;
  readonly #start = Date.now();
  readonly #interval: number;

  constructor(
    private readonly target: number,
    private readonly durationMs: number,
  ) {
    // Spread over the first 95% of the window: an attack a little behind still ends on time.
    this.#interval = target > 0 ? (durationMs * 0.95) / target : Number.POSITIVE_INFINITY;
  }

  get over(): boolean {
    return stopping || this.#next >= this.target || Date.now() - this.#start >= this.durationMs;
  }

  /** Up to `most` operation numbers whose time has come (waiting for the first), none once over. */
  async take(most = 1): Promise<{ first: number; count: number } | undefined> {
    if (this.over) return undefined;
    const first = this.#next++;
    const wait = this.#start + first * this.#interval - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal: stopped.signal }).catch(() => undefined);
    if (stopping) return undefined;
    // A batch takes the numbers after the first that are due too, unless another worker took one.
    if (most === 1 || this.#next !== first + 1) return { first, count: 1 };
    const due = Math.floor((Date.now() - this.#start) / this.#interval) + 1;
    const count = Math.max(1, Math.min(most, due - first, this.target - first));
    this.#next = first + count;
    return { first, count };
  }
}

/** Runs op(i) for each number the schedule hands out, `workers` at a time. */
async function paced(schedule: Schedule, workers: number, op: (i: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let slot = await schedule.take(); slot; slot = await schedule.take()) await op(slot.first);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The attacks

async function metadataAttack(plan: AttackPlan, blob: Buffer): Promise<void> {
  const pool = new Pool(plan.xdsPort, 8, { maxSessionMemory: 128 });
  await paced(new Schedule(plan.targets.metadata ?? 0, plan.durationMs), IN_FLIGHT, async (i) => {
    const id = `hostile-meta-${plan.attacker}-${i}`;
    const call = new Call(pool.get(i), true);
    add('metadata.connections');
    const written = await call.write(metadataRequest(id, plan.clusters[i % plan.clusters.length]!, blob, TypeUrl.Listener));
    const res = written ? await call.next(ANSWER_MS) : undefined;
    add(res ? 'metadata.served' : 'metadata.unanswered');
    call.cancel();
  });
}

async function nackAttack(plan: AttackPlan, blob: Buffer): Promise<void> {
  const pool = new Pool(plan.xdsPort, 8, { maxSessionMemory: 128 });
  await paced(new Schedule(plan.targets.nack ?? 0, plan.durationMs), IN_FLIGHT, async (i) => {
    const id = `hostile-nack-${plan.attacker}-${i}`;
    const call = new Call(pool.get(i), true);
    try {
      const res = (await call.write(firstRequest(id, plan.clusters[i % plan.clusters.length]!, TypeUrl.Listener)))
        ? await call.next(ANSWER_MS)
        : undefined;
      if (!res) return void add('nack.unanswered');
      if (!(await call.write(nackRequest(TypeUrl.Listener, res.nonce, blob)))) return void add('nack.cut');
      add('nack.sent');
      // Half-closed after the NACK: the daemon reads it, then ends the stream.
      call.stream.end();
      const ended = await Promise.race([call.closed.then(() => true), sleep(ANSWER_MS, false, { signal: stopped.signal }).catch(() => false)]);
      if (!ended) add('nack.unended');
    } finally {
      call.cancel();
    }
  });
}

async function namesAttack(plan: AttackPlan): Promise<void> {
  const pool = new Pool(plan.xdsPort, 4);
  const schedule = new Schedule(plan.targets.names ?? 0, plan.durationMs);
  await Promise.all(
    Array.from({ length: NAME_STREAMS }, async (_, s) => {
      let call: Call | undefined;
      let last: ResponseSummary | undefined;
      for (let slot = await schedule.take(); slot; slot = await schedule.take()) {
        const id = `hostile-names-${plan.attacker}-${s}`;
        let node: Buffer[] | undefined;
        if (!call || call.isClosed) {
          if (call) add('names.streamsLost');
          call = new Call(pool.get(s), true);
          node = nodeField(2, id, plan.clusters[s % plan.clusters.length]!);
          last = undefined;
        }
        const request = namesRequest(`n${plan.attacker}-${s}-${slot.first}`, plan.namesPerRequest, last, node);
        if (!(await call.write(request))) continue;
        add('names.requests');
        last = await call.next(ANSWER_MS);
        if (last) add('names.responses');
        else if (!call.isClosed) add('names.unanswered');
      }
      call?.cancel();
    }),
  );
}

async function slowAttack(plan: AttackPlan): Promise<void> {
  const end = Date.now() + plan.durationMs;
  await Promise.all(
    Array.from({ length: plan.targets.slow ?? 0 }, async (_, s) => {
      for (let generation = 0; !stopping && Date.now() < end; generation++) {
        // A connection of its own, at HTTP/2's default window: 64 KiB and the daemon must hold the rest.
        const session = connect(plan.xdsPort);
        const call = new Call(session, false);
        add('slow.opened');
        await call.write(firstRequest(`hostile-slow-${plan.attacker}-${s}-${generation}`, plan.bulkCluster, TypeUrl.Listener));
        const code = await Promise.race([call.closed, sleep(end - Date.now(), -1, { signal: stopped.signal }).catch(() => -1)]);
        session.destroy();
        if (code === -1) break;
        add(code === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM ? 'slow.reset' : 'slow.closedOtherwise');
        await sleep(1000, undefined, { signal: stopped.signal }).catch(() => undefined);
      }
    }),
  );
}

async function staleAttack(plan: AttackPlan): Promise<void> {
  const session = connect(plan.xdsPort);
  const schedule = new Schedule(plan.targets.stale ?? 0, plan.durationMs);
  let call: Call | undefined;
  for (let slot = await schedule.take(1000); slot; slot = await schedule.take(1000)) {
    if (!call || call.isClosed) {
      if (call) add('stale.streamsLost');
      call = new Call(session.closed || session.destroyed ? connect(plan.xdsPort) : session, true);
      await call.write(firstRequest(`hostile-stale-${plan.attacker}`, plan.clusters[0]!, TypeUrl.Listener));
      await call.next(ANSWER_MS);
    }
    const batch = Buffer.concat(Array.from({ length: slot.count }, (_, k) => staleRequest(slot.first + k)));
    if (await call.write([batch])) add('stale.requests', slot.count);
  }
  call?.cancel();
}

async function nodesApiAttack(plan: AttackPlan): Promise<void> {
  const end = Date.now() + plan.durationMs;
  await Promise.all(
    Array.from({ length: plan.nodesApiClients }, async () => {
      while (!stopping && Date.now() < end) {
        const t0 = Date.now();
        try {
          const res = await fetch(`${plan.apiUrl}/v1/nodes`, { signal: AbortSignal.any([stopped.signal, AbortSignal.timeout(120_000)]) });
          let bytes = 0;
          if (res.body) for await (const chunk of res.body) bytes += (chunk as Uint8Array).length;
          add(res.status === 200 ? 'nodes-api.requests' : 'nodes-api.errors');
          max('nodes-api.bytesMax', bytes);
          max('nodes-api.msMax', Date.now() - t0);
        } catch {
          if (!stopping) add('nodes-api.errors');
        }
        await sleep(NODES_API_PAUSE_MS, undefined, { signal: stopped.signal }).catch(() => undefined);
      }
    }),
  );
}

async function run(plan: AttackPlan): Promise<void> {
  const blob = Buffer.alloc(plan.blobBytes, 'x');
  const attacks = plan.kinds.map((kind) => {
    switch (kind) {
      case 'metadata':
        return metadataAttack(plan, blob);
      case 'nack':
        return nackAttack(plan, blob);
      case 'names':
        return namesAttack(plan);
      case 'slow':
        return slowAttack(plan);
      case 'stale':
        return staleAttack(plan);
      case 'nodes-api':
        return nodesApiAttack(plan);
    }
  });
  const progress = setInterval(() => send({ op: 'progress', counts: { ...counts } }), 1000);
  try {
    await Promise.all(attacks.map((a) => a.catch((err: unknown) => send({ op: 'failure', message: String(err) }))));
  } finally {
    clearInterval(progress);
    for (const s of sessions) s.destroy();
    max('attacker.rssBytesMax', process.memoryUsage.rss());
    send({ op: 'done', counts: { ...counts } });
  }
}

setInterval(() => max('attacker.rssBytesMax', process.memoryUsage.rss()), 500).unref();

function stop(): void {
  if (stopping) return;
  stopping = true;
  stopped.abort();
  // Open streams end with their connections; what waits on them finishes at once.
  for (const s of sessions) s.destroy();
}

process.on('message', (message: ToAttacker) => {
  if (message.op === 'start') {
    void run(message.plan).finally(() => {
      process.disconnect?.();
      setTimeout(() => process.exit(0), 100).unref();
    });
  } else stop();
});
// The soak went away (Ctrl-C, a crash): so does the attacker.
process.on('disconnect', () => {
  stop();
  setTimeout(() => process.exit(0), 500).unref();
});
