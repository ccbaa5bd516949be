/**
 * A load generator process (child_process.fork of generator.ts): simulates Envoy nodes, each one
 * aggregated (ADS) xDS stream over raw HTTP/2, SotW or Delta.
 *
 * Each node, like Envoy, subscribes to CDS (wildcard), EDS (its group's clusters), LDS (wildcard)
 * and RDS (its group's route configurations), and ACKs every response at once. Unlike Envoy, it
 * sends all four subscriptions when its stream opens rather than after the CDS and LDS responses
 * name them; the server still answers in CDS, EDS, LDS, RDS order, one type at a time. SotW
 * requests carry the node every time (Envoy's default, set_node_on_first_message_only false);
 * Delta requests carry it on the first request only.
 *
 * Requests are built from bytes encoded once per group and type, plus the version and nonce of
 * the response being ACKed; responses are read only for their version, type URL, nonce and
 * resource counts (wire.ts), so the generator does little work per message.
 *
 * Streams share HTTP/2 connections: `streamsPerConnection` nodes per connection (1 gives every
 * node its own connection, as real Envoys have), which keeps the sockets of a 10,000-node fleet
 * bounded. The control plane sees one peer per connection either way.
 *
 * For a reconnect storm, an `outage` message makes the worker stop watching its streams (their
 * errors are expected: the control plane was killed), and `reconnect` opens every node's stream
 * again at once, to the control plane on its new port, as a fleet of Envoys does when it returns.
 */
import http2 from 'node:http2';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { FLEET_METADATA, nodeZone, type GroupPlan } from './fleet-config.js';
import { isDeltaNode, nowMs, type ConnectOptions, type Convergence, type FromWorker, type SyncReport, type ToWorker } from './protocol.js';
import { encodeNode, GrpcFrameReader, grpcFrame, lenField, readResponse, strField } from './wire.js';

const SOTW_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const DELTA_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';

/** Subscription order, as Envoy sends them. */
const TYPES = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration] as const;
const TYPE_INDEX = new Map<string, number>(TYPES.map((t, i) => [t, i]));
const LDS = 2;
const ALL_TYPES = 0b1111;
const MAX_FAILURES_REPORTED = 5;

/** Request bytes of one group, encoded once. */
interface GroupRequests {
  /** SotW: resource_names and type_url, per type. */
  readonly sotw: readonly Buffer[];
  /** Delta: type_url and resource_names_subscribe, per type (first requests). */
  readonly deltaSubscribe: readonly Buffer[];
  /** Delta: type_url, per type (ACKs). */
  readonly deltaType: readonly Buffer[];
}

interface SimNode {
  readonly index: number;
  readonly delta: boolean;
  readonly requests: GroupRequests;
  /** The request's node field (field 2 in SotW, 1 in Delta). */
  readonly nodeField: Buffer;
  reader: GrpcFrameReader;
  /** The latest LDS response: its resource count, and its removed names (Delta). */
  ldsResources: number;
  ldsRemoved: number;
  stream: http2.ClientHttp2Stream | undefined;
  openedAt: number;
  syncedAt: number;
  ldsAckedAt: number;
  acked: number;
  lds: string;
  baseline: string | undefined;
  changedAt: number;
}

function groupRequests(plan: GroupPlan): GroupRequests {
  const names = (t: number): readonly string[] => (t === 1 ? plan.clusters : t === 3 ? plan.routes : []);
  return {
    sotw: TYPES.map((typeUrl, t) => Buffer.concat([...names(t).map((n) => strField(3, n)), strField(4, typeUrl)])),
    deltaSubscribe: TYPES.map((typeUrl, t) => Buffer.concat([strField(2, typeUrl), ...names(t).map((n) => strField(3, n))])),
    deltaType: TYPES.map((typeUrl) => strField(2, typeUrl)),
  };
}

function send(message: FromWorker): void {
  process.send?.(message);
}

