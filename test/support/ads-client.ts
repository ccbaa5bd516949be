/**
 * A raw xDS client for protocol tests: it speaks to the control plane the way Envoy does, one
 * gRPC stream per object, and hands every response back decoded but otherwise untouched.
 *
 * It shares no code with the server under test on the wire: the discovery services are loaded
 * here with @grpc/proto-loader and called through grpc-js's generated clients. Only the decoding
 * of resource bodies uses the project's proto registry, which is a plain copy of Envoy's API.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { envoyProtos } from '../../src/resource/protos.js';
import { deltaChecker, sotwChecker, type ProtocolChecker } from './protocol-checker.js';

export const TYPE = {
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  SDS: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type XdsService = 'ads' | 'lds' | 'cds' | 'rds' | 'eds' | 'sds';

/**
 * How long a test waits for a response from a server on loopback: it comes in milliseconds, and
 * only a failing test waits this out; the rest is margin for a machine busy with other suites.
 */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Sent on the first request of a stream whose caller does not name a node. */
export const DEFAULT_NODE: NodeIdentity = { id: 'test-envoy', cluster: 'test-cluster' };

export interface NodeIdentity {
  id: string;
  cluster: string;
  metadata?: Record<string, string>;
  locality?: { region?: string; zone?: string; sub_zone?: string };
  user_agent_name?: string;
  user_agent_version?: string;
}

export interface DecodedResource {
  /** The name inside the message (`name`, or `cluster_name` for a ClusterLoadAssignment). */
  name: string;
  type_url: string;
  /** The serialized message exactly as the server sent it, for byte comparisons across pushes. */
  bytes: Buffer;
  /** The decoded message as a plain object (snake_case fields, longs and enums as strings). */
  message: Record<string, unknown>;
  /** Why the body could not be decoded; the protocol checker reports it as a violation. */
  decode_error?: string;
}

export interface SotwResponse {
  version_info: string;
  nonce: string;
  type_url: string;
  resources: DecodedResource[];
}

export interface DeltaResponse {
  system_version_info: string;
  nonce: string;
  type_url: string;
  resources: { name: string; version: string; resource: DecodedResource }[];
  removed_resources: string[];
}

export interface StreamStatus {
  code: number;
  details: string;
}

export interface ErrorDetail {
  /** Defaults to INTERNAL (13), the code Envoy puts in its NACKs. */
  code?: number;
  message: string;
}

export interface StreamOptions {
  service?: XdsService;
  /** The node sent automatically on the first request; defaults to DEFAULT_NODE. */
  node?: NodeIdentity;
  /** TLS and client certificates; plaintext by default. */
  credentials?: grpc.ChannelCredentials;
  /** e.g. `grpc.ssl_target_name_override`, to check a server certificate against a name rather than the address. */
  channelOptions?: grpc.ChannelOptions;
}

export interface SotwRequest {
  /** Defaults to the service's resource type on a per-type service; pass '' to send none. */
  type_url?: string;
  version_info?: string;
  resource_names?: string[];
  response_nonce?: string;
  error_detail?: ErrorDetail;
  /** Omitted: the stream's node on the first request only, as Envoy does. null: never sent. */
  node?: NodeIdentity | null;
}

export interface DeltaRequest {
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: ErrorDetail;
  node?: NodeIdentity | null;
}

interface ResponseReader<R> {
  /**
   * Resolves with the oldest response not yet returned (of typeUrl, if given: responses of other
   * types stay queued for their own next() calls). Rejects after timeoutMs, or when the stream ends.
   */
  next(typeUrl?: string, timeoutMs?: number): Promise<R>;
  /**
   * Resolves when no response (of typeUrl, if given) arrives within ms. A matching response that
   * arrived earlier but was never read counts too, and rejects at once. Rejections describe the
   * unexpected response; it stays queued for next().
   */
  expectSilence(ms: number, typeUrl?: string): Promise<void>;
  /** Every response ever received, in order, read or not. */
  readonly responses: R[];
  /** Protocol-rule violations seen in the responses so far (see protocol-checker.ts). */
  violations(): string[];
  /** Resolves with the gRPC status when the stream ends, after every response was delivered. */
  readonly closed: Promise<StreamStatus>;
  /** Half-closes the stream: the client sends no more requests. */
  end(): void;
  /** Cancels the stream (the server sees CANCELLED). */
  close(): void;
}

