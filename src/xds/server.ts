import * as grpc from '@grpc/grpc-js';
import type net from 'node:net';
import { listenDeep } from '../net/grpc-listener.js';
import { HealthImplementation } from 'grpc-health-check';
import type { ConfigWatcher } from '../cache/snapshot-cache.js';
import type { XdsTypeUrl } from '../resource/type-urls.js';
import { DeltaSubscription } from './delta-subscription.js';
import { DiscoveryStream, type DiscoveryRequestBase, type NodeAuthorizer, type StreamDeps, type StreamKind } from './discovery-stream.js';
import type { StreamProtocol, XdsEvents } from './events.js';
import { DEFAULT_XDS_LIMITS, type XdsLimits } from './limits.js';
import { NackLedger } from './nack-ledger.js';
import { SelectionCache } from './selection-cache.js';
import { SendBudget } from './send-budget.js';
import { discoveryServices } from './services.js';
import { SotwSubscription } from './sotw-subscription.js';

export { DEFAULT_XDS_LIMITS, type StreamLimits, type XdsLimits } from './limits.js';

export interface XdsServerOptions {
  readonly watcher: ConfigWatcher;
  readonly events: XdsEvents;
  /** Shared with whoever reports parked nodes; a new one by default. */
  readonly ledger?: NackLedger;
  /** Other gRPC services to serve on the same port (Envoy's metrics service sink, say). */
  readonly extraServices?: readonly GrpcService[];
  readonly limits?: Partial<XdsLimits>;
  /** Checked on each stream's first request, before anything is sent (mutual TLS: node identity). */
  readonly authorizeNode?: NodeAuthorizer;
}

export interface GrpcService {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

type AnyStream = DiscoveryStream<DiscoveryRequestBase>;

/**
 * The gRPC server's options, from the xDS limits (the benchmark's transport floor uses them too).
 */
export function grpcServerOptions(limits: XdsLimits): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.max_send_message_length': limits.maxSendMessageBytes,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    // Envoy keeps one long-lived stream; keepalive pings find peers that vanished.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    // No channelz service is served, and its bookkeeping is paid on every connection (the peer's
    // address looked up, a trace entry) and every message (counters, a timestamp): a few percent
    // of the daemon's CPU in a reconnect storm.
    'grpc.enable_channelz': 0,
  };
}

/**
 * The xDS gRPC server: the aggregated and per-type discovery services (SotW and Delta) and
 * the gRPC health service, on one port. It knows the ConfigWatcher seam and nothing of
 * config files, drains or HTTP.
 */
export class XdsServer {
  readonly ledger: NackLedger;
  readonly health = new HealthImplementation({ '': 'SERVING' });
  readonly #server: grpc.Server;
  readonly #streams = new Set<AnyStream>();
  readonly #deps: StreamDeps;
  readonly #selections: SelectionCache;
  #port: number | undefined;
  /** The listening socket, drainplane's own (see `listen`). */
  #listener: net.Server | undefined;

  constructor(options: XdsServerOptions) {
    const limits = { ...DEFAULT_XDS_LIMITS, ...options.limits };
    this.ledger = options.ledger ?? new NackLedger(limits);
    this.#selections = new SelectionCache(limits.maxSelectionCacheBytes);
    this.#server = new grpc.Server(grpcServerOptions(limits));
    this.#deps = {
      watcher: options.watcher,
      events: options.events,
      ledger: this.ledger,
      limits,
      sendBudget: new SendBudget(limits.maxTotalQueuedBytes, (shed, overflow) => options.events.sendBudgetExceeded(shed, overflow)),
      ...(options.authorizeNode && { authorizeNode: options.authorizeNode }),
    };
    for (const { definition, methods } of discoveryServices()) {
      const handlers: grpc.UntypedServiceImplementation = {};
      for (const m of methods) {
        handlers[m.method] = (call: grpc.ServerDuplexStream<unknown, Buffer>) =>
          this.#open(call, streamKind(m.protocol, m.fixedType, this.#selections));
      }
      this.#server.addService(definition, handlers);
    }
    this.health.addToServer(this.#server);
    for (const service of options.extraServices ?? []) this.#server.addService(service.definition, service.implementation);
  }

  #open(call: grpc.ServerDuplexStream<unknown, Buffer>, kind: StreamKind<DiscoveryRequestBase>): void {
    const stream: AnyStream = new DiscoveryStream(call, kind, this.#deps, () => this.#streams.delete(stream));
    this.#streams.add(stream);
  }

  /**
   * Binds host:port (port 0 picks a free one) with an accept queue deep enough for a fleet's
   * connect storm (listenDeep), and resolves with the bound port; TLS comes with `credentials`.
   */
  async listen(host: string, port: number, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const listener = await listenDeep(this.#server, host, port, credentials);
    this.#listener = listener;
    return (this.#port = (listener.address() as net.AddressInfo).port);
  }

  get port(): number | undefined {
    return this.#port;
  }

  /** Number of discovery streams open now. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** What is kept now of what clients can make the server hold beyond their own streams. */
  get held(): { readonly queuedBytes: number; readonly selections: number; readonly selectionBytes: number } {
    return { queuedBytes: this.#deps.sendBudget.queuedBytes, selections: this.#selections.size, selectionBytes: this.#selections.bytes };
  }

  /**
   * Stops taking new streams and ends the open ones (with status OK, so clients reconnect
   * elsewhere), waiting up to `graceMs` before cutting what is left. Envoy keeps serving its
   * last config while it is disconnected.
   */
  async close(graceMs = 5_000): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.#listener?.close();
    const done = new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve()));
    for (const stream of [...this.#streams]) stream.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
    });
    await Promise.race([done, timeout]);
    clearTimeout(timer);
  }
}

/** The SotW and Delta variants of a stream differ only in their per-type subscriptions. */
function streamKind(protocol: StreamProtocol, fixedType: XdsTypeUrl | undefined, selections: SelectionCache): StreamKind<DiscoveryRequestBase> {
  const createSubscription =
    protocol === 'delta'
      ? (typeUrl: XdsTypeUrl) => new DeltaSubscription(typeUrl, selections)
      : (typeUrl: XdsTypeUrl) => new SotwSubscription(typeUrl, selections);
  return { protocol, fixedType, createSubscription };
}
