/**
 * How many connections each Envoy still holds, per listener and per HTTP connection manager, as
 * its own gauges say. The drain of a listener is measured by these numbers falling to zero.
 *
 * The gauges arrive as Prometheus MetricFamily messages (Envoy's metrics_service stats sink); this
 * file knows their shape and Envoy's stat names, but nothing of gRPC or protobuf encoding.
 *
 * Envoy's stat names, as read in Envoy's source:
 * - A listener's stats are rooted at `listener.<X>.`, X being its `stat_prefix` when set, else its
 *   address as `Address::asString()` prints it (listener_impl.cc, listenerStatsScope()). Scope names
 *   are sanitized: "://", ":/", ":" and NUL each become "_" (stats/utility.cc, sanitizeStatsName()).
 *   An IPv6 address prints as `[<inet_ntop form>]:<port>` (network/address_impl.cc), so `[::]:10000`
 *   becomes `[__]_10000`; Envoy's own integration tests wait on `listener.[__1]_0.downstream_cx_active`.
 * - `listener.<X>.worker_<n>.` and `listener.admin.main_thread.` are per-handler copies of the same
 *   gauges; `listener.admin.` and `http.admin.` are the admin interface's own listener and HCM.
 * - With `emit_tags_as_labels`, the sink names a family by the tag-extracted name and labels each
 *   metric with the tags, under the tag names themselves: `envoy.listener_address`,
 *   `envoy.http_conn_manager_prefix`, `envoy.worker_id` (grpc_metrics_service_impl.cc,
 *   populateMetricsFamily(); config/well_known_names.h). Only addresses (IPv4 `a.b.c.d_port` or
 *   `[hex_]_port`) are extracted from listener names: `listener.admin.*` and a listener stat_prefix
 *   keep their full name even then (config/well_known_names.cc, <ADDRESS>). `/stats/prometheus`
 *   spells the same labels with `_` (`envoy_listener_address`); both spellings are accepted.
 * - The sink sends only gauges that were ever set (`used()`): a listener that never had a
 *   connection is absent from a report rather than reported as 0.
 */
import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import { isListenerManagerGauge, listenerManagerGauges, type ListenerManagerGauges } from './listener-manager.js';

/** io.prometheus.client.MetricType.GAUGE. */
export const PROMETHEUS_GAUGE = 1;

/** The parts of io.prometheus.client messages read here (field names as in the .proto). */
export interface LabelPairLike {
  readonly name?: string | null;
  readonly value?: string | null;
}
export interface MetricLike {
  readonly label?: readonly LabelPairLike[] | null;
  readonly gauge?: { readonly value?: number | null } | null;
}
export interface MetricFamilyLike {
  readonly name?: string | null;
  readonly type?: number | null;
  readonly metric?: readonly MetricLike[] | null;
}

/** downstream_cx_active by stat scope, and the node's listener manager gauges. */
export interface ConnectionGaugeValues {
  /** By listener stat scope: see listenerStatAddress(). */
  readonly listeners: ReadonlyMap<string, number>;
  /** By HTTP connection manager stat_prefix. */
  readonly httpPrefixes: ReadonlyMap<string, number>;
  /** Listener versions warming and draining on the node; absent when not reported. */
  readonly listenerManager?: ListenerManagerGauges | undefined;
}

export interface ConnectionReport extends ConnectionGaugeValues {
  readonly nodeId: string;
  /**
   * A time the gauges were certainly read after, on drainplane's clock (Envoy's may disagree):
   * an admin poll's request, or for the metrics stream the arrival of the message before.
   */
  readonly at: Date;
}

const LISTENER = 'listener.';
const HTTP = 'http.';
const ACTIVE = '.downstream_cx_active';
const PER_HANDLER = /\.(?:worker_\d+|main_thread)$/;

/**
 * True when a family of this name may hold a connection gauge. Cheap, so a decoder can skip
 * every other family (most of Envoy's thousands of stats) before decoding it.
 */
export function isConnectionGaugeName(name: string): boolean {
  return name.endsWith(ACTIVE) && (name.startsWith(LISTENER) || name.startsWith(HTTP));
}

/** True for every gauge drains read: connection gauges and the listener manager's. */
export function isDrainGaugeName(name: string): boolean {
  return isConnectionGaugeName(name) || isListenerManagerGauge(name);
}

