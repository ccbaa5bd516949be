/**
 * A client for Envoy's admin API, the endpoints drainplane uses to drain and watch the Envoy it
 * supervises. Every call that changes Envoy is a POST: Envoy refuses mutations over GET.
 */
import { adminEndpoint } from './admin-address.js';
import { AdminTransport, renderPath, type AdminQuery } from './admin-transport.js';
import type { ConnectionGaugeValues } from '../gauges/connection-gauges.js';
import { connectionGauges, CONNECTION_GAUGES_FILTER } from './connection-gauges.js';
import { drainListenersQuery, drainNeedsVersion, type DrainListenersOptions } from './drain-query.js';
import { parseServerInfo, type ServerInfo, type ServerState } from './server-info.js';
import { parseClustersJson, type ParsedHostCounts } from './host-counts.js';
import { parseStatsJson, statsFilterPattern } from './stats.js';

export type { DrainListenersOptions } from './drain-query.js';
export { EnvoyAdminError, EnvoyVersionError, type EnvoyAdminErrorCode } from './errors.js';
export type { DrainStrategy, ServerInfo, ServerState } from './server-info.js';

export interface EnvoyAdminOptions {
  /** `host:port` of the admin listener; IPv6 as `[::1]:9901`. */
  readonly address: string;
  /** Deadline of each call, connect to last body byte. */
  readonly timeoutMs?: number;
  /** Permit a non-loopback address. Only for an address an operator configured. */
  readonly allowRemote?: boolean;
}

export const DEFAULT_ADMIN_TIMEOUT_MS = 2000;

export class EnvoyAdmin {
  readonly address: string;
  readonly #http: AdminTransport;

  constructor(options: EnvoyAdminOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_ADMIN_TIMEOUT_MS;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    const endpoint = adminEndpoint(options.address, options.allowRemote === true);
    this.address = endpoint.address;
    this.#http = new AdminTransport(endpoint, timeoutMs);
  }

  /** GET /server_info: release, state, and the drain settings from Envoy's command line. */
  async serverInfo(): Promise<ServerInfo> {
    return this.#getJson('/server_info', [], parseServerInfo);
  }

  /** GET /stats?format=json, counters and gauges whose names match the RE2 `filter`. */
  async stats(filter?: RegExp | string): Promise<Map<string, number>> {
    const query: AdminQuery =
      filter === undefined
        ? [['format', 'json']]
        : [
            ['format', 'json'],
            ['filter', statsFilterPattern(filter)],
          ];
    return this.#getJson('/stats', query, parseStatsJson);
  }

  /** Active connections per listener address and per HTTP prefix, without admin and per-worker names. */
  async connectionGauges(): Promise<ConnectionGaugeValues> {
    return connectionGauges(await this.stats(CONNECTION_GAUGES_FILTER));
  }

  /** GET /clusters?format=json: requests and connections open to each upstream host. */
  async hostCounts(): Promise<ParsedHostCounts> {
    return this.#getJson('/clusters', [['format', 'json']], parseClustersJson);
  }

  /** GET /ready: 'LIVE' (200), otherwise the state Envoy names with its 503, e.g. 'DRAINING'. */
  async ready(): Promise<ServerState> {
    const res = await this.#http.call('GET', '/ready', [200, 503]);
    const state = res.body.trim();
    if (res.status === 200 && state === 'LIVE') return 'LIVE';
    if (res.status === 503 && /^[A-Z_]+$/.test(state) && state !== 'LIVE') return state;
    throw this.#http.error('GET', '/ready', {
      code: 'bad_response',
      status: res.status,
      detail: `HTTP ${res.status} with state ${JSON.stringify(state.slice(0, 40))}`,
    });
  }

  /**
   * POST /healthcheck/fail: /ready turns DRAINING and listeners with drain_type DEFAULT start
   * draining; MODIFY_ONLY (egress) listeners keep going.
   */
  async healthcheckFail(): Promise<void> {
    await this.#post('/healthcheck/fail');
  }

  /** POST /healthcheck/ok: /ready turns LIVE again. */
  async healthcheckOk(): Promise<void> {
    await this.#post('/healthcheck/ok');
  }

  /**
   * POST /drain_listeners. A graceful inbound-only drain and skip_exit without graceful depend on
   * the Envoy version (see DrainListenersOptions); without `envoyVersion` it is read from
   * /server_info first. Refusals (EnvoyVersionError) happen before anything is sent.
   */
  async drainListeners(options: DrainListenersOptions, envoyVersion?: string): Promise<void> {
    const version = drainNeedsVersion(options) && envoyVersion === undefined ? (await this.serverInfo()).version : envoyVersion;
    await this.#post('/drain_listeners', drainListenersQuery(options, version));
  }

  /** POST /quitquitquit: Envoy exits at once, without draining (same path as SIGTERM). */
  async quitQuitQuit(): Promise<void> {
    await this.#post('/quitquitquit');
  }

  /** Closes the connections to the admin listener once calls in flight ended. */
  close(): Promise<void> {
    return this.#http.close();
  }

  async #post(path: string, query: AdminQuery = []): Promise<void> {
    await this.#http.call('POST', renderPath(path, query));
  }

  async #getJson<T>(path: string, query: AdminQuery, decode: (json: unknown) => T): Promise<T> {
    const sent = renderPath(path, query);
    const res = await this.#http.call('GET', sent);
    try {
      return decode(JSON.parse(res.body));
    } catch (err) {
      throw this.#http.error('GET', sent, {
        code: 'bad_response',
        status: res.status,
        detail: `unexpected body (${err instanceof Error ? err.message : String(err)})`,
        cause: err,
      });
    }
  }
}
