/**
 * envoy.service.metrics.v3.MetricsService, the receiving end of Envoy's
 * `envoy.stat_sinks.metrics_service` stats sink: one client-streaming call per Envoy, one
 * StreamMetricsMessage per stats flush, the node identified on the first message only
 * (grpc_metrics_service_impl.cc: "the identifier is only sent on establishing the stream").
 * Each message becomes the node's latest ConnectionReport.
 *
 * A flush carries every used stat of the Envoy (thousands of families with many clusters) and
 * repeats every flush interval, for every node of the fleet. So messages are read at the wire
 * level: a family is decoded only when its name may be a gauge drains read, and a message with
 * more families than the limit is not decoded at all. The server's
 * `grpc.max_receive_message_length` must still admit a whole flush (grpc-js defaults to 4 MiB).
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { envoyProtos } from '../resource/protos.js';
import type { NodeAuthorizer } from '../xds/discovery-stream.js';
import {
  isDrainGaugeName,
  parseMetricFamilies,
  type ConnectionGaugeValues,
  type ConnectionGauges,
  type MetricFamilyLike,
} from '../gauges/connection-gauges.js';

export const METRICS_SERVICE = 'envoy.service.metrics.v3.MetricsService';
export const STREAM_METRICS_METHOD = 'StreamMetrics';

export interface MetricsServiceLimits {
  /** Metric families read from one message; a larger message is ignored. */
  readonly maxFamilies: number;
}

export const DEFAULT_METRICS_SERVICE_LIMITS: MetricsServiceLimits = { maxFamilies: 100_000 };

/** A StreamMetricsMessage, reduced to what drainplane reads. */
export type MetricsMessage = { readonly nodeId: string | undefined; readonly nodeCluster: string } & (
  | { readonly oversized: false; readonly gauges: ConnectionGaugeValues }
  | { readonly oversized: true; readonly familyCount: number; readonly limit: number }
);

/** envoy.service.metrics.v3.StreamMetricsResponse has no fields. */
export type StreamMetricsResponse = Record<string, never>;

export interface MetricsStreamEvents {
  /** The first message named this node. */
  streamOpened?(nodeId: string): void;
  /** A stream that named a node ended, however it ended. */
  streamClosed?(nodeId: string): void;
  /** A stream was refused, or (once per stream) a message was ignored, for this reason. */
  rejected?(reason: string): void;
}

const protos = envoyProtos();
const StreamMetricsMessageType = protos.type('envoy.service.metrics.v3.StreamMetricsMessage');
const IdentifierType = protos.type('envoy.service.metrics.v3.StreamMetricsMessage.Identifier');
const MetricFamilyType = protos.type('io.prometheus.client.MetricFamily');
const StreamMetricsResponseType = protos.type('envoy.service.metrics.v3.StreamMetricsResponse');

const LENGTH_DELIMITED = 2;
const IDENTIFIER_FIELD = fieldNumber(StreamMetricsMessageType, 'identifier');
const FAMILIES_FIELD = fieldNumber(StreamMetricsMessageType, 'envoy_metrics');
const FAMILY_NAME_TAG = (fieldNumber(MetricFamilyType, 'name') << 3) | LENGTH_DELIMITED;

function fieldNumber(type: protobuf.Type, name: string): number {
  const field = type.fields[name];
  if (!field) throw new Error(`${type.fullName} has no field ${name}`);
  return field.id;
}

interface DecodedIdentifier {
  node?: { id?: string; cluster?: string } | null;
}

/**
 * Decodes a StreamMetricsMessage. Throws on bytes that are not one; grpc-js then ends the call
 * with a status.
 */
export function decodeMetricsMessage(bytes: Uint8Array, maxFamilies: number): MetricsMessage {
  const reader = protobuf.Reader.create(bytes);
  let nodeId: string | undefined;
  let nodeCluster = '';
  let familyCount = 0;
  const families: MetricFamilyLike[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType !== LENGTH_DELIMITED || (field !== IDENTIFIER_FIELD && field !== FAMILIES_FIELD)) {
      reader.skipType(wireType);
      continue;
    }
    const length = reader.uint32();
    if (field === IDENTIFIER_FIELD) {
      const identifier = IdentifierType.decode(reader, length) as unknown as DecodedIdentifier;
      nodeId = identifier.node?.id || undefined;
      nodeCluster = identifier.node?.cluster ?? '';
      continue;
    }
    familyCount++;
    // Past the limit, families are still counted (skipping costs no allocation) but never decoded.
    if (familyCount <= maxFamilies && mayHoldDrainGauge(reader, length)) {
      families.push(MetricFamilyType.decode(reader, length) as unknown as MetricFamilyLike);
    } else {
      reader.skip(length);
    }
  }
  if (familyCount > maxFamilies) return { nodeId, nodeCluster, oversized: true, familyCount, limit: maxFamilies };
  return { nodeId, nodeCluster, oversized: false, gauges: parseMetricFamilies(families) };
}

