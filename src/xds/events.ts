import type { NodeIdentity } from '../cache/node.js';
import type { XdsTypeUrl } from '../resource/type-urls.js';

/** State of the world or incremental (delta) xDS. */
export const STREAM_PROTOCOLS = ['sotw', 'delta'] as const;

export type StreamProtocol = (typeof STREAM_PROTOCOLS)[number];

/** One discovery stream, as observers see it. */
export interface StreamInfo {
  readonly streamId: number;
  readonly node: NodeIdentity;
  readonly protocol: StreamProtocol;
  /** True for the aggregated (ADS) service; false for a per-type service (LDS, CDS, ...). */
  readonly aggregated: boolean;
  readonly peer: string;
  /** About the bytes the node's identity takes (metadata as JSON, and its strings); unknown if absent. */
  readonly nodeBytes?: number;
}

/** A rejected response, as Envoy reported it in error_detail. */
export interface NackRecord {
  readonly typeUrl: XdsTypeUrl;
  readonly version: string;
  readonly nonce: string;
  readonly code: number;
  readonly message: string;
  readonly at: Date;
}

export interface SentResponse {
  readonly version: string;
  readonly nonce: string;
  readonly resources: number;
  readonly removed: number;
}

/** Responses a node left unread, when one more would pass the bound. */
export interface SendQueueOverflow {
  /** Bytes of earlier responses still unread. */
  readonly queuedBytes: number;
  /** Size of the response that was due. */
  readonly responseBytes: number;
  readonly limitBytes: number;
}

/** Responses all nodes together left unread, when one more would pass the server-wide bound. */
export interface SendBudgetOverflow {
  /** Bytes unread over all streams before the reset. */
  readonly queuedBytes: number;
  /** Size of the response that was due. */
  readonly responseBytes: number;
  readonly limitBytes: number;
  /** Bytes let go of by resetting the streams. */
  readonly freedBytes: number;
}

/**
 * What the protocol layer reports. The fleet registry, metrics and logs subscribe to these;
 * the protocol layer never calls into them otherwise.
 */
export interface XdsEvents {
  streamOpened(stream: StreamInfo): void;
  streamClosed(stream: StreamInfo): void;
  responseSent(stream: StreamInfo, typeUrl: XdsTypeUrl, response: SentResponse): void;
  acked(stream: StreamInfo, typeUrl: XdsTypeUrl, version: string, nonce: string): void;
  nacked(stream: StreamInfo, nack: NackRecord): void;
  /** A response was not sent because the node rejected this exact content before. */
  parked(stream: StreamInfo, typeUrl: XdsTypeUrl, version: string): void;
  /**
   * A new process of a node that rejected `rejectedVersion` accepted `version`, the content the
   * node last accepted, sent to it rather than nothing. The rejection stays in force.
   */
  fallbackAccepted(stream: StreamInfo, typeUrl: XdsTypeUrl, version: string, rejectedVersion: string): void;
  /** A request was ignored (unknown type, stale nonce, ...), with the reason. */
  requestIgnored(stream: StreamInfo | undefined, reason: string): void;
  /** The node stopped reading its responses; its stream was reset. */
  sendQueueFull(stream: StreamInfo, overflow: SendQueueOverflow): void;
  /**
   * The nodes together left more unread than the server-wide bound: these streams, the slowest
   * readers, were reset (each also reports streamClosed).
   */
  sendBudgetExceeded(streams: readonly StreamInfo[], overflow: SendBudgetOverflow): void;
  /** A stream's peer may not speak for the node it named; the stream was ended unserved. */
  nodeRefused(node: NodeIdentity, peer: string, reason: string): void;
}

type AnyHandler = (a?: unknown, b?: unknown, c?: unknown, d?: unknown) => void;

/**
 * Fans events out to several partial observers. Each event's handlers are collected once, and
 * called with a fixed arity: events fire on every response and ACK of every node.
 */
export function combineEvents(...observers: Partial<XdsEvents>[]): XdsEvents {
  const fan = <K extends keyof XdsEvents>(key: K): XdsEvents[K] => {
    const handlers = observers.flatMap((o) => {
      const handler = o[key] as AnyHandler | undefined;
      return handler ? [handler.bind(o)] : [];
    });
    const fanned: AnyHandler =
      handlers.length === 1
        ? handlers[0]!
        : (a, b, c, d) => {
            for (const handler of handlers) handler(a, b, c, d);
          };
    return fanned;
  };
  return {
    streamOpened: fan('streamOpened'),
    streamClosed: fan('streamClosed'),
    responseSent: fan('responseSent'),
    acked: fan('acked'),
    nacked: fan('nacked'),
    parked: fan('parked'),
    fallbackAccepted: fan('fallbackAccepted'),
    requestIgnored: fan('requestIgnored'),
    sendQueueFull: fan('sendQueueFull'),
    sendBudgetExceeded: fan('sendBudgetExceeded'),
    nodeRefused: fan('nodeRefused'),
  };
}
