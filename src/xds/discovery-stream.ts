import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { NodeIdentity } from '../cache/node.js';
import type { ConfigWatcher } from '../cache/snapshot-cache.js';
import type { Snapshot, TypeSnapshot } from '../cache/snapshot.js';
import { PUSH_ORDER, isXdsTypeUrl, type XdsTypeUrl } from '../resource/type-urls.js';
import { resetCall } from './call-reset.js';
import type { SendQueueOverflow, StreamInfo, StreamProtocol, XdsEvents } from './events.js';
import type { StreamLimits } from './limits.js';
import type { NackLedger } from './nack-ledger.js';
import type { RawNode } from './requests.js';
import type { BudgetedStream, SendBudget } from './send-budget.js';
import type { ResponsePlan, TypeSubscription } from './subscription.js';
import { clip, truncateText } from './truncate.js';

/** The request fields the driver reads; the rest belongs to the protocol's subscriptions. */
export interface DiscoveryRequestBase {
  readonly typeUrl: string;
  readonly node: RawNode | undefined;
  readonly resourceCount: number;
}

export interface StreamDeps {
  readonly watcher: ConfigWatcher;
  readonly events: XdsEvents;
  readonly ledger: NackLedger;
  readonly limits: StreamLimits;
  /** The bound on bytes unread over all the server's streams. */
  readonly sendBudget: SendBudget;
  readonly authorizeNode?: NodeAuthorizer;
}

/**
 * Whether the peer of a stream may speak for the node its first request names: undefined lets
 * it in, a string is the reason it is refused. `certificate` is the client certificate the TLS
 * handshake verified, if there was one.
 */
export type NodeAuthorizer = (node: ClaimedNode, certificate: PeerCertificate | undefined) => string | undefined;

/** What a node says it is; the metrics service sink knows no more of it than this. */
export type ClaimedNode = Pick<NodeIdentity, 'id' | 'cluster'>;

export interface StreamKind<Req> {
  readonly protocol: StreamProtocol;
  /** Set for a per-type service (LDS, CDS, ...); undefined for ADS. */
  readonly fixedType: XdsTypeUrl | undefined;
  createSubscription(typeUrl: XdsTypeUrl): TypeSubscription<Req>;
}

type DuplexCall = grpc.ServerDuplexStream<unknown, Buffer>;

/** A response to send: its plan, the snapshot it was planned from, and whether that is a fallback. */
interface Planned {
  readonly plan: ResponsePlan;
  readonly snapshot: TypeSnapshot;
  readonly fallback: boolean;
}

let nextStreamId = 1;

/** Unserved type URLs a stream remembers having reported; later ones are ignored without a word. */
const MAX_IGNORED_TYPES = 16;

/**
 * Drives one discovery stream, SotW or Delta, aggregated or per type: takes the node from the
 * first request, watches its desired snapshot, hands each request to its type's subscription,
 * and sends what each subscription plans, in CDS, EDS, LDS, RDS order on aggregated streams.
 * Every piece of state the stream owns lives here and is released in `#close`.
 */
export class DiscoveryStream<Req extends DiscoveryRequestBase> implements BudgetedStream {
  readonly #id = nextStreamId++;
  readonly #subscriptions = new Map<XdsTypeUrl, TypeSubscription<Req>>();
  /** Last content key reported as parked, per type, so a parked type is reported once. */
  readonly #parkedReported = new Map<XdsTypeUrl, string>();
  readonly #ignoredTypes = new Set<string>();
  /** Per type, what the response awaiting its reply carried, and whether it was a fallback. */
  readonly #inFlight = new Map<XdsTypeUrl, Pick<Planned, 'snapshot' | 'fallback'>>();
  /** Per type, the content the node last ACKed on this stream (a NACK keeps it as the fallback). */
  readonly #accepted = new Map<XdsTypeUrl, TypeSnapshot>();
  /** Types whose client runs a fallback (what its node last accepted) while a rejection stands. */
  readonly #servingFallback = new Set<XdsTypeUrl>();
  #info: StreamInfo | undefined;
  #snapshot: Snapshot | undefined;
  #unwatch: (() => void) | undefined;
  /** The highest nonce (by its place in the server-wide sequence) this stream has used. */
  #nonceSeq = 0;
  /**
   * Bytes written to the call that HTTP/2 has not sent yet: the node is not reading them. They
   * stay counted after the stream ended with a status (which waits behind them) until the call
   * closes or is reset, when they are dropped.
   */
  #queuedBytes = 0;
  #queueDropped = false;
  #closed = false;

