import type { Logger } from 'pino';
import { isXdsTypeUrl, TYPE_SHORT_NAME } from '../resource/type-urls.js';
import type { MetricsStreamEvents } from '../metrics/metrics-service.js';
import type { StreamInfo, XdsEvents } from '../xds/events.js';

function stream(info: StreamInfo): Record<string, unknown> {
  return { node: info.node.id, stream: info.streamId };
}

function type(typeUrl: string): string {
  return isXdsTypeUrl(typeUrl) ? TYPE_SHORT_NAME[typeUrl] : typeUrl;
}

/** One JSON log line per protocol event. */
export function xdsLogEvents(logger: Logger): Partial<XdsEvents> {
  // `satisfies`, not a type annotation: the handlers are arrow functions, safe to take off the object below.
  const events = {
    streamOpened: (info) =>
      logger.info(
        {
          event: 'node_connected',
          ...stream(info),
          cluster: info.node.cluster,
          protocol: info.protocol,
          aggregated: info.aggregated,
          peer: info.peer,
          userAgent: `${info.node.userAgentName}/${info.node.userAgentVersion}`,
        },
        'node connected',
      ),
    streamClosed: (info) => logger.info({ event: 'node_disconnected', ...stream(info) }, 'node disconnected'),
    responseSent: (info, typeUrl, r) =>
      logger.info({ event: 'push', ...stream(info), type: type(typeUrl), ...r }, 'push'),
    acked: (info, typeUrl, version, nonce) =>
      logger.info({ event: 'ack', ...stream(info), type: type(typeUrl), version, nonce }, 'ack'),
    nacked: (info, nack) =>
      logger.warn(
        { event: 'nack', ...stream(info), type: type(nack.typeUrl), version: nack.version, nonce: nack.nonce, error: nack.message },
        'nack: the node rejected a config; nothing more of this type is sent to it until its config changes',
      ),
    parked: (info, typeUrl, version) =>
      logger.info({ event: 'parked', ...stream(info), type: type(typeUrl), version }, 'not resending a rejected config'),
    fallbackAccepted: (info, typeUrl, version, rejectedVersion) =>
      logger.warn(
        { event: 'fallback_accepted', ...stream(info), type: type(typeUrl), version, rejected: rejectedVersion },
        'a new process of a node that rejected its config runs the config the node last accepted',
      ),
    requestIgnored: (info, reason) =>
      logger.warn({ event: 'request_ignored', ...(info && stream(info)), reason }, 'request ignored'),
    sendQueueFull: (info, q) =>
      logger.warn(
        { event: 'send_queue_full', ...stream(info), ...q },
        `node ${info.node.id} is not reading its responses: ${q.queuedBytes} bytes unread and ${q.responseBytes} more due, over the bound of ${q.limitBytes} bytes; stream reset`,
      ),
    nodeRefused: (node, peer, reason) => logger.warn({ event: 'node_refused', node: node.id, peer, reason }, reason),
  } satisfies XdsEvents;
  if (logger.isLevelEnabled('info')) return events;
  // Below info, leave the per-event handlers out: pino would drop their lines, but only after
  // every push and ACK of every node had built a log object for nothing.
  const { nacked, fallbackAccepted, requestIgnored } = events;
  return { nacked, fallbackAccepted, requestIgnored };
}

/** Log lines for Envoy's metrics service streams (connection gauges for drains). */
export function metricsSinkLog(logger: Logger): MetricsStreamEvents {
  const log = logger.child({ component: 'metrics-sink' });
  return {
    streamOpened: (node) => log.info({ event: 'metrics_connected', node }, 'node streams its stats'),
    streamClosed: (node) => log.info({ event: 'metrics_disconnected', node }, 'node stopped streaming its stats'),
    rejected: (reason) => log.warn({ event: 'metrics_rejected', reason }, reason),
  };
}
