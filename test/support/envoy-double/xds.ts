/**
 * The Envoy test double's side of SotW ADS: one aggregated stream to the control plane, used the
 * way Envoy uses it. Sources: ../shared/ENVOY-FACTS.md "xDS protocol" and Envoy's xDS docs
 * (api-docs/xds_protocol), with the Envoy source files named where they decide the detail.
 *
 * - Subscription order as Envoy's initialization makes it: CDS (wildcard) first; EDS for the
 *   clusters of type EDS (by eds_cluster_config.service_name, else the cluster name); once the
 *   clusters are initialized, LDS (wildcard); then RDS for the route_config_names the listeners
 *   name. A subscription a response leads to is requested before that response is ACKed (the
 *   LDS request before the CDS ACK, RDS before the LDS ACK). Server states follow:
 *   PRE_INITIALIZING until the clusters are in, INITIALIZING while the listeners wait for their
 *   routes, then LIVE (source/server/server.cc; the init manager's targets). Seen on Envoy
 *   1.36.2, 1.37.0 and 1.40.0, SotW and Delta (test/e2e-envoy/scripted-ads.test.ts).
 * - Every response is ACKed (version_info + nonce, and the subscribed names) when all of its
 *   resources decode; otherwise it is NACKed with the last accepted version and an error_detail
 *   (code INTERNAL), and nothing of it is applied: Envoy keeps its last good config.
 * - The node goes on the first request of each stream only when set_node_on_first_message_only
 *   is set; on every request otherwise.
 * - A dropped stream is retried with jittered exponential backoff, 500 ms doubling up to 30 s
 *   (grpc_stream.h RETRY_INITIAL_DELAY_MS / RETRY_MAX_DELAY_MS), reset once a response arrives.
 *   The new stream repeats each subscription in order with its last accepted version and no nonce
 *   (grpc_mux_impl.cc, establishNewStream). Meanwhile the last config keeps serving.
 * - A response for a type the double never subscribed to is ignored, as Envoy ignores unwatched
 *   types.
 *
 * NACK texts follow Envoy's: a resource that does not decode as the response's type gives
 * "Unable to unpack as <type>: ..." (MessageUtil::unpackTo); a bad listener or cluster gives
 * "Error adding/updating listener(s) <names>: ..." (lds_api.cc) / "Error adding/updating
 * cluster(s) ..." (cds_api_helper.cc); a repeated name "duplicate listener <name> found".
 */
import { messageToJson } from '../../../src/resource/json-mapping.js';
import { envoyProtos } from '../../../src/resource/protos.js';
import { openSotwStream, TYPE, type DecodedResource, type NodeIdentity, type SotwResponse, type SotwStream } from '../ads-client.js';
import type { EventSink, ServerState, XdsKind } from './events.js';
import type { ListenerResource, ListenerSet } from './listeners.js';

export interface AdsSessionOptions {
  address: string;
  node: NodeIdentity;
  nodeOnFirstMessageOnly: boolean;
  listeners: ListenerSet;
  events: EventSink;
  /** Called when the server's initialization moves on (to INITIALIZING, then LIVE). */
  onState(state: ServerState): void;
}

interface Subscription {
  kind: XdsKind;
  names: string[];
  /** version_info of the last accepted response; '' before one. */
  version: string;
  /** Nonce of the last response on the current stream; '' on a new stream. */
  nonce: string;
}

/** A resource that decoded: its name, its bytes as sent, and its canonical JSON. */
type DecodedOk = ListenerResource;

const TYPE_URL: Record<XdsKind, string> = { CDS: TYPE.CDS, EDS: TYPE.EDS, LDS: TYPE.LDS, RDS: TYPE.RDS };
const KIND = new Map<string, XdsKind>(Object.entries(TYPE_URL).map(([kind, url]) => [url, kind as XdsKind]));

const RETRY_INITIAL_DELAY_MS = 500;
const RETRY_MAX_DELAY_MS = 30_000;
/** setTimeout's largest delay: reads on a stream wait for as long as the stream lives. */
const FOREVER_MS = 2 ** 31 - 1;

export class AdsSession {
  /** In the order first subscribed, which is the order they are repeated on a new stream. */
  readonly #subscriptions = new Map<XdsKind, Subscription>();
  #stream: SotwStream | undefined;
  #attempt = 0;
  #clustersInitialized = false;
  #state: ServerState = 'PRE_INITIALIZING';

  constructor(private readonly options: AdsSessionOptions) {}

  start(): void {
    this.#connect();
  }

