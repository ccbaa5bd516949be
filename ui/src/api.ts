/**
 * The API client of the page: the same endpoints and the same bearer token as the CLI. A 401
 * asks the operator for the token (once, whatever number of requests were refused) and retries.
 */
import type { FieldError } from './types.js';

/** The page is served at <base>/ui/ and the API at <base>/v1/..., behind a prefix or not. */
const BASE = new URL('../', document.baseURI);

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly fields: readonly FieldError[],
  ) {
    super(message);
  }
}

export interface TokenSource {
  current(): string | undefined;
  /** Asks the operator for the token; undefined when they decline. */
  ask(why: string): Promise<string | undefined>;
}

export class Api {
  constructor(private readonly tokens: TokenSource) {}

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await this.#fetch('GET', path, undefined, 'application/json', signal)).json() as Promise<T>;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.#fetch('POST', path, body, 'application/json')).json() as Promise<T>;
  }

  /** A GET whose body the caller reads as it comes (server-sent events). */
  stream(path: string, signal: AbortSignal): Promise<Response> {
    return this.#fetch('GET', path, undefined, 'text/event-stream', signal);
  }

  async #fetch(method: string, path: string, body: unknown, accept: string, signal?: AbortSignal): Promise<Response> {
    for (let asked = false; ; asked = true) {
      const headers: Record<string, string> = { accept };
      const token = this.tokens.current();
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      // Every change says JSON, with a body or without: the API refuses changes of any other type.
      if (method !== 'GET') headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(new URL(path.replace(/^\//, ''), BASE), {
          method,
          headers,
          cache: 'no-store',
          ...(body !== undefined && { body: JSON.stringify(body) }),
          ...(signal && { signal }),
        });
      } catch (err) {
        // fetch says only "Failed to fetch": say which call, and that no answer came.
        if (signal?.aborted) throw err;
        throw new ApiError(`${method} ${path}: could not reach drainplane (${(err as Error).message})`, 0, []);
      }
      if (res.status === 401 && !asked) {
        const why = token === undefined ? `${method} ${path} needs the API token.` : `The API refused the token for ${method} ${path}.`;
        if ((await this.tokens.ask(why)) !== undefined) continue;
      }
      if (!res.ok) throw await apiError(method, path, res);
      return res;
    }
  }
}

/** The API's error answer `{error, message, errors?}` as one error naming every field. */
async function apiError(method: string, path: string, res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let parsed: { message?: unknown; errors?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  const fields = Array.isArray(parsed.errors) ? (parsed.errors as FieldError[]) : [];
  const message = typeof parsed.message === 'string' ? parsed.message : `${res.status} ${res.statusText}`;
  return new ApiError(`${method} ${path}: ${message}`, res.status, fields);
}
