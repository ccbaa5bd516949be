/**
 * TEST DOUBLE of Envoy's admin API: a node:http server on 127.0.0.1 answering the endpoints
 * drainplane calls, the way Envoy does. Sources per behaviour (paths in envoyproxy/envoy and
 * sections of ../shared/ENVOY-FACTS.md, "Admin API" and "drain_type per listener"):
 * - Mutating endpoints (/healthcheck/fail, /healthcheck/ok, /drain_listeners, /quitquitquit)
 *   refuse any method but POST. ENVOY-FACTS says "GET returns 400"; Envoy's code answers
 *   405 "Method GET not allowed, POST required." (source/server/admin/admin.cc, makeRequest),
 *   which is what this double does. Either way it is an error status.
 * - /server_info: ServerInfo JSON with `version` as "<commit>/<release>/Clean/RELEASE/BoringSSL",
 *   `state`, `command_line_options.{drain_time,drain_strategy,parent_shutdown_time}`, `node`
 *   (source/server/admin/server_info_handler.cc; ENVOY-FACTS "Admin API").
 * - /ready: 200 "LIVE\n", otherwise 503 with the state; DRAINING after /healthcheck/fail,
 *   unchanged by /drain_listeners (server_info_handler.cc handlerReady; ENVOY-FACTS "Admin API").
 * - /stats?format=json&filter=<regex>: {"stats":[{name,value}...]} sorted by name, histograms as
 *   one {"histograms":{...}} entry; an invalid regex is a 400 (source/server/admin/stats_handler.cc,
 *   stats_render.cc; ENVOY-FACTS "Admin API"). JS RegExp stands in for RE2.
 * - /drain_listeners: presence flags graceful, inboundonly, skip_exit; skip_exit without graceful
 *   is 400 "skip_exit requires graceful" before 1.40 and accepted from 1.40 on, following the
 *   `version` option (seen on Envoy 1.36.2, 1.37.0 and 1.40.0: test/e2e-envoy/node-suite.ts).
 * - /clusters?format=json: {"cluster_statuses":[{name, host_statuses:[{address, stats}]}]}, each
 *   host's `rq_active` and `cx_active` gauges with `value` as a string and left out when 0, as
 *   Envoy 1.40.0 writes them (source/server/admin/clusters_handler.cc; the shape
 *   test/admin/host-counts.test.ts decodes). Without format=json, Envoy's text lines
 *   `cluster::HOST:PORT::stat::value`. No cluster at all is `{}`.
 * - Unknown paths: 404 "invalid path." (admin.cc).
 * Not modelled: draining itself, the effect of drains on gauges and host counts (tests set
 * them), process exit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SKIP_EXIT_ALONE_SINCE } from '../../src/admin/drain-query.js';
import { atLeast } from '../../src/cache/envoy-version.js';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** Decoded query; a bare flag (`?graceful`) has the value ''. */
  readonly query: Readonly<Record<string, string>>;
}

export interface FakeEnvoyAdminOptions {
  /** Release number, e.g. "1.34.1"; /server_info wraps it in Envoy's long version string. */
  version?: string;
  /** State before any health check change. */
  state?: 'LIVE' | 'PRE_INITIALIZING' | 'INITIALIZING';
  drainTime?: string;
  drainStrategy?: 'Gradual' | 'Immediate';
  parentShutdownTime?: string;
  node?: { id: string; cluster: string };
}

/** What Envoy has open to one upstream host. */
export interface HostActivity {
  readonly requests: number;
  readonly connections: number;
}

interface CannedResponse {
  readonly status: number;
  readonly body: string;
}

const MUTATING = new Set(['/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/quitquitquit']);
const COMMIT = 'e3b4a6e9570da15ac1caffdded17a8bebdc7dfc9';

export class FakeEnvoyAdmin {
  /** Every request in arrival order, including refused and unanswered ones. */
  readonly requests: RecordedRequest[] = [];
  /** Counters and gauges served by /stats; set them freely. */
  readonly gauges = new Map<string, number>();
  /** Upstream hosts served by /clusters: cluster name -> `HOST:PORT` -> counts; set them freely. */
  readonly hosts = new Map<string, Map<string, HostActivity>>();
  readonly options: Required<FakeEnvoyAdminOptions>;
  healthCheckFailed = false;
  quitRequested = false;
  readonly #server: Server;
  readonly #hung = new Set<string>();
  readonly #canned = new Map<string, CannedResponse>();
  readonly #arrivalHooks = new Map<string, () => void>();

  private constructor(server: Server, options: FakeEnvoyAdminOptions) {
    this.#server = server;
    this.options = {
      version: '1.34.1',
      state: 'LIVE',
      drainTime: '600s',
      drainStrategy: 'Gradual',
      parentShutdownTime: '900s',
      node: { id: 'fake-node', cluster: 'fake-cluster' },
      ...options,
    };
  }