/**
 * Peeks at the family starting at the reader's position: a connection or listener manager gauge. Envoy (C++ protobuf) writes fields in
 * number order, so `name` comes first; a family written otherwise is decoded and judged whole.
 */
function mayHoldDrainGauge(reader: protobuf.Reader, length: number): boolean {
  if (length === 0) return false; // no name; and the next bytes belong to another field
  const start = reader.pos;
  try {
    return reader.uint32() !== FAMILY_NAME_TAG || isDrainGaugeName(reader.string());
  } finally {
    reader.pos = start;
  }
}

/** The service definition, for grpc.Server#addService with handleStreamMetrics(). */
export function metricsServiceDefinition(limits: Partial<MetricsServiceLimits> = {}): grpc.ServiceDefinition {
  const { maxFamilies } = { ...DEFAULT_METRICS_SERVICE_LIMITS, ...limits };
  const method: grpc.MethodDefinition<MetricsMessage, StreamMetricsResponse> = {
    path: `/${METRICS_SERVICE}/${STREAM_METRICS_METHOD}`,
    requestStream: true,
    responseStream: false,
    requestSerialize: () => {
      throw new Error('drainplane receives metrics; it does not send them');
    },
    requestDeserialize: (bytes: Buffer) => decodeMetricsMessage(bytes, maxFamilies),
    responseSerialize: (response: StreamMetricsResponse) => Buffer.from(StreamMetricsResponseType.encode(response).finish()),
    responseDeserialize: () => ({}),
    originalName: STREAM_METRICS_METHOD,
  };
  return { [STREAM_METRICS_METHOD]: method };
}

/**
 * The StreamMetrics handler: records each message as the node's latest report and answers with
 * an empty response when Envoy ends the stream (Envoy never reads it: it streams until it stops).
 * `authorizeNode` is the check discovery streams get: a client that may not speak for a node
 * must not report its connections either, or it could end that node's drains early.
 */
export function handleStreamMetrics(
  gauges: ConnectionGauges,
  events: MetricsStreamEvents = {},
  authorizeNode?: NodeAuthorizer,
): grpc.handleClientStreamingCall<MetricsMessage, StreamMetricsResponse> {
  return (call, callback) => {
    let nodeId: string | undefined;
    let ignoredReported = false;
    let closed = false;
    /**
     * What this stream's next report is dated by: the arrival of its previous message. Envoy
     * makes each flush a flush interval after the one before, so a flush is certainly newer than
     * its predecessor's arrival; its own arrival says nothing, since a flush made just before an
     * LDS change can arrive just after the ACK (and read as "nothing draining"). The first message
     * is dated by the stream's opening.
     */
    let takenAfter = gauges.now();
    const close = (): boolean => {
      if (closed) return false;
      closed = true;
      if (nodeId !== undefined) events.streamClosed?.(nodeId);
      return true;
    };

    call.on('data', (message: MetricsMessage) => {
      if (closed) return;
      if (nodeId === undefined) {
        if (message.nodeId === undefined) {
          const reason = `metrics stream from ${call.getPeer()}: the first message has no node id`;
          events.rejected?.(reason);
          close();
          callback({ code: grpc.status.INVALID_ARGUMENT, details: reason });
          return;
        }
        const node = { id: message.nodeId, cluster: message.nodeCluster };
        const refusal = authorizeNode?.(node, call.getAuthContext().sslPeerCertificate);
        if (refusal !== undefined) {
          events.rejected?.(`metrics stream from ${call.getPeer()}: ${refusal}`);
          close();
          callback({ code: grpc.status.PERMISSION_DENIED, details: refusal });
          return;
        }
        nodeId = message.nodeId;
        events.streamOpened?.(nodeId);
      }
      if (message.oversized) {
        if (!ignoredReported) {
          ignoredReported = true;
          events.rejected?.(
            `metrics from node ${nodeId}: a message of ${message.familyCount} metric families was ignored ` +
              `(at most ${message.limit} are read); later ones over the limit are ignored silently`,
          );
        }
        return;
      }
      const receivedAt = gauges.now();
      gauges.record(nodeId, message.gauges, takenAfter);
      takenAfter = receivedAt;
    });
    call.on('end', () => {
      if (close()) callback(null, {});
    });
    // A cancelled or broken call cannot be answered; only the bookkeeping is left.
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  };
}
