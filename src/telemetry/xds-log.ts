import type { Logger } from 'pino';
import { isXdsTypeUrl, TYPE_SHORT_NAME } from '../resource/type-urls.js';
import type { LoadReportEvents } from '../metrics/load-reports.js';
import type { MetricsStreamEvents } from '../metrics/metrics-service.js';
import type { StreamInfo, XdsEvents } from '../xds/events.js';
import { DEFAULT_XDS_LIMITS } from '../xds/limits.js';
import { LineLimiter, type Suppressed } from './line-limiter.js';

function stream(info: StreamInfo): Record<string, unknown> {
  return { node: info.node.id, stream: info.streamId };
}

function type(typeUrl: string): string {
  return isXdsTypeUrl(typeUrl) ? TYPE_SHORT_NAME[typeUrl] : typeUrl;
}

export interface XdsLogOptions {
  /** Lines per node and event per minute (default DEFAULT_XDS_LIMITS.maxLogLinesPerNode); 0: no limit. */
  readonly maxLogLinesPerNode?: number;
  /** Lines per event per minute over all nodes (default DEFAULT_XDS_LIMITS.maxLogLinesPerEvent); 0: no limit. */
  readonly maxLogLinesPerEvent?: number;
  /** The window those lines are counted in; one minute unless a test says otherwise. */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/** The limiter's key for lines about no one node (a stream that never named one, a reset of many). */
const NO_NODE = '';

/** The fleet-wide limiter's one key: every node's lines of an event count together. */
const ALL_NODES = '*';

/**
 * One JSON log line per protocol event, at most `maxLogLinesPerNode` per node and event per
 * minute, so that a client repeating itself (stale nonces, reconnects) cannot fill the log, and
 * at most `maxLogLinesPerEvent` per event over all nodes, so that clients inventing node ids
 * cannot either. What is left out is counted in `log_suppressed` lines once the minute is
 * over: one per node and event (those go through the fleet-wide limit too), and one per event
 * for the fleet-wide limit.
 */
export function xdsLogEvents(logger: Logger, options: XdsLogOptions = {}): Partial<XdsEvents> {
  const window = {
    ...(options.windowMs !== undefined && { windowMs: options.windowMs }),
    ...(options.now && { now: options.now }),
  };
  const suppressed = ({ node, event, count, windowMs }: Suppressed): void =>
    void logger.warn(
      { event: 'log_suppressed', ...(node !== NO_NODE && node !== ALL_NODES && { node }), suppressed: event, lines: count, windowMs },
      `… ${count} more "${event}" lines ${node === ALL_NODES ? 'of all nodes ' : node === NO_NODE ? '' : `of node ${node} `}suppressed in ${windowMs / 1000} s`,
    );
  const fleet = new LineLimiter({
    linesPerWindow: options.maxLogLinesPerEvent ?? DEFAULT_XDS_LIMITS.maxLogLinesPerEvent,
    ...window,
    onSuppressed: suppressed,
  });
  const perNode = new LineLimiter({
    linesPerWindow: options.maxLogLinesPerNode ?? DEFAULT_XDS_LIMITS.maxLogLinesPerNode,
    ...window,
    onSuppressed: (s) => fleet.allow(ALL_NODES, 'log_suppressed') && suppressed(s),
  });
  // The node's own limit first: lines it suppresses do not use up the fleet's.
  const ok = (node: string, event: string): boolean => perNode.allow(node, event) && fleet.allow(ALL_NODES, event);
  // `satisfies`, not a type annotation: the handlers are arrow functions, safe to take off the object below.
  const events = {
    streamOpened: (info) =>
      ok(info.node.id, 'node_connected') &&
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
    streamClosed: (info) =>
      ok(info.node.id, 'node_disconnected') && logger.info({ event: 'node_disconnected', ...stream(info) }, 'node disconnected'),
    responseSent: (info, typeUrl, r) =>
      ok(info.node.id, 'push') && logger.info({ event: 'push', ...stream(info), type: type(typeUrl), ...r }, 'push'),
    acked: (info, typeUrl, version, nonce) =>
      ok(info.node.id, 'ack') && logger.info({ event: 'ack', ...stream(info), type: type(typeUrl), version, nonce }, 'ack'),
    nacked: (info, nack) =>
      ok(info.node.id, 'nack') &&
      logger.warn(
        { event: 'nack', ...stream(info), type: type(nack.typeUrl), version: nack.version, nonce: nack.nonce, error: nack.message },
        'nack: the node rejected a config; nothing more of this type is sent to it until its config changes',
      ),
    parked: (info, typeUrl, version) =>
      ok(info.node.id, 'parked') &&
      logger.info({ event: 'parked', ...stream(info), type: type(typeUrl), version }, 'not resending a rejected config'),
    fallbackAccepted: (info, typeUrl, version, rejectedVersion) =>
      ok(info.node.id, 'fallback_accepted') &&
      logger.warn(
        { event: 'fallback_accepted', ...stream(info), type: type(typeUrl), version, rejected: rejectedVersion },
        'a new process of a node that rejected its config runs the config the node last accepted',
      ),
    requestIgnored: (info, reason) =>
      ok(info?.node.id ?? NO_NODE, 'request_ignored') &&
      logger.warn({ event: 'request_ignored', ...(info && stream(info)), reason }, 'request ignored'),
    sendQueueFull: (info, q) =>
      ok(info.node.id, 'send_queue_full') &&
      logger.warn(
        { event: 'send_queue_full', ...stream(info), ...q },
        `node ${info.node.id} is not reading its responses: ${q.queuedBytes} bytes unread and ${q.responseBytes} more due, over the bound of ${q.limitBytes} bytes; stream reset`,
      ),
    sendBudgetExceeded: (streams, q) => {
      if (!ok(NO_NODE, 'send_budget_exceeded')) return;
      const nodes = [...new Set(streams.map((s) => s.node.id))];
      const named = nodes.slice(0, MAX_NODES_NAMED);
      const more = nodes.length > named.length ? ` and ${nodes.length - named.length} more` : '';
      logger.warn(
        { event: 'send_budget_exceeded', streams: streams.length, nodes: named, ...q },
        `nodes left ${q.queuedBytes} bytes unread in all, and ${q.responseBytes} more were due, over the server-wide bound of ` +
          `${q.limitBytes} bytes: reset the ${streams.length} slowest stream(s) (node ${named.join(', ')}${more}), freeing ${q.freedBytes} bytes`,
      );
    },
    nodeRefused: (node, peer, reason) => ok(node.id, 'node_refused') && logger.warn({ event: 'node_refused', node: node.id, peer, reason }, reason),
  } satisfies XdsEvents;
  if (logger.isLevelEnabled('info')) return events;
  // Below info, leave the per-event handlers out: pino would drop their lines, but only after
  // every push and ACK of every node had built a log object for nothing.
  const { nacked, fallbackAccepted, requestIgnored, sendQueueFull, sendBudgetExceeded, nodeRefused } = events;
  return { nacked, fallbackAccepted, requestIgnored, sendQueueFull, sendBudgetExceeded, nodeRefused };
}

/** Nodes a send-budget line names; the rest are counted. */
const MAX_NODES_NAMED = 10;

/** Log lines for Envoy's metrics service streams (connection gauges for drains). */
export function metricsSinkLog(logger: Logger): MetricsStreamEvents {
  const log = logger.child({ component: 'metrics-sink' });
  return {
    streamOpened: (node) => log.info({ event: 'metrics_connected', node }, 'node streams its stats'),
    streamClosed: (node) => log.info({ event: 'metrics_disconnected', node }, 'node stopped streaming its stats'),
    rejected: (reason) => log.warn({ event: 'metrics_rejected', reason }, reason),
  };
}

/** Log lines for Envoy's load report (LRS) streams: refusals and reports not used, once per stream. */
export function loadReportLog(logger: Logger): LoadReportEvents {
  const log = logger.child({ component: 'load-reports' });
  return { rejected: (reason) => log.warn({ event: 'load_reports_rejected', reason }, reason) };
}