/**
 * Extracts the traffic connection gauges, `listener.<X>.downstream_cx_active` and
 * `http.<stat_prefix>.downstream_cx_active`, from families named either way (full names, or
 * tag-extracted names with labels). Admin and per-handler gauges, counters and every other stat
 * are left out. Envoy sends each stat once; should a name repeat, the last value wins.
 */
export function parseMetricFamilies(families: Iterable<MetricFamilyLike>): {
  listeners: Map<string, number>;
  httpPrefixes: Map<string, number>;
  listenerManager: ListenerManagerGauges | undefined;
} {
  const listeners = new Map<string, number>();
  const httpPrefixes = new Map<string, number>();
  const manager = new Map<string, number>();
  for (const family of families) {
    const name = family.name ?? '';
    if (family.type !== PROMETHEUS_GAUGE || !isDrainGaugeName(name)) continue;
    for (const metric of family.metric ?? []) {
      const value = metric.gauge?.value;
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      // The listener manager's gauges carry no tags: their name is the full name.
      if (isListenerManagerGauge(name)) {
        manager.set(name, value);
        continue;
      }
      const fullName = untaggedName(name, connectionTags(metric.label ?? []));
      if (fullName !== undefined) addConnectionStat(fullName, value, listeners, httpPrefixes);
    }
  }
  return { listeners, httpPrefixes, listenerManager: listenerManagerGauges(manager) };
}

/**
 * Files one full stat name and value under listeners or HTTP prefixes, if it is a traffic
 * connection gauge: admin and per-handler (`worker_<n>`, `main_thread`) names are left out, as
 * the admin's own connections include the one asking and per-worker copies count twice.
 * Shared by the metrics service sink and the admin /stats reader.
 */
export function addConnectionStat(fullName: string, value: number, listeners: Map<string, number>, httpPrefixes: Map<string, number>): void {
  const listener = scopeOf(fullName, LISTENER);
  if (listener !== undefined) {
    if (!isAdminListener(listener) && !PER_HANDLER.test(listener)) listeners.set(listener, value);
    return;
  }
  const prefix = scopeOf(fullName, HTTP);
  if (prefix !== undefined && prefix !== 'admin') httpPrefixes.set(prefix, value);
}

interface ConnectionTags {
  address?: string;
  httpPrefix?: string;
  perHandler: boolean;
}

/** The tags that matter here, whichever spelling (`envoy.x` from the sink, `envoy_x` from Prometheus). */
function connectionTags(labels: readonly LabelPairLike[]): ConnectionTags {
  const tags: ConnectionTags = { perHandler: false };
  for (const label of labels) {
    const value = label.value ?? '';
    switch ((label.name ?? '').replaceAll('.', '_')) {
      case 'envoy_listener_address':
        tags.address = value;
        break;
      case 'envoy_http_conn_manager_prefix':
        tags.httpPrefix = value;
        break;
      case 'envoy_worker_id':
        tags.perHandler = true;
        break;
    }
  }
  return tags;
}

/**
 * The full stat name: Envoy's tag extraction removes `<value>.` right after the first segment for
 * both tags read here, so putting it back there restores the name. Undefined for per-handler
 * gauges, and for per-listener HTTP stats (`listener.<X>.http.<prefix>.*`), which carry both tags.
 */
function untaggedName(name: string, tags: ConnectionTags): string | undefined {
  if (tags.perHandler) return undefined;
  if (name.startsWith(LISTENER)) {
    if (tags.httpPrefix !== undefined) return undefined;
    return tags.address === undefined ? name : `${LISTENER}${tags.address}.${name.slice(LISTENER.length)}`;
  }
  return tags.httpPrefix === undefined ? name : `${HTTP}${tags.httpPrefix}.${name.slice(HTTP.length)}`;
}

/** X in `<root>X.downstream_cx_active`, or undefined. */
function scopeOf(fullName: string, root: string): string | undefined {
  if (!fullName.startsWith(root) || fullName.length <= root.length + ACTIVE.length) return undefined;
  return fullName.endsWith(ACTIVE) ? fullName.slice(root.length, -ACTIVE.length) : undefined;
}

function isAdminListener(scope: string): boolean {
  return scope === 'admin' || scope.startsWith('admin.');
}

