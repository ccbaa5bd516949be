/**
 * envoy.service.load_stats.v3.LoadReportingService (LRS), the receiving end of Envoy's load
 * reports (bootstrap `cluster_manager.load_stats_config`): per upstream endpoint, the requests
 * Envoy has in progress to it, over the xDS port. Endpoint drains read them where Envoy's admin
 * cannot be reached (an Envoy pod whose admin listens on loopback): a backend is idle in an
 * Envoy once a report made after the EDS ACK shows no request in progress to it.
 *
 * drainplane asks every Envoy for all its clusters, endpoint by endpoint, every second. A report
 * lists the endpoints with any load in its interval; an endpoint it leaves out has no request in
 * progress. Load reports carry no connection counts (idle pooled connections to a DRAINING host
 * carry no request and close with the backend).
 */
import * as grpc from '@grpc/grpc-js';
import { envoyProtos } from '../resource/protos.js';
import type { NodeIdentity } from '../cache/node.js';
import { nodeRunsEnvoyAtLeast } from '../cache/envoy-version.js';
import type { NodeAuthorizer } from '../xds/discovery-stream.js';
import { hostKey, type HostCounts } from '../fleet/drain/ports.js';
import { hostPort } from '../fleet/endpoints/assignment.js';

export const LOAD_REPORTING_SERVICE = 'envoy.service.load_stats.v3.LoadReportingService';
export const STREAM_LOAD_STATS_METHOD = 'StreamLoadStats';

/** How often Envoy is asked to report. */
export const LOAD_REPORTING_INTERVAL_MS = 1_000;

/**
 * Endpoints with requests in progress kept from one report; a report with more is not used (the
 * node is then not measured by it). Requests in flight at one instant: an honest Envoy's are few.
 */
export const MAX_BUSY_ENDPOINTS_PER_REPORT = 1_000;

const protos = envoyProtos();
const LoadStatsRequestType = protos.type('envoy.service.load_stats.v3.LoadStatsRequest');
const LoadStatsResponseType = protos.type('envoy.service.load_stats.v3.LoadStatsResponse');

interface SocketAddressJson {
  address?: string;
  port_value?: number;
}

interface LoadStatsRequestJson {
  node?: { id?: string; cluster?: string } | null;
  cluster_stats?: {
    cluster_name?: string;
    upstream_locality_stats?: {
      upstream_endpoint_stats?: { address?: { socket_address?: SocketAddressJson } | null; total_requests_in_progress?: number | string }[];
    }[];
  }[];
}

/** Requests in progress per endpoint in one load report; connections are not reported. */
export interface LoadReport {
  readonly nodeId: string | undefined;
  readonly nodeCluster: string;
  /** By hostKey(cluster, address), only the endpoints with requests in progress. */
  readonly hosts: Map<string, HostCounts>;
  /** By address, summed over the clusters that have it. */
  readonly addresses: Map<string, HostCounts>;
  /** More busy endpoints than MAX_BUSY_ENDPOINTS_PER_REPORT: the report is not used. */
  readonly oversized: boolean;
  /** The message carries cluster stats: a report, not only the node's opening request. */
  readonly isReport: boolean;
}

/** Decodes a LoadStatsRequest into what drains read. Throws on bytes that are not one. */
export function decodeLoadReport(bytes: Uint8Array): LoadReport {
  const message = LoadStatsRequestType.toObject(LoadStatsRequestType.decode(bytes), { longs: Number }) as LoadStatsRequestJson;
  const hosts = new Map<string, HostCounts>();
  const addresses = new Map<string, HostCounts>();
  let busy = 0;
  for (const cluster of message.cluster_stats ?? []) {
    for (const locality of cluster.upstream_locality_stats ?? []) {
      for (const endpoint of locality.upstream_endpoint_stats ?? []) {
        const requests = Number(endpoint.total_requests_in_progress ?? 0);
        const socket = endpoint.address?.socket_address;
        if (!(requests > 0) || socket?.address === undefined || socket.port_value === undefined || cluster.cluster_name === undefined) continue;
        if (++busy > MAX_BUSY_ENDPOINTS_PER_REPORT) break;
        const address = hostPort(socket.address, socket.port_value);
        hosts.set(hostKey(cluster.cluster_name, address), { requests, connections: null });
        addresses.set(address, { requests: (addresses.get(address)?.requests ?? 0) + requests, connections: null });
      }
    }
  }
  return {
    nodeId: message.node?.id || undefined,
    nodeCluster: message.node?.cluster ?? '',
    hosts,
    addresses,
    oversized: busy > MAX_BUSY_ENDPOINTS_PER_REPORT,
    isReport: (message.cluster_stats?.length ?? 0) > 0,
  };
}

/**
 * The first Envoy release whose load reports list an endpoint for as long as a request to it is
 * in progress. Envoy 1.36.2 lists it only in the window the request was issued in, then leaves
 * it out while it is still in flight, which would read as idle (seen with a request held open).
 */
export const MIN_LOAD_REPORT_ENVOY = '1.37.0';