export interface SotwStream extends ResponseReader<SotwResponse> {
  send(req: SotwRequest): void;
  /** ACKs res. resourceNames defaults to the names last requested for its type. */
  ack(res: SotwResponse, resourceNames?: string[]): void;
  /** NACKs res, reporting lastGoodVersion (the version last ACKed, '' if none). */
  nack(res: SotwResponse, lastGoodVersion: string, message: string, resourceNames?: string[]): void;
}

export interface DeltaStream extends ResponseReader<DeltaResponse> {
  send(req: DeltaRequest): void;
  ack(res: DeltaResponse): void;
  nack(res: DeltaResponse, message: string): void;
}

export function openSotwStream(address: string, opts: StreamOptions = {}): SotwStream {
  const service = opts.service ?? 'ads';
  const base = openStream(address, service, 'sotw', opts, decodeSotw, sotwChecker(), describeSotw);
  // What the stream last asked for, per type: Envoy repeats its subscription in every ACK/NACK.
  const subscribed = new Map<string, string[]>();
  const send = (req: SotwRequest): void => {
    const message = base.prepare(req);
    if (req.resource_names) subscribed.set(String((message.type_url as string | undefined) ?? ''), [...req.resource_names]);
    base.write(message);
  };
  const reply = (res: SotwResponse, version: string, names: string[] | undefined, error?: ErrorDetail): void =>
    send({
      type_url: res.type_url,
      version_info: version,
      resource_names: names ?? subscribed.get(res.type_url) ?? [],
      response_nonce: res.nonce,
      ...(error && { error_detail: error }),
    });
  return {
    ...base.reader,
    send,
    ack: (res, names) => reply(res, res.version_info, names),
    nack: (res, lastGoodVersion, message, names) => reply(res, lastGoodVersion, names, { message }),
  };
}

export function openDeltaStream(address: string, opts: StreamOptions = {}): DeltaStream {
  const service = opts.service ?? 'ads';
  const base = openStream(address, service, 'delta', opts, decodeDelta, deltaChecker(), describeDelta);
  const send = (req: DeltaRequest): void => base.write(base.prepare(req));
  return {
    ...base.reader,
    send,
    ack: (res) => send({ type_url: res.type_url, response_nonce: res.nonce }),
    nack: (res, message) => send({ type_url: res.type_url, response_nonce: res.nonce, error_detail: { message } }),
  };
}

// ---------------------------------------------------------------------------------------------
// Service definitions

/** Each service's stream methods; per-type services also imply the type URL of their requests. */
const SERVICES: Record<XdsService, { name: string; sotw: string; delta: string; typeUrl?: string }> = {
  ads: {
    name: 'envoy.service.discovery.v3.AggregatedDiscoveryService',
    sotw: 'StreamAggregatedResources',
    delta: 'DeltaAggregatedResources',
  },
  lds: {
    name: 'envoy.service.listener.v3.ListenerDiscoveryService',
    sotw: 'StreamListeners',
    delta: 'DeltaListeners',
    typeUrl: TYPE.LDS,
  },
  cds: {
    name: 'envoy.service.cluster.v3.ClusterDiscoveryService',
    sotw: 'StreamClusters',
    delta: 'DeltaClusters',
    typeUrl: TYPE.CDS,
  },
  rds: {
    name: 'envoy.service.route.v3.RouteDiscoveryService',
    sotw: 'StreamRoutes',
    delta: 'DeltaRoutes',
    typeUrl: TYPE.RDS,
  },
  eds: {
    name: 'envoy.service.endpoint.v3.EndpointDiscoveryService',
    sotw: 'StreamEndpoints',
    delta: 'DeltaEndpoints',
    typeUrl: TYPE.EDS,
  },
  sds: {
    name: 'envoy.service.secret.v3.SecretDiscoveryService',
    sotw: 'StreamSecrets',
    delta: 'DeltaSecrets',
    typeUrl: TYPE.SDS,
  },
};

