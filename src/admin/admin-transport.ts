/**
 * HTTP to one Envoy admin listener, with one deadline per call covering connect, headers and
 * body, and every failure turned into an EnvoyAdminError.
 */
import { Pool } from 'undici';
import type { AdminEndpoint } from './admin-address.js';
import { EnvoyAdminError } from './errors.js';

/** Query parameters in order. `true` is a bare flag (`?graceful`), the form Envoy documents. */
export type AdminQuery = ReadonlyArray<readonly [name: string, value: string | true]>;

export interface AdminResponse {
  readonly status: number;
  readonly body: string;
}

// undici's own timers are coarse (they may fire hundreds of ms late), so the deadline is an
// AbortSignal; these codes still count as a timeout should undici's backstop fire first.
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const ERROR_BODY_CHARS = 200;

export function renderPath(path: string, query: AdminQuery = []): string {
  if (query.length === 0) return path;
  const parts = query.map(([name, value]) =>
    value === true ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(value)}`,
  );
  return `${path}?${parts.join('&')}`;
}

export class AdminTransport {
  readonly #endpoint: AdminEndpoint;
  readonly #timeoutMs: number;
  readonly #pool: Pool;

  constructor(endpoint: AdminEndpoint, timeoutMs: number) {
    this.#endpoint = endpoint;
    this.#timeoutMs = timeoutMs;
    // Two connections: a status poll is not stuck behind one slow call (e.g. a large /stats).
    this.#pool = new Pool(endpoint.origin, {
      connections: 2,
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /**
   * Sends one request and reads the whole body. Statuses outside `accept` are an 'http_status'
   * error carrying the start of Envoy's body, which says what it objected to.
   */
  async call(method: 'GET' | 'POST', path: string, accept: readonly number[] = [200]): Promise<AdminResponse> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let response: AdminResponse;
    try {
      const res = await this.#pool.request({ method, path, signal });
      response = { status: res.statusCode, body: await res.body.text() };
    } catch (err) {
      const timedOut = signal.aborted || TIMEOUT_CODES.has(errorCode(err) ?? '');
      throw this.error(method, path, {
        code: timedOut ? 'timeout' : 'unreachable',
        detail: timedOut ? `no response within ${this.#timeoutMs} ms` : `unreachable (${describe(err)})`,
        cause: err,
      });
    }
    if (!accept.includes(response.status)) {
      const body = response.body.trim().slice(0, ERROR_BODY_CHARS);
      throw this.error(method, path, {
        code: 'http_status',
        status: response.status,
        detail: `HTTP ${response.status}${body ? `: ${body}` : ''}`,
      });
    }
    return response;
  }

  /** An error for this endpoint; also used by callers whose decoding of a body failed. */
  error(
    method: 'GET' | 'POST',
    path: string,
    e: { code: EnvoyAdminError['code']; detail: string; status?: number; cause?: unknown },
  ): EnvoyAdminError {
    return new EnvoyAdminError(
      { code: e.code, address: this.#endpoint.address, method, path, status: e.status, detail: e.detail },
      { cause: e.cause },
    );
  }

  /** Waits for calls in flight (each bounded by its deadline), then closes the connections. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = errorCode(err);
  return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}