/** Why a node's load reports are not used (see LoadReportSink.refusal), or undefined. */
export function loadReportRefusal(node: { readonly connected: boolean; readonly identity: NodeIdentity } | undefined): string | undefined {
  if (!node?.connected) return 'no such node is connected; its reports are not used until it is';
  if (!nodeRunsEnvoyAtLeast(node.identity, MIN_LOAD_REPORT_ENVOY)) {
    return `its Envoy (${node.identity.userAgentName || 'unknown'} ${node.identity.userAgentVersion || ''}) is older than ${MIN_LOAD_REPORT_ENVOY}, whose load reports leave out requests still in progress; it is measured through its admin API or not at all`;
  }
  return undefined;
}

/** The service definition, for grpc.Server#addService with handleLoadReports(). */
export function loadReportingServiceDefinition(): grpc.ServiceDefinition {
  const method: grpc.MethodDefinition<LoadReport, Record<string, unknown>> = {
    path: `/${LOAD_REPORTING_SERVICE}/${STREAM_LOAD_STATS_METHOD}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: () => {
      throw new Error('drainplane receives load reports; it does not send them');
    },
    requestDeserialize: (bytes: Buffer) => decodeLoadReport(bytes),
    responseSerialize: (response: Record<string, unknown>) =>
      Buffer.from(LoadStatsResponseType.encode(LoadStatsResponseType.fromObject(response)).finish()),
    responseDeserialize: () => ({}),
    originalName: STREAM_LOAD_STATS_METHOD,
  };
  return { [STREAM_LOAD_STATS_METHOD]: method };
}

export interface LoadReportSink {
  /**
   * Why this node's reports are not used, or undefined when they are: only nodes connected to
   * the fleet are measured (node ids cost a client nothing to invent), and only Envoys whose
   * reports count a request in progress for as long as it lasts.
   */
  refusal(nodeId: string): string | undefined;
  /** `at`: a time the report was certainly made after. */
  record(nodeId: string, report: LoadReport, at: number): void;
  now(): number;
}

export interface LoadReportEvents {
  /** A stream was refused, or (once per stream) a report was not used, for this reason. */
  rejected?(reason: string): void;
}

/**
 * The StreamLoadStats handler: answers the first request (which names the node) by asking for
 * every cluster, endpoint by endpoint, every LOAD_REPORTING_INTERVAL_MS, and records each later
 * report as the node's latest host counts. `authorizeNode` is the check discovery streams get:
 * a client that may not speak for a node must not report for it either.
 */
export function handleLoadReports(
  sink: LoadReportSink,
  events: LoadReportEvents = {},
  authorizeNode?: NodeAuthorizer,
): grpc.handleBidiStreamingCall<LoadReport, Record<string, unknown>> {
  return (call) => {
    let nodeId: string | undefined;
    let refused = false;
    let notUsedReported = false;
    // Like the metrics sink's flushes: a report is dated by the arrival of the message before it.
    let takenAfter = sink.now();
    /** Ends the call with an error status (`end` would send OK); later messages are ignored. */
    const refuse = (code: grpc.status, reason: string): void => {
      refused = true;
      events.rejected?.(`load reports from ${call.getPeer()}: ${reason}`);
      call.emit('error', { code, details: reason });
    };
    call.on('data', (report: LoadReport) => {
      if (refused) return;
      const arrived = sink.now();
      if (nodeId === undefined) {
        if (report.nodeId === undefined) return refuse(grpc.status.INVALID_ARGUMENT, 'the first message has no node id');
        const refusal = authorizeNode?.({ id: report.nodeId, cluster: report.nodeCluster }, call.getAuthContext().sslPeerCertificate);
        if (refusal !== undefined) return refuse(grpc.status.PERMISSION_DENIED, refusal);
        nodeId = report.nodeId;
        // Envoy 1.36 opens a new stream for reports, its first message carrying them.
        if (report.isReport) use(nodeId, report);
        call.write({
          send_all_clusters: true,
          report_endpoint_granularity: true,
          // Whole seconds and nanos below one second: Envoy 1.40.0 dies (std::terminate, an
          // uncaught "Duration out-of-range") on a response whose interval has nanos of 1e9.
          load_reporting_interval: {
            seconds: Math.floor(LOAD_REPORTING_INTERVAL_MS / 1000),
            nanos: (LOAD_REPORTING_INTERVAL_MS % 1000) * 1_000_000,
          },
        });
      } else if (report.isReport) {
        use(nodeId, report);
      }
      takenAfter = arrived;
    });
    /** Records a report, or says once per stream why it is not used. */
    const use = (id: string, report: LoadReport): void => {
      const why = report.oversized
        ? `more than ${MAX_BUSY_ENDPOINTS_PER_REPORT} endpoints with requests in progress; such reports are not used`
        : sink.refusal(id);
      if (why === undefined) return sink.record(id, report, takenAfter);
      if (!notUsedReported) events.rejected?.(`load reports from node ${id}: ${why}`);
      notUsedReported = true;
    };
    call.on('end', () => refused || call.end());
    call.on('error', () => undefined);
  };
}
