/**
 * The Envoy test double's admin API, on the bootstrap's admin address.
 *
 * Envoy's admin semantics are FakeEnvoyAdmin's (../fake-envoy-admin.ts, which cites its sources):
 * this server sits in front of one, forwards every admin request to it unchanged, and adds what
 * belongs to a process rather than to the API:
 * - /ready and /server_info report the double's real state (PRE_INITIALIZING, INITIALIZING, LIVE,
 *   and DRAINING after /healthcheck/fail), --drain-time-s, --drain-strategy and its node.
 * - Accepted mutations become events: /healthcheck/fail (with the listeners it drains, drain_type
 *   DEFAULT only), /healthcheck/ok, /drain_listeners (with its flags and the listeners it applies
 *   to: INBOUND only with inboundonly) — ENVOY-FACTS "drain_type per listener". A refused one
 *   (GET instead of POST, skip_exit without graceful) becomes an `admin_refused` event.
 * - /quitquitquit answers, then the process exits at once (ENVOY-FACTS "Why the project exists":
 *   it takes the same path as SIGTERM, no drain).
 * - /stats serves the connection gauges the test sets and listener_manager's listener gauges.
 *
 * TEST HOOK, not an Envoy endpoint: `POST /test/gauges` with a JSON body
 * `{"listeners": {"127.0.0.1_10000": 3}, "http": {"ingress_http": 3}}` replaces the connection
 * gauges `listener.<scope>.downstream_cx_active` and `http.<prefix>.downstream_cx_active`
 * (both fields optional, values non-negative integers). The same gauges go out on the
 * metrics_service sink.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeEnvoyAdmin } from '../fake-envoy-admin.js';
import { hostPort } from './bootstrap.js';
import type { ConnectionGaugeSettings, DrainStrategy, EventBody, EventSink, ListenerFacts, ServerState } from './events.js';
import type { ListenerSet } from './listeners.js';

export const GAUGES_HOOK = '/test/gauges';

/** What the admin API reports of the process. */
export interface ProcessFacts {
  node: { id: string; cluster: string };
  drainTimeS: number;
  drainStrategy: DrainStrategy;
  parentShutdownTimeS: number;
}

/** The Envoy admin API proper, on a loopback port of its own; DoubleAdmin forwards to it. */
export function startAdminApi(facts: ProcessFacts): Promise<FakeEnvoyAdmin> {
  return FakeEnvoyAdmin.start({
    state: 'PRE_INITIALIZING',
    drainTime: `${facts.drainTimeS}s`,
    drainStrategy: facts.drainStrategy === 'immediate' ? 'Immediate' : 'Gradual',
    parentShutdownTime: `${facts.parentShutdownTimeS}s`,
    node: facts.node,
  });
}

export interface DoubleAdminOptions {
  host: string;
  port: number;
  /** From startAdminApi(). */
  api: FakeEnvoyAdmin;
  listeners: ListenerSet;
  events: EventSink;
  /** Called after /quitquitquit was answered. */
  onQuit(): void;
}

const ACTIVE = '.downstream_cx_active';

/** The mutating endpoints, each with the event an accepted request becomes. */
const MUTATIONS = new Map<string, (query: URLSearchParams, listeners: readonly ListenerFacts[]) => EventBody>([
  [
    '/healthcheck/fail',
    (_query, listeners) => ({ type: 'healthcheck_fail', affects: namesOf(listeners.filter((l) => l.drain_type === 'DEFAULT')) }),
  ],
  ['/healthcheck/ok', () => ({ type: 'healthcheck_ok' })],
  [
    '/drain_listeners',
    (query, listeners) => ({
      type: 'drain_listeners',
      graceful: query.has('graceful'),
      inboundonly: query.has('inboundonly'),
      skip_exit: query.has('skip_exit'),
      listeners: namesOf(listeners.filter((l) => !query.has('inboundonly') || l.traffic_direction === 'INBOUND')),
    }),
  ],
  ['/quitquitquit', () => ({ type: 'quitquitquit' })],
]);

