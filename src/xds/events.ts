import type { NodeIdentity } from '../cache/node.js';
import type { XdsTypeUrl } from '../resource/type-urls.js';

export type StreamProtocol = 'sotw' | 'delta';

/** One discovery stream, as observers see it. */
export interface StreamInfo {
  readonly streamId: number;
  readonly node: NodeIdentity;
  readonly protocol: StreamProtocol;
  /** True for the aggregated (ADS) service; false for a per-type service (LDS, CDS, ...). */
  readonly aggregated: boolean;
  readonly peer: string;
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
  /** A request was ignored (unknown type, stale nonce, ...), with the reason. */
  requestIgnored(stream: StreamInfo | undefined, reason: string): void;
  /** A stream's peer may not speak for the node it named; the stream was ended unserved. */
  nodeRefused(node: NodeIdentity, peer: string, reason: string): void;
}

/** Fans events out to several partial observers. */
export function combineEvents(...observers: Partial<XdsEvents>[]): XdsEvents {
  const fan =
    <K extends keyof XdsEvents>(key: K) =>
    (...args: Parameters<XdsEvents[K]>): void => {
      for (const o of observers) (o[key] as ((...a: Parameters<XdsEvents[K]>) => void) | undefined)?.(...args);
    };
  return {
    streamOpened: fan('streamOpened'),
    streamClosed: fan('streamClosed'),
    responseSent: fan('responseSent'),
    acked: fan('acked'),
    nacked: fan('nacked'),
    parked: fan('parked'),
    requestIgnored: fan('requestIgnored'),
    nodeRefused: fan('nodeRefused'),
  };
}