/**
 * The X of `listener.<X>.` stats for a listener: its stat_prefix when set, else its address, both
 * sanitized as Envoy sanitizes scope names (see the file comment for the sources). IPv6 addresses
 * are first put in inet_ntop form, as Envoy prints them: `::` → `[__]_10000`,
 * `0:0:0:0:0:0:0:1` → `[__1]_10000`, `::ffff:10.0.0.1` → `[__ffff_10.0.0.1]_10000`.
 * A zone (`fe80::1%eth0`) is kept as written, though Envoy prints the numeric scope id.
 * Envoy names internal listeners `envoy_internal_<name>`, which an address cannot express.
 */
export function listenerStatAddress(socketAddress: { address: string; port_value?: number }, statPrefix?: string): string {
  if (statPrefix) return sanitizeStatName(statPrefix);
  return sanitizeStatName(`${printedHost(socketAddress.address)}:${socketAddress.port_value ?? 0}`);
}

function printedHost(address: string): string {
  const zoneAt = address.indexOf('%');
  const ip = zoneAt < 0 ? address : address.slice(0, zoneAt);
  const zone = zoneAt < 0 ? '' : address.slice(zoneAt);
  if (isIPv6(ip)) {
    // libuv's inet_ntop, like glibc's, compresses the longest zero run and keeps embedded IPv4.
    return `[${new SocketAddress({ address: ip, family: 'ipv6' }).address}${zone}]`;
  }
  // Envoy parses IPv4 with inet_pton, which only takes the dotted-quad form it prints back.
  // Anything else is no IP at all: Envoy rejects such a listener, so it never has stats.
  return isIPv4(ip) ? ip : address;
}

/**
 * Envoy's Stats::Utility::sanitizeStatsName. Releases before the "://" and ":/" rules replaced
 * each ":" alone; the two differ only for names containing ":/", which no IP address does.
 */
function sanitizeStatName(name: string): string {
  return name.replace(/:\/\/|:\/|:|\0/g, '_');
}

export const DEFAULT_REPORT_TTL_MS = 10 * 60_000;

export interface ConnectionGaugesOptions {
  /** A node whose last report is older than this is forgotten. Default 10 minutes. */
  readonly ttlMs?: number;
  /** Milliseconds since the epoch; replaceable in tests. */
  readonly now?: () => number;
}

export type ReportListener = (report: ConnectionReport) => void;

/**
 * The latest report of every node that reported recently. Nodes that stop reporting (gone, or
 * their metrics stream broken) are forgotten after the TTL, checked lazily on each access, so
 * the memory held is bounded by the nodes active within one TTL.
 */
export class ConnectionGauges {
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** In arrival order (record() re-inserts), so the expired reports are always the first ones. */
  readonly #reports = new Map<string, ConnectionReport>();
  readonly #listeners = new Set<ReportListener>();

  constructor(options: ConnectionGaugesOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_REPORT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Replaces the node's report with these gauges and tells the listeners, synchronously: an
   * exception thrown by a listener reaches the caller. `at` is a time the gauges were certainly
   * read after, if that was before now: a reading must not look newer than the state it shows.
   */
  record(nodeId: string, gauges: ConnectionGaugeValues, at: number = this.#now()): ConnectionReport {
    const report: ConnectionReport = {
      nodeId,
      at: new Date(at),
      listeners: gauges.listeners,
      httpPrefixes: gauges.httpPrefixes,
      ...(gauges.listenerManager && { listenerManager: gauges.listenerManager }),
    };
    this.#reports.delete(nodeId);
    this.#reports.set(nodeId, report);
    this.#expire();
    for (const listener of [...this.#listeners]) listener(report);
    return report;
  }

  /** The clock reports are dated by. */
  now(): number {
    return this.#now();
  }

  /** The node's last report, unless it is older than the TTL. */
  latest(nodeId: string): ConnectionReport | undefined {
    this.#expire();
    return this.#reports.get(nodeId);
  }

  /** Number of nodes with a report within the TTL. */
  get size(): number {
    this.#expire();
    return this.#reports.size;
  }

  /** Calls listener with every report recorded from now on; returns the unsubscribe function. */
  onReport(listener: ReportListener): () => void {
    // A wrapper, so subscribing the same function twice gives two independent subscriptions.
    const entry: ReportListener = (report) => listener(report);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  #expire(): void {
    const oldestKept = this.#now() - this.#ttlMs;
    for (const [nodeId, report] of this.#reports) {
      // Arrival order is time order unless the clock stepped back, which only delays expiry.
      if (report.at.getTime() >= oldestKept) break;
      this.#reports.delete(nodeId);
    }
  }
}