class Fleet {
  readonly #nodes: SimNode[] = [];
  readonly #sessions: http2.ClientHttp2Session[] = [];
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 10 });
  #opened = 0;
  #synced = 0;
  #startedAt = 0;
  #syncCpu: NodeJS.CpuUsage | undefined;
  #closing = false;
  /** Streams and connections of an earlier generation (before an outage) are no longer watched. */
  #generation = 0;
  #port: number;
  #window: number;
  /** Each stream opens after a delay drawn from 0 to this many ms (0: at once). */
  #jitterMs = 0;
  #failures = 0;
  #armed: { id: string; pending: number; cpu: NodeJS.CpuUsage; reported: boolean } | undefined;

  constructor(private readonly options: ConnectOptions) {
    this.#port = options.port;
    this.#window = options.connectWindow;
    const groups = options.groups.map(groupRequests);
    const { worker, workers, total, deltaPercent } = options.nodes;
    for (let i = worker; i < total; i += workers) {
      const g = i % options.groups.length;
      const plan = options.groups[g]!;
      const delta = isDeltaNode(i, deltaPercent);
      const node = encodeNode({
        id: `node-${String(i).padStart(5, '0')}`,
        cluster: plan.nodeCluster,
        metadata: { ...FLEET_METADATA, instance: `i-${i.toString(16)}` },
        region: 'bench',
        zone: nodeZone(i),
      });
      this.#nodes.push({
        index: i,
        delta,
        requests: groups[g]!,
        nodeField: lenField(delta ? 1 : 2, node),
        reader: new GrpcFrameReader(),
        ldsResources: 0,
        ldsRemoved: 0,
        stream: undefined,
        openedAt: 0,
        syncedAt: 0,
        ldsAckedAt: 0,
        acked: 0,
        lds: '',
        baseline: undefined,
        changedAt: 0,
      });
    }
  }

  connect(): void {
    this.#startedAt = nowMs();
    this.#syncCpu = process.cpuUsage();
    if (this.#nodes.length === 0) this.#reportSynced();
    this.#openMore();
  }

  #openMore(): void {
    while (this.#opened < this.#nodes.length && this.#opened - this.#synced < this.#window) {
      const node = this.#nodes[this.#opened]!;
      const localIndex = this.#opened;
      if (this.#jitterMs === 0) this.#open(node, localIndex);
      else {
        const watched = this.#watching();
        setTimeout(() => {
          if (watched()) this.#open(node, localIndex);
        }, Math.random() * this.#jitterMs);
      }
      this.#opened++;
    }
  }

  #session(localIndex: number): http2.ClientHttp2Session {
    const k = Math.floor(localIndex / this.options.streamsPerConnection);
    let session = this.#sessions[k];
    if (!session || session.closed || session.destroyed) {
      session = http2.connect(`http://${this.options.host}:${this.#port}`, {
        settings: { enablePush: false, initialWindowSize: 1 << 20 },
        peerMaxConcurrentStreams: this.options.streamsPerConnection + 10,
        maxSessionMemory: 64,
      });
      const s = session;
      const watched = this.#watching();
      s.on('connect', () => s.setLocalWindowSize(16 << 20));
      s.on('error', (err: Error) => {
        if (watched()) this.#fail(`connection ${k}: ${err.message}`);
      });
      s.on('goaway', (code) => {
        if (watched()) this.#fail(`connection ${k}: GOAWAY ${code}`);
      });
      this.#sessions[k] = s;
    }
    return session;
  }

  #open(node: SimNode, localIndex: number): void {
    const stream = this.#session(localIndex).request(
      { ':method': 'POST', ':path': node.delta ? DELTA_PATH : SOTW_PATH, 'content-type': 'application/grpc', te: 'trailers' },
      { endStream: false },
    );
    node.stream = stream;
    node.openedAt = nowMs();
    const name = `node ${node.index}`;
    const watched = this.#watching();
    stream.on('response', (headers) => {
      const status = headers[':status'];
      const grpcStatus = headers['grpc-status'];
      if (watched() && (status !== 200 || (grpcStatus !== undefined && grpcStatus !== '0'))) {
        this.#fail(`${name}: HTTP ${status}, grpc-status ${String(grpcStatus)} ${String(headers['grpc-message'] ?? '')}`);
      }
    });
    stream.on('trailers', (trailers: http2.IncomingHttpHeaders) => {
      if (watched()) this.#fail(`${name}: stream ended, grpc-status ${String(trailers['grpc-status'])} ${String(trailers['grpc-message'] ?? '')}`);
    });
    stream.on('error', (err: Error) => {
      if (watched()) this.#fail(`${name}: ${err.message}`);
    });
    stream.on('close', () => {
      if (watched()) this.#fail(`${name}: stream closed (code ${stream.rstCode})`);
    });
    stream.on('data', (chunk: Buffer) => {
      if (!watched()) return;
      try {
        node.reader.push(chunk, (message) => this.#onResponse(node, message));
      } catch (err) {
        this.#fail(`${name}: ${(err as Error).message}`);
        stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
      }
    });
    const r = node.requests;
    for (let t = 0; t < TYPES.length; t++) {
      if (node.delta) stream.write(grpcFrame(t === 0 ? [node.nodeField, r.deltaSubscribe[t]!] : [r.deltaSubscribe[t]!]));
      else stream.write(grpcFrame([node.nodeField, r.sotw[t]!]));
    }
  }

  #onResponse(node: SimNode, message: Buffer): void {
    const response = readResponse(message, node.delta);
    const t = TYPE_INDEX.get(response.typeUrl);
    if (t === undefined) {
      this.#fail(`node ${node.index}: response of unexpected type "${response.typeUrl}"`);
      return;
    }
    const r = node.requests;
    const ack = node.delta
      ? grpcFrame([r.deltaType[t]!, strField(6, response.nonce)])
      : grpcFrame([node.nodeField, r.sotw[t]!, strField(1, response.version), strField(5, response.nonce)]);
    node.stream!.write(ack);
    const at = nowMs();
    if (node.acked !== ALL_TYPES) {
      node.acked |= 1 << t;
      if (node.acked === ALL_TYPES) {
        node.syncedAt = at;
        this.#synced++;
        if (this.#synced === this.#nodes.length) this.#reportSynced();
        else this.#openMore();
      }
    }
    if (t === LDS) {
      if (node.ldsAckedAt === 0) node.ldsAckedAt = at;
      node.lds = response.version;
      node.ldsResources = response.resources;
      node.ldsRemoved = response.removed;
      const armed = this.#armed;
      if (armed && node.changedAt === 0 && node.baseline !== response.version) {
        node.changedAt = at;
        if (--armed.pending === 0) this.#reportConverged();
      }
    }
  }

  #reportSynced(): void {
    const cpu = process.cpuUsage(this.#syncCpu);
    const report: SyncReport = {
      nodes: this.#nodes.length,
      sotw: this.#nodes.filter((n) => !n.delta).length,
      delta: this.#nodes.filter((n) => n.delta).length,
      connections: this.#sessions.length,
      startedAt: this.#startedAt,
      finishedAt: Math.max(this.#startedAt, ...this.#nodes.map((n) => n.syncedAt)),
      syncMs: this.#nodes.map((n) => n.syncedAt - n.openedAt),
      ldsAckedAt: this.#nodes.map((n) => n.ldsAckedAt),
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    send({ op: 'synced', report });
  }

  arm(id: string): void {
    for (const node of this.#nodes) {
      node.baseline = node.lds;
      node.changedAt = 0;
    }
    this.#armed = { id, pending: this.#nodes.length, cpu: process.cpuUsage(), reported: false };
    this.#loopDelay.reset();
    this.#loopDelay.enable();
    send({ op: 'armed', id });
    if (this.#nodes.length === 0) this.#reportConverged();
  }

  /** Sends what the armed measurement saw; called when every node changed, or when asked. */
  #reportConverged(): void {
    const armed = this.#armed;
    if (!armed || armed.reported) return;
    armed.reported = true;
    this.#loopDelay.disable();
    const cpu = process.cpuUsage(armed.cpu);
    const result: Convergence = {
      id: armed.id,
      ackTimes: this.#nodes.filter((n) => n.changedAt > 0).map((n) => n.changedAt),
      pending: armed.pending,
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopDelayP99Ms: this.#loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: this.#loopDelay.max / 1e6,
    };
    send({ op: 'converged', result });
  }

  report(id: string): void {
    if (this.#armed?.id === id) this.#reportConverged();
  }

  /** Whether the streams opened now are still watched (no outage or close since). */
  #watching(): () => boolean {
    const generation = this.#generation;
    return () => !this.#closing && generation === this.#generation;
  }

  /** The control plane is going away: its streams' errors are expected. */
  outage(): void {
    this.#generation++;
    send({ op: 'outage' });
  }

  /** Every node opens its stream again, to the control plane on `port`, within `jitterMs`. */
  reconnect(port: number, jitterMs: number): void {
    this.#generation++;
    this.#jitterMs = jitterMs;
    for (const session of this.#sessions) session.destroy();
    this.#sessions.length = 0;
    this.#port = port;
    this.#window = Number.POSITIVE_INFINITY;
    this.#opened = 0;
    this.#synced = 0;
    for (const node of this.#nodes) {
      node.reader = new GrpcFrameReader();
      node.acked = 0;
      node.syncedAt = 0;
      node.ldsAckedAt = 0;
      node.ldsResources = 0;
      node.ldsRemoved = 0;
    }
    this.connect();
  }

  /** What each node's latest LDS response held. */
  ldsState(): void {
    send({
      op: 'lds-state',
      nodes: this.#nodes.map((n) => ({ index: n.index, delta: n.delta, version: n.lds, resources: n.ldsResources, removed: n.ldsRemoved })),
    });
  }

  #fail(message: string): void {
    if (this.#closing) return;
    this.#failures++;
    if (this.#failures <= MAX_FAILURES_REPORTED) send({ op: 'failure', message });
  }

  close(): void {
    this.#closing = true;
    for (const node of this.#nodes) node.stream?.close(http2.constants.NGHTTP2_CANCEL);
    for (const session of this.#sessions) session.destroy();
  }
}

let fleet: Fleet | undefined;

process.on('message', (message: ToWorker) => {
  switch (message.op) {
    case 'connect':
      fleet = new Fleet(message.options);
      fleet.connect();
      break;
    case 'arm':
      fleet?.arm(message.id);
      break;
    case 'report':
      fleet?.report(message.id);
      break;
    case 'outage':
      fleet?.outage();
      break;
    case 'reconnect':
      fleet?.reconnect(message.port, message.jitterMs);
      break;
    case 'lds-state':
      fleet?.ldsState();
      break;
    case 'close':
      fleet?.close();
      send({ op: 'closed' });
      process.disconnect?.();
      setTimeout(() => process.exit(0), 100).unref();
      break;
  }
});
process.on('disconnect', () => {
  fleet?.close();
  setTimeout(() => process.exit(0), 100).unref();
});