export class DoubleAdmin {
  #connections: ConnectionGaugeSettings = { listeners: {}, http: {} };

  private constructor(
    private readonly server: Server,
    private readonly options: DoubleAdminOptions,
  ) {}

  static async start(options: DoubleAdminOptions): Promise<DoubleAdmin> {
    const server = createServer();
    const admin = new DoubleAdmin(server, options);
    server.on('request', (req, res) => {
      admin.#handle(req, res).catch((err: unknown) => {
        if (res.headersSent) res.destroy();
        else send(res, 500, `${(err as Error).message}\n`);
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, resolve);
      });
    } catch (err) {
      await options.api.close();
      throw err;
    }
    return admin;
  }

  /** `host:port` it listens on, with the port the OS picked when asked for 0. */
  get address(): string {
    return hostPort(this.options.host, (this.server.address() as AddressInfo).port);
  }

  /** The stats /stats serves, by full name. */
  get stats(): Map<string, number> {
    return this.options.api.gauges;
  }

  /** The connection gauges last set through the test hook. */
  get connections(): ConnectionGaugeSettings {
    return this.#connections;
  }

  setState(state: ServerState): void {
    this.options.api.options.state = state;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const method = req.method ?? 'GET';
    if (url.pathname === GAUGES_HOOK) return this.#setGauges(method, await body(req), res);
    req.resume();
    const answer = await fetch(`http://${this.options.api.address}${url.pathname}${url.search}`, { method });
    const text = await answer.text();
    const mutation = MUTATIONS.get(url.pathname);
    if (mutation && answer.status !== 200) {
      this.options.events.record({ type: 'admin_refused', method, path: url.pathname, status: answer.status, body: text });
    } else if (mutation) {
      const event = mutation(url.searchParams, this.options.listeners.list());
      this.options.events.record(event);
      if (event.type === 'drain_listeners' && !event.graceful) this.options.listeners.stop(event.listeners);
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    if (url.pathname === '/quitquitquit' && answer.status === 200) res.end(text, () => this.options.onQuit());
    else res.end(text);
  }

  #setGauges(method: string, text: string, res: ServerResponse): void {
    if (method !== 'POST') return send(res, 405, `Method ${method} not allowed, POST required.`);
    const parsed = parseGauges(text);
    if (typeof parsed === 'string') return send(res, 400, `${parsed}\n`);
    for (const name of [...this.stats.keys()]) {
      if (name.endsWith(ACTIVE) && (name.startsWith('listener.') || name.startsWith('http.'))) this.stats.delete(name);
    }
    for (const [scope, value] of Object.entries(parsed.listeners)) this.stats.set(`listener.${scope}${ACTIVE}`, value);
    for (const [prefix, value] of Object.entries(parsed.http)) this.stats.set(`http.${prefix}${ACTIVE}`, value);
    this.#connections = parsed;
    this.options.events.record({ type: 'gauges_set', ...parsed });
    send(res, 200, 'OK\n');
  }
}

function parseGauges(text: string): ConnectionGaugeSettings | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `${GAUGES_HOOK} takes a JSON body`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return `${GAUGES_HOOK} takes a JSON object`;
  const settings: ConnectionGaugeSettings = { listeners: {}, http: {} };
  for (const [field, value] of Object.entries(json)) {
    if (field !== 'listeners' && field !== 'http') return `unknown field "${field}": expected "listeners" and/or "http"`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `"${field}" must map names to gauge values`;
    for (const [name, gauge] of Object.entries(value as Record<string, unknown>)) {
      if (!Number.isSafeInteger(gauge) || (gauge as number) < 0) return `"${field}.${name}" must be a non-negative integer`;
      settings[field][name] = gauge as number;
    }
  }
  return settings;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(text);
}

function namesOf(listeners: readonly ListenerFacts[]): string[] {
  return listeners.map((l) => l.name);
}