const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/listener/v3/lds.proto',
  'envoy/service/cluster/v3/cds.proto',
  'envoy/service/route/v3/rds.proto',
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/secret/v3/sds.proto',
];

let discovery: grpc.GrpcObject | undefined;

/**
 * The generated client class of a discovery service. Exported so that fake servers in tests can
 * implement the same service (`server.addService(discoveryService('ads').service, ...)`).
 */
export function discoveryService(service: XdsService): grpc.ServiceClientConstructor {
  discovery ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO_FILES, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: false,
      oneofs: true,
      includeDirs: protoRoots(),
    }),
  );
  let found: unknown = discovery;
  for (const part of SERVICES[service].name.split('.')) found = (found as grpc.GrpcObject | undefined)?.[part];
  if (typeof found !== 'function') throw new Error(`${SERVICES[service].name} missing from the loaded protos`);
  return found as grpc.ServiceClientConstructor;
}

function protoRoots(): string[] {
  const pkg = createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json');
  const deps = path.join(path.dirname(pkg), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((r) => path.join(deps, r));
}

// ---------------------------------------------------------------------------------------------
// The stream machinery shared by SotW and Delta

/** Messages as proto-loader produces them: proto3 defaults (empty strings, lists) are absent. */
interface RawAny {
  type_url?: string;
  value?: Uint8Array;
}
interface RawSotwResponse {
  version_info?: string;
  nonce?: string;
  type_url?: string;
  resources?: RawAny[];
}
interface RawDeltaResponse {
  system_version_info?: string;
  nonce?: string;
  type_url?: string;
  resources?: { name?: string; version?: string; resource?: RawAny }[];
  removed_resources?: string[];
}
type RawRequest = Record<string, unknown>;

interface OpenedStream<R> {
  reader: ResponseReader<R>;
  /** The request as sent on the wire: default type URL, node on the first request, NACK code. */
  prepare(req: SotwRequest | DeltaRequest): RawRequest;
  write(message: RawRequest): void;
}

function openStream<Raw, R extends { type_url: string }>(
  address: string,
  service: XdsService,
  kind: 'sotw' | 'delta',
  { node, credentials, channelOptions }: StreamOptions,
  decode: (raw: Raw) => R,
  checker: ProtocolChecker<R>,
  describe: (res: R) => string,
): OpenedStream<R> {
  // Load everything before the first timer starts: the Envoy registry takes a few hundred ms,
  // which must not eat into a caller's next() timeout.
  envoyProtos();
  const Client = discoveryService(service);
  const method = Client.service[SERVICES[service][kind]]!;
  const client = new Client(address, credentials ?? grpc.credentials.createInsecure(), channelOptions);
  const call = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
  const inbox = new Inbox<R>(describe);

  call.on('data', (raw: unknown) => {
    const res = decode(raw as Raw);
    checker.check(res);
    inbox.push(res);
  });
  // A non-OK status is emitted as 'error' as well as 'status'; 'status' is the one handled.
  call.on('error', () => {});
  // grpc-js emits 'status' as soon as the status arrives, possibly before buffered responses were
  // delivered as 'data'; the readable side's 'end' comes after the last of them.
  const status = new Promise<StreamStatus>((resolve) => call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details })));
  const drained = new Promise<void>((resolve) => call.on('end', resolve));
  const closed = Promise.all([status, drained]).then(([s]) => {
    inbox.end(`stream closed with status ${s.code} ${grpc.status[s.code] ?? ''}: ${s.details}`);
    client.close();
    return s;
  });

  let first = true;
  let ended = false;
  return {
    reader: {
      next: (typeUrl, timeoutMs = DEFAULT_TIMEOUT_MS) => inbox.next(typeUrl, timeoutMs),
      expectSilence: (ms, typeUrl) => inbox.expectSilence(ms, typeUrl),
      responses: inbox.received,
      violations: () => checker.violations(),
      closed,
      end: () => {
        ended = true;
        call.end();
      },
      close: () => call.cancel(),
    },
    prepare(req) {
      const { node: requested, error_detail, ...fields } = req;
      const message: RawRequest = { ...fields };
      message.type_url ??= SERVICES[service].typeUrl;
      const sent = requested === undefined ? (first ? (node ?? DEFAULT_NODE) : undefined) : requested;
      if (sent) message.node = nodeMessage(sent);
      if (error_detail) {
        message.error_detail = { code: error_detail.code ?? grpc.status.INTERNAL, message: error_detail.message };
      }
      first = false;
      return message;
    },
    write(message) {
      if (ended) throw new Error('request sent after end() half-closed the stream');
      call.write(message);
    },
  };
}