  #connect(): void {
    this.#attempt += 1;
    const stream = openSotwStream(this.options.address, { node: this.options.node });
    this.#stream = stream;
    this.options.events.record({ type: 'xds_stream_opened', address: this.options.address, attempt: this.#attempt });
    if (this.#subscriptions.size === 0) this.#subscriptions.set('CDS', { kind: 'CDS', names: [], version: '', nonce: '' });
    for (const sub of this.#subscriptions.values()) {
      sub.nonce = '';
      // An empty name list opens a wildcard subscription on a new stream: only CDS and LDS have one.
      if (sub.names.length > 0 || sub.kind === 'CDS' || sub.kind === 'LDS') this.#request(sub);
    }
    void this.#read(stream);
    void stream.closed.then((status) => {
      const retryInMs = Math.floor(Math.random() * Math.min(RETRY_INITIAL_DELAY_MS * 2 ** (this.#attempt - 1), RETRY_MAX_DELAY_MS));
      this.options.events.record({ type: 'xds_stream_closed', code: status.code, details: status.details, retry_in_ms: retryInMs });
      setTimeout(() => this.#connect(), retryInMs);
    });
  }

  async #read(stream: SotwStream): Promise<void> {
    for (;;) {
      let res: SotwResponse;
      try {
        res = await stream.next(undefined, FOREVER_MS);
      } catch {
        return; // the stream ended; `closed` schedules the retry
      }
      this.#attempt = 0;
      this.#onResponse(res);
    }
  }

  #onResponse(res: SotwResponse): void {
    const kind = KIND.get(res.type_url);
    const sub = kind && this.#subscriptions.get(kind);
    if (!sub) {
      process.stderr.write(`envoy double: ignoring a response of unwatched type ${res.type_url}\n`);
      return;
    }
    const decoded = decodeAll(res, sub.kind);
    sub.nonce = res.nonce;
    if ('error' in decoded) {
      this.#request(sub, decoded.error);
      this.options.events.record({
        type: 'xds_nack',
        resource_type: sub.kind,
        rejected_version: res.version_info,
        nonce: res.nonce,
        error: decoded.error,
      });
      return;
    }
    if (sub.kind === 'LDS') this.options.listeners.apply(decoded.resources, res.version_info);
    sub.version = res.version_info;
    this.#afterAccepted(sub.kind, decoded.resources);
    this.#request(sub);
    this.options.events.record({
      type: 'xds_ack',
      resource_type: sub.kind,
      version: res.version_info,
      nonce: res.nonce,
      resources: decoded.resources.map((r) => r.name),
    });
  }

  /** Follow-up subscriptions and initialization steps, in Envoy's order, before the ACK. */
  #afterAccepted(kind: XdsKind, resources: DecodedOk[]): void {
    switch (kind) {
      case 'CDS': {
        const edsNames = resources.filter((c) => c.json['type'] === 'EDS').map(edsServiceName).sort();
        if (edsNames.length > 0 || this.#subscriptions.has('EDS')) this.#subscribe('EDS', edsNames);
        if (edsNames.length === 0) this.#clustersReady();
        break;
      }
      case 'EDS':
        this.#clustersReady();
        break;
      case 'LDS': {
        const routes = this.options.listeners.routeConfigNames();
        if (routes.length > 0 || this.#subscriptions.has('RDS')) this.#subscribe('RDS', routes);
        if (routes.length === 0) this.#setState('LIVE');
        break;
      }
      case 'RDS':
        this.#setState('LIVE');
        break;
    }
  }

  #clustersReady(): void {
    if (this.#clustersInitialized) return;
    this.#clustersInitialized = true;
    this.#setState('INITIALIZING');
    this.#subscribe('LDS', []);
  }

  #setState(state: ServerState): void {
    if (this.#state === state || this.#state === 'LIVE') return;
    this.#state = state;
    this.options.onState(state);
  }

  /** Subscribes, or changes the names of a subscription; a request only when something changed. */
  #subscribe(kind: XdsKind, names: string[]): void {
    const sub = this.#subscriptions.get(kind);
    if (!sub) {
      const created = { kind, names, version: '', nonce: '' };
      this.#subscriptions.set(kind, created);
      this.#request(created);
    } else if (sub.names.join('\n') !== names.join('\n')) {
      sub.names = names;
      this.#request(sub);
    }
  }

  /**
   * A DiscoveryRequest for the subscription: its names, its last accepted version and the nonce of
   * the last response (so after a response it is the ACK, or with an error the NACK).
   */
  #request(sub: Subscription, error?: string): void {
    this.#stream?.send({
      type_url: TYPE_URL[sub.kind],
      version_info: sub.version,
      resource_names: sub.names,
      ...(sub.nonce && { response_nonce: sub.nonce }),
      ...(error !== undefined && { error_detail: { message: error } }),
      ...(!this.options.nodeOnFirstMessageOnly && { node: this.options.node }),
    });
  }
}

/** Every resource of the response as canonical JSON, or the NACK message Envoy would send. */
function decodeAll(res: SotwResponse, kind: XdsKind): { resources: DecodedOk[] } | { error: string } {
  const protos = envoyProtos();
  const typeName = res.type_url.slice(res.type_url.lastIndexOf('/') + 1);
  const type = protos.type(typeName);
  const resources: DecodedOk[] = [];
  const seen = new Set<string>();
  for (const r of res.resources) {
    if (r.decode_error || r.type_url !== res.type_url) return { error: unpackError(typeName, r) };
    let json: Record<string, unknown>;
    try {
      json = messageToJson(protos, type, r.bytes);
    } catch (err) {
      return { error: resourceError(kind, [r.name], (err as Error).message) };
    }
    if (seen.has(r.name) && (kind === 'LDS' || kind === 'CDS')) {
      return { error: resourceError(kind, [r.name], `duplicate ${kind === 'LDS' ? 'listener' : 'cluster'} ${r.name} found`) };
    }
    seen.add(r.name);
    resources.push({ name: r.name, bytes: r.bytes, json });
  }
  return { resources };
}

function unpackError(typeName: string, r: DecodedResource): string {
  const why = r.type_url !== '' && !r.decode_error ? `type_url ${r.type_url} does not match` : (r.decode_error ?? 'undecodable');
  return `Unable to unpack as ${typeName}: ${why}`;
}

function resourceError(kind: XdsKind, names: string[], message: string): string {
  switch (kind) {
    case 'LDS':
      return `Error adding/updating listener(s) ${names.join(', ')}: ${message}`;
    case 'CDS':
      return `Error adding/updating cluster(s) ${names.join(', ')}: ${message}`;
    default:
      return message;
  }
}

function edsServiceName(cluster: DecodedOk): string {
  const config = cluster.json['eds_cluster_config'] as { service_name?: string } | undefined;
  return config?.service_name || cluster.name;
}