  static async start(options: FakeEnvoyAdminOptions = {}): Promise<FakeEnvoyAdmin> {
    const server = createServer();
    const fake = new FakeEnvoyAdmin(server, options);
    server.on('request', (req, res) => fake.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Requests to `path` are recorded and never answered (for timeout tests). */
  hang(path: string): void {
    this.#hung.add(path);
  }

  /**
   * Runs `hook` synchronously when the next request to `path` arrives, before it is answered (or
   * hung): a test can kill the caller mid-call without waiting on a poll.
   */
  onNextRequest(path: string, hook: () => void): void {
    this.#arrivalHooks.set(path, hook);
  }

  /** Requests to `path` from now on are answered again (those already hung stay unanswered). */
  unhang(path: string): void {
    this.#hung.delete(path);
  }

  /** Requests to `path` get this status and body instead of Envoy's behaviour. */
  respond(path: string, status: number, body: string): void {
    this.#canned.set(path, { status, body });
  }

  /** Sets what this Envoy has open to `address` (`HOST:PORT`, IPv6 as `[::1]:8080`) in `cluster`. */
  setHost(cluster: string, address: string, activity: HostActivity): void {
    let hosts = this.hosts.get(cluster);
    if (!hosts) this.hosts.set(cluster, (hosts = new Map()));
    hosts.set(address, activity);
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin');
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams) });
    req.resume();
    const hook = this.#arrivalHooks.get(url.pathname);
    this.#arrivalHooks.delete(url.pathname);
    hook?.();
    if (this.#hung.has(url.pathname)) return;
    const canned = this.#canned.get(url.pathname);
    if (canned) return send(res, canned.status, canned.body);
    if (MUTATING.has(url.pathname) && method !== 'POST') {
      return send(res, 405, `Method ${method} not allowed, POST required.`);
    }
    const { status, body, json } = this.#route(url);
    send(res, status, body, json);
  }

  #route(url: URL): { status: number; body: string; json?: boolean } {
    const q = url.searchParams;
    switch (url.pathname) {
      case '/server_info':
        return { status: 200, body: JSON.stringify(this.#serverInfo(), null, 1), json: true };
      case '/ready': {
        const state = this.#state();
        return { status: state === 'LIVE' ? 200 : 503, body: `${state}\n` };
      }
      case '/stats':
        return this.#stats(q.get('format'), q.get('filter'));
      case '/clusters':
        return this.#clusters(q.get('format'));
      case '/healthcheck/fail':
        this.healthCheckFailed = true;
        return { status: 200, body: 'OK\n' };
      case '/healthcheck/ok':
        this.healthCheckFailed = false;
        return { status: 200, body: 'OK\n' };
      case '/drain_listeners':
        if (q.has('skip_exit') && !q.has('graceful') && !atLeast(this.options.version, SKIP_EXIT_ALONE_SINCE)) {
          return { status: 400, body: 'skip_exit requires graceful\n' };
        }
        return { status: 200, body: 'OK\n' };
      case '/quitquitquit':
        this.quitRequested = true;
        return { status: 200, body: 'OK\n' };
      default:
        return { status: 404, body: 'invalid path. admin commands are:\n' };
    }
  }

  #state(): string {
    return this.healthCheckFailed ? 'DRAINING' : this.options.state;
  }

  #serverInfo(): object {
    const o = this.options;
    return {
      version: `${COMMIT}/${o.version}/Clean/RELEASE/BoringSSL`,
      state: this.#state(),
      hot_restart_version: '11.104',
      command_line_options: {
        concurrency: 2,
        drain_time: o.drainTime,
        drain_strategy: o.drainStrategy,
        parent_shutdown_time: o.parentShutdownTime,
      },
      node: { ...o.node, user_agent_name: 'envoy' },
      uptime_current_epoch: '10s',
      uptime_all_epochs: '10s',
    };
  }

  #stats(format: string | null, filter: string | null): { status: number; body: string; json?: boolean } {
    let pattern: RegExp | undefined;
    try {
      pattern = filter === null ? undefined : new RegExp(filter);
    } catch {
      return { status: 400, body: 'Invalid re2 regex' };
    }
    const names = [...this.gauges.keys()].filter((n) => !pattern || pattern.test(n)).sort();
    if (format !== 'json') {
      return { status: 200, body: names.map((n) => `${n}: ${this.gauges.get(n)}\n`).join('') };
    }
    const stats: object[] = names.map((name) => ({ name, value: this.gauges.get(name) }));
    const quantiles = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100];
    stats.push({ histograms: { supported_quantiles: quantiles, computed_quantiles: [] } });
    return { status: 200, body: JSON.stringify({ stats }), json: true };
  }

  #clusters(format: string | null): { status: number; body: string; json?: boolean } {
    const clusters = [...this.hosts].map(([name, hosts]) => ({ name, hosts: [...hosts] }));
    if (format !== 'json') {
      const lines = clusters.flatMap(({ name, hosts }) =>
        hosts.flatMap(([address, a]) => [`${name}::${address}::cx_active::${a.connections}`, `${name}::${address}::rq_active::${a.requests}`]),
      );
      return { status: 200, body: lines.map((l) => `${l}\n`).join('') };
    }
    if (clusters.length === 0) return { status: 200, body: '{}', json: true };
    // A gauge at 0 has no value; the others are strings (Envoy's JSON of a uint64).
    const gauge = (name: string, value: number) => ({ type: 'GAUGE', name, ...(value !== 0 && { value: String(value) }) });
    const cluster_statuses = clusters.map(({ name, hosts }) => ({
      name,
      host_statuses: hosts.map(([address, a]) => ({
        address: { socket_address: socketAddress(address) },
        stats: [gauge('cx_active', a.connections), gauge('rq_active', a.requests)],
      })),
    }));
    return { status: 200, body: JSON.stringify({ cluster_statuses }), json: true };
  }
}

/** `HOST:PORT` as a socket_address (the host of `[::1]:8080` without brackets). */
function socketAddress(hostPort: string): { address: string; port_value: number } {
  const colon = hostPort.lastIndexOf(':');
  return { address: hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port_value: Number(hostPort.slice(colon + 1)) };
}

function send(res: ServerResponse, status: number, body: string, json = false): void {
  res.writeHead(status, { 'content-type': json ? 'application/json' : 'text/plain' });
  res.end(body);
}