function nodeMessage(node: NodeIdentity): RawRequest {
  const message: RawRequest = { id: node.id, cluster: node.cluster };
  if (node.metadata) {
    // google.protobuf.Struct comes from protobufjs's bundled well-known types, whose fields are
    // camelCase (stringValue) even with keepCase; a snake_case key would be dropped silently.
    const fields = Object.fromEntries(Object.entries(node.metadata).map(([k, v]) => [k, { stringValue: v }]));
    message.metadata = { fields };
  }
  if (node.locality) message.locality = { ...node.locality };
  if (node.user_agent_name !== undefined) message.user_agent_name = node.user_agent_name;
  if (node.user_agent_version !== undefined) message.user_agent_version = node.user_agent_version;
  return message;
}

/**
 * Responses waiting to be read, and the readers waiting for them. Kept apart from gRPC so the
 * matching rules (per type URL, oldest first) live in one place.
 */
class Inbox<R extends { type_url: string }> {
  readonly received: R[] = [];
  private readonly unread: R[] = [];
  private readonly readers: { typeUrl?: string; deliver(res: R): void; fail(err: Error): void }[] = [];
  private readonly watchers = new Set<(res: R) => void>();
  private endReason: string | undefined;

  constructor(private readonly describe: (res: R) => string) {}

  push(res: R): void {
    this.received.push(res);
    for (const watch of this.watchers) watch(res);
    const i = this.readers.findIndex((r) => matches(r.typeUrl, res));
    if (i >= 0) this.readers.splice(i, 1)[0]!.deliver(res);
    else this.unread.push(res);
  }

  end(reason: string): void {
    this.endReason = reason;
    for (const reader of this.readers.splice(0)) reader.fail(new Error(reason));
  }

  next(typeUrl: string | undefined, timeoutMs: number): Promise<R> {
    const i = this.unread.findIndex((res) => matches(typeUrl, res));
    if (i >= 0) return Promise.resolve(this.unread.splice(i, 1)[0]!);
    if (this.endReason) return Promise.reject(new Error(`no ${label(typeUrl)} response: ${this.endReason}`));
    return new Promise((resolve, reject) => {
      const reader = {
        typeUrl,
        deliver: (res: R) => {
          clearTimeout(timer);
          resolve(res);
        },
        fail: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.readers.splice(this.readers.indexOf(reader), 1);
        reject(new Error(`no ${label(typeUrl)} response within ${timeoutMs} ms${this.unreadSummary()}`));
      }, timeoutMs);
      this.readers.push(reader);
    });
  }

  expectSilence(ms: number, typeUrl: string | undefined): Promise<void> {
    const early = this.unread.find((res) => matches(typeUrl, res));
    if (early) {
      return Promise.reject(new Error(`expected no ${label(typeUrl)} response, but one is unread: ${this.describe(early)}`));
    }
    return new Promise((resolve, reject) => {
      const watch = (res: R): void => {
        if (!matches(typeUrl, res)) return;
        clearTimeout(timer);
        this.watchers.delete(watch);
        reject(new Error(`expected no ${label(typeUrl)} response for ${ms} ms, got ${this.describe(res)}`));
      };
      const timer = setTimeout(() => {
        this.watchers.delete(watch);
        resolve();
      }, ms);
      this.watchers.add(watch);
    });
  }

  private unreadSummary(): string {
    return this.unread.length === 0 ? '' : `; unread: ${this.unread.map(this.describe).join('; ')}`;
  }
}