  constructor(
    private readonly call: DuplexCall,
    private readonly kind: StreamKind<Req>,
    private readonly deps: StreamDeps,
    private readonly onClosed: () => void = () => {},
  ) {
    call.on('data', (request: Req) => this.#onRequest(request));
    call.on('end', () => this.#close());
    call.on('cancelled', () => this.#close());
    call.on('error', () => this.#close());
    call.on('close', () => {
      this.#close();
      this.#dropQueue();
    });
  }

  #onRequest(request: Req): void {
    if (this.#closed) return;
    if (!this.#info && !this.#start(request)) return;
    const typeUrl = this.#typeOf(request);
    if (!typeUrl) return;
    const { limits } = this.deps;
    if (request.resourceCount > limits.maxResourceNames) {
      this.#fail(grpc.status.INVALID_ARGUMENT, `a request names ${request.resourceCount} resources; at most ${limits.maxResourceNames} are allowed`);
      return;
    }
    let subscription = this.#subscriptions.get(typeUrl);
    if (!subscription) this.#subscriptions.set(typeUrl, (subscription = this.kind.createSubscription(typeUrl)));
    const outcome = subscription.apply(request);
    // Delta requests add to what the stream subscribes to: the bound holds for the sum too.
    if (subscription.nameCount > limits.maxResourceNames) {
      this.#fail(
        grpc.status.INVALID_ARGUMENT,
        `the stream subscribes to ${subscription.nameCount} resources of ${typeUrl}; at most ${limits.maxResourceNames} are allowed`,
      );
      return;
    }
    const info = this.#info!;
    const nodeId = info.node.id;
    const answered = outcome?.kind === 'ack' || outcome?.kind === 'nack' ? this.#inFlight.get(typeUrl) : undefined;
    if (answered) this.#inFlight.delete(typeUrl);
    switch (outcome?.kind) {
      case 'ack':
        if (answered) this.#accepted.set(typeUrl, answered.snapshot);
        this.deps.events.acked(info, typeUrl, outcome.version, outcome.nonce);
        if (answered?.fallback) {
          // Accepting the fallback is not accepting the config: the rejection stays in force.
          this.#servingFallback.add(typeUrl);
          this.deps.events.fallbackAccepted(info, typeUrl, outcome.version, this.deps.ledger.rejection(nodeId, typeUrl)?.version ?? '');
        } else {
          this.deps.ledger.accepted(nodeId, typeUrl);
        }
        break;
      case 'nack': {
        const record = {
          typeUrl,
          version: outcome.version,
          nonce: outcome.nonce,
          code: outcome.error.code,
          message: truncateText(outcome.error.message, limits.maxNackMessageBytes),
          at: new Date(),
        };
        if (!answered?.fallback) this.deps.ledger.reject(nodeId, outcome.contentKey, record, this.#accepted.get(typeUrl));
        this.deps.events.nacked(info, record);
        break;
      }
      case 'stale':
        this.deps.events.requestIgnored(info, `stale nonce ${clip(outcome.nonce)} for ${typeUrl}`);
        break;
      case undefined:
        break;
    }
    this.#pushAll();
  }

  /** Takes the node from the first request and starts watching its desired state. */
  #start(request: Req): boolean {
    let node: NodeIdentity | undefined;
    let nodeBytes = 0;
    try {
      const read = request.node?.read(this.deps.limits.maxNodeMetadataBytes);
      node = read?.identity;
      nodeBytes = read?.bytes ?? 0;
    } catch (err) {
      this.#fail(grpc.status.INVALID_ARGUMENT, `node could not be read: ${(err as Error).message}`);
      return false;
    }
    if (!node || node.id === '') {
      this.#fail(grpc.status.INVALID_ARGUMENT, 'the first request of a stream must carry node with a non-empty node.id');
      return false;
    }
    // Before the node is announced or watched: a refused node is never served, nor listed.
    const refusal = this.deps.authorizeNode?.(node, this.call.getAuthContext().sslPeerCertificate);
    if (refusal !== undefined) {
      this.deps.events.nodeRefused(node, this.call.getPeer(), refusal);
      this.#end(grpc.status.PERMISSION_DENIED, refusal);
      return false;
    }
    this.#info = {
      streamId: this.#id,
      node,
      protocol: this.kind.protocol,
      aggregated: this.kind.fixedType === undefined,
      peer: this.call.getPeer(),
      nodeBytes,
    };
    this.deps.events.streamOpened(this.#info);
    this.#unwatch = this.deps.watcher.watch(node.id, (snapshot) => {
      this.#snapshot = snapshot;
      this.#pushAll();
    });
    return true;
  }

  #typeOf(request: Req): XdsTypeUrl | undefined {
    const fixed = this.kind.fixedType;
    if (fixed) {
      if (request.typeUrl === '' || request.typeUrl === fixed) return fixed;
      this.#fail(grpc.status.INVALID_ARGUMENT, `type_url ${clip(request.typeUrl)} is not served on the ${fixed} service`);
      return undefined;
    }
    if (isXdsTypeUrl(request.typeUrl)) return request.typeUrl;
    // On ADS, a type drainplane does not serve (SDS secrets, say) must not end the stream that
    // carries the node's listeners: ignore it, and say so once.
    if (!this.#ignoredTypes.has(request.typeUrl) && this.#ignoredTypes.size < MAX_IGNORED_TYPES) {
      this.#ignoredTypes.add(request.typeUrl);
      this.deps.events.requestIgnored(this.#info, `type_url "${clip(request.typeUrl)}" is not served`);
    }
    return undefined;
  }

  /**
   * Sends every type that has something new, in push order. A type waits while its previous
   * response is unanswered; on ADS, later types wait behind it too, so a listener never
   * arrives before the cluster it needs.
   */
  #pushAll(): void {
    const snapshot = this.#snapshot;
    const info = this.#info;
    if (!snapshot || !info || this.#closed) return;
    for (const typeUrl of PUSH_ORDER) {
      const subscription = this.#subscriptions.get(typeUrl);
      if (!subscription) continue;
      const typeSnapshot = snapshot.get(typeUrl);
      if (subscription.awaitingReply) {
        if (info.aggregated && subscription.plan(typeSnapshot)) return;
        continue;
      }
      const planned = this.#plan(info, typeUrl, subscription, typeSnapshot);
      if (planned) this.#send(info, typeUrl, planned);
      const inSync = subscription.takeInSync();
      if (inSync !== undefined) this.deps.events.acked(info, typeUrl, inSync, '');
    }
  }

  /**
   * What to send of a type now, if anything. Content the node rejected is not sent again
   * (parking), except to a new process of the node, which has nothing: it gets what the node
   * last accepted or, where that is not known, the rejected content once (for LDS Envoy still
   * applies every listener it can), never nothing.
   */
  #plan(info: StreamInfo, typeUrl: XdsTypeUrl, subscription: TypeSubscription<Req>, desired: TypeSnapshot): Planned | undefined {
    const plan = subscription.plan(desired);
    const ledger = this.deps.ledger;
    const nodeId = info.node.id;
    if (!plan) {
      // The desired content is what the client runs: a fallback that became the config again.
      if (this.#servingFallback.delete(typeUrl)) {
        ledger.accepted(nodeId, typeUrl);
        this.deps.events.acked(info, typeUrl, desired.version, '');
      }
      return undefined;
    }
    // A new process is matched on the snapshot it would get, not on what a response carries:
    // its diff (Delta) holds every resource, where the rejected one held only the change.
    const rejection = subscription.fresh ? ledger.rejection(nodeId, typeUrl) : undefined;
    if (rejection?.version === desired.version) {
      const fallback = rejection.accepted && subscription.plan(rejection.accepted);
      if (!fallback) return { plan, snapshot: desired, fallback: false };
      return { plan: fallback, snapshot: rejection.accepted, fallback: true };
    }
    if (!ledger.isParked(nodeId, typeUrl, plan.contentKey)) {
      this.#servingFallback.delete(typeUrl);
      return { plan, snapshot: desired, fallback: false };
    }
    if (this.#parkedReported.get(typeUrl) !== plan.contentKey) {
      this.#parkedReported.set(typeUrl, plan.contentKey);
      this.deps.events.parked(info, typeUrl, plan.version);
    }
    return undefined;
  }

  #send(info: StreamInfo, typeUrl: XdsTypeUrl, { plan, snapshot, fallback }: Planned): void {
    const response = plan.respond(this.#nonceSeq);
    const { nonce, bytes } = response;
    const size = bytes.length;
    const limitBytes = this.deps.limits.maxQueuedBytes;
    if (this.#queuedBytes > 0 && this.#queuedBytes + size > limitBytes) {
      this.#overflow(info, { queuedBytes: this.#queuedBytes, responseBytes: size, limitBytes });
      return;
    }
    // Past the server-wide bound, the slowest streams are reset; perhaps this one.
    const budget = this.deps.sendBudget;
    if (!budget.admit(this, size)) return;
    this.#nonceSeq = response.seq;
    this.#queuedBytes += size;
    budget.queued(this, size);
    // grpc-js calls back once HTTP/2 took the message: a node that stops reading stops that.
    this.call.write(bytes, () => {
      if (this.#queueDropped) return;
      this.#queuedBytes -= size;
      budget.sent(this, size);
    });
    plan.commit(nonce);
    this.#inFlight.set(typeUrl, { snapshot, fallback });
    this.deps.events.responseSent(info, typeUrl, {
      version: plan.version,
      nonce,
      resources: plan.resources,
      removed: plan.removed,
    });
  }

  /** Ends the stream with status OK (the server is shutting down). */
  end(): void {
    this.#close();
  }

  /** Bytes written to the call that HTTP/2 has not sent yet. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * The server-wide bound on unread bytes is passed and this stream is among the slowest: reset
   * it (even if it already ended with a status, which waits behind the unread bytes).
   */
  shed(): StreamInfo | undefined {
    if (this.#queueDropped) return undefined;
    const info = this.#info;
    this.#reset('responses left unread by all nodes beyond the server-wide bound');
    return info;
  }

  /** The node stopped reading: the stream is reset (RESOURCE_EXHAUSTED). It reconnects and starts afresh. */
  #overflow(info: StreamInfo, queue: SendQueueOverflow): void {
    this.deps.events.sendQueueFull(info, queue);
    this.#reset('responses left unread beyond the bound');
  }

  /**
   * Lets go of everything queued for the node by resetting the stream: a status would queue
   * behind the unread bytes, so it would never arrive.
   */
  #reset(details: string): void {
    const open = !this.#closed;
    this.#release();
    if (!resetCall(this.call) && open) this.call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details });
    this.#dropQueue();
  }

  /** The call is gone, and with it what was queued on it: the bytes leave the budget. */
  #dropQueue(): void {
    if (this.#queueDropped) return;
    this.#queueDropped = true;
    if (this.#queuedBytes > 0) this.deps.sendBudget.left(this, this.#queuedBytes);
    this.#queuedBytes = 0;
  }

  /** Reports the request as ignored and ends the call with an error status. */
  #fail(code: grpc.status, details: string): void {
    if (this.#closed) return;
    this.deps.events.requestIgnored(this.#info, details);
    this.#end(code, details);
  }

  /** Ends the call with an error status (and so without the OK status `end` would send). */
  #end(code: grpc.status, details: string): void {
    if (this.#closed) return;
    this.#release();
    this.call.emit('error', { code, details });
  }

  #close(): void {
    if (this.#closed) return;
    this.#release();
    this.call.end();
  }

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#snapshot = undefined;
    this.#subscriptions.clear();
    this.#inFlight.clear();
    this.#accepted.clear();
    this.#servingFallback.clear();
    if (this.#info) this.deps.events.streamClosed(this.#info);
    this.onClosed();
  }
}