function matches(typeUrl: string | undefined, res: { type_url: string }): boolean {
  return typeUrl === undefined || res.type_url === typeUrl;
}

/** "LDS" for the four well-known types, the URL otherwise; "any" when no type was asked for. */
function label(typeUrl: string | undefined): string {
  if (typeUrl === undefined) return 'any';
  return Object.entries(TYPE).find(([, url]) => url === typeUrl)?.[0] ?? typeUrl;
}

// ---------------------------------------------------------------------------------------------
// Decoding

const TO_OBJECT: { longs: StringConstructor; enums: StringConstructor; defaults: boolean } = {
  longs: String,
  enums: String,
  defaults: false,
};

/** Decodes an Any; failures become decode_error rather than exceptions inside a stream handler. */
export function decodeAny(any: RawAny): DecodedResource {
  const type_url = any.type_url ?? '';
  const bytes = Buffer.isBuffer(any.value) ? any.value : Buffer.from(any.value ?? []);
  const type = envoyProtos().typeFromUrl(type_url);
  if (!type) return { name: '', type_url, bytes, message: {}, decode_error: `unknown type URL "${type_url}"` };
  try {
    const message = type.toObject(type.decode(bytes), TO_OBJECT);
    return { name: resourceName(message), type_url, bytes, message };
  } catch (err) {
    return { name: '', type_url, bytes, message: {}, decode_error: `undecodable ${type.fullName}: ${String(err)}` };
  }
}

function resourceName(message: Record<string, unknown>): string {
  const name = message.name ?? message.cluster_name;
  return typeof name === 'string' ? name : '';
}

function decodeSotw(raw: RawSotwResponse): SotwResponse {
  return {
    version_info: raw.version_info ?? '',
    nonce: raw.nonce ?? '',
    type_url: raw.type_url ?? '',
    resources: (raw.resources ?? []).map(decodeAny),
  };
}

function decodeDelta(raw: RawDeltaResponse): DeltaResponse {
  return {
    system_version_info: raw.system_version_info ?? '',
    nonce: raw.nonce ?? '',
    type_url: raw.type_url ?? '',
    resources: (raw.resources ?? []).map((r) => ({
      name: r.name ?? '',
      version: r.version ?? '',
      // A Resource without a body is only legal as a TTL heartbeat, which drainplane never sends.
      resource: r.resource
        ? decodeAny(r.resource)
        : { name: '', type_url: '', bytes: Buffer.alloc(0), message: {}, decode_error: 'resource has no body' },
    })),
    removed_resources: raw.removed_resources ?? [],
  };
}

function describeSotw(res: SotwResponse): string {
  const names = res.resources.map((r) => r.name).join(', ');
  return `${label(res.type_url)} response version "${res.version_info}" nonce "${res.nonce}" [${names}]`;
}

function describeDelta(res: DeltaResponse): string {
  const names = res.resources.map((r) => `${r.name}@${r.version}`).join(', ');
  return `${label(res.type_url)} delta response nonce "${res.nonce}" +[${names}] -[${res.removed_resources.join(', ')}]`;
}
