/**
 * The HTTP side of the client commands: where the API is, the admin token, requests and
 * server-sent events, and turning every way a request can go wrong into one CLI error with
 * exit code 3 that carries the API's own message.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request, type Dispatcher } from 'undici';
import type { FieldError } from '../api/schemas/error.js';
import { CliError } from './errors.js';

// The API's answers, typed from the schemas the API itself checks and serializes them with.
export type { BatchDigest, DrainDigest, DrainView, NodeProgressView, PhaseDigest, PhaseView } from '../api/schemas/drain.js';
export type { NodePage, NodeView } from '../api/schemas/nodes.js';

export const DEFAULT_API = 'http://127.0.0.1:9902';

/** Exit code of every failure to get an answer from the API, or an error answer. */
const API_EXIT_CODE = 3;

/** The API answered with an error status. */
export class ApiError extends CliError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, API_EXIT_CODE);
  }
}

/** No usable answer: refused, reset, timed out, cut off, or not what was asked for. */
export class ApiTransportError extends CliError {
  constructor(message: string) {
    super(message, API_EXIT_CODE);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;
/** The server sends a comment every 15 s; three missed means the connection is dead, not idle. */
const EVENT_STREAM_IDLE_MS = 45_000;

export class ApiClient {
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #dispatcher: Dispatcher | undefined;

  /** `ca`: the CA bundle that an https API's certificate must chain to, instead of the system's. */
  constructor(baseUrl: string, token: string | undefined, ca?: Buffer) {
    let base: URL;
    try {
      base = new URL(baseUrl);
    } catch {
      throw new CliError(`--api: not a URL: "${baseUrl}"`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new CliError(`--api: must be an http:// or https:// URL, got "${baseUrl}"`);
    }
    // A trailing slash makes relative paths resolve under a prefix (an API behind a proxy at /drainplane/).
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.#base = base;
    this.#token = token;
    this.#dispatcher = ca && new Agent({ connect: { ca } });
  }

  /**
   * The client the `--api`, `--token-file` (or the token variables) and `--ca-file` (or
   * DRAINPLANE_CA_FILE) flags describe.
   */
  static async fromFlags(values: Readonly<Record<string, string | boolean | undefined>>): Promise<ApiClient> {
    const api = (values['api'] as string | undefined) ?? DEFAULT_API;
    const ca = await readCa((values['ca-file'] as string | undefined) ?? nonEmpty(process.env['DRAINPLANE_CA_FILE']));
    return new ApiClient(api, await readToken(values['token-file'] as string | undefined), ca);
  }

  get<T>(path: string): Promise<T> {
    return this.#json<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.#json<T>('POST', path, body);
  }

  /** The server-sent events at `path`, until the server ends the stream. */
  async *events(path: string): AsyncGenerator<ServerEvent> {
    const res = await this.#send('GET', path, undefined, { accept: 'text/event-stream' }, EVENT_STREAM_IDLE_MS);
    const type = String(res.headers['content-type'] ?? '');
    if (!type.startsWith('text/event-stream')) {
      await res.body.dump();
      throw new ApiTransportError(`GET ${path}: expected an event stream, got content-type "${type}"`);
    }
    try {
      yield* parseEventStream(res.body);
    } catch (err) {
      throw new ApiTransportError(`GET ${path}: the event stream broke: ${(err as Error).message}`);
    } finally {
      res.body.destroy();
    }
  }

  async #json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.#send(method, path, body, { accept: 'application/json' }, REQUEST_TIMEOUT_MS);
    try {
      return (await res.body.json()) as T;
    } catch (err) {
      throw new ApiTransportError(`${method} ${path}: the answer is not JSON: ${(err as Error).message}`);
    }
  }

  /** Sends a request; an error status becomes an ApiError carrying the API's own message. */
  async #send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    headers: Record<string, string>,
    bodyTimeout: number,
  ): Promise<Dispatcher.ResponseData> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    const all: Record<string, string> = { ...headers };
    if (this.#token !== undefined) all['authorization'] = `Bearer ${this.#token}`;
    // Every change says JSON, with a body or without: the API refuses changes of any other type (body-types.ts).
    if (method !== 'GET') all['content-type'] = 'application/json';
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        headers: all,
        body: body === undefined ? null : JSON.stringify(body),
        headersTimeout: REQUEST_TIMEOUT_MS,
        bodyTimeout,
        ...(this.#dispatcher && { dispatcher: this.#dispatcher }),
      });
    } catch (err) {
      throw new ApiTransportError(`cannot reach the API at ${this.#base.href}: ${describeNetworkError(err)}`);
    }
    if (res.statusCode >= 400) throw await decodeError(method, path, res);
    return res;
  }
}

/**
 * The error answers of the API: `{error, message}`, with `errors: [{field, message}]` on a
 * refused drain, or fastify's `{statusCode, error, message}` for a request its schema refused.
 * Every field error gets its own line.
 */
async function decodeError(method: string, path: string, res: Dispatcher.ResponseData): Promise<ApiError> {
  const text = await res.body.text().catch(() => '');
  let parsed: { error?: unknown; message?: unknown; errors?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not JSON (a proxy's error page, say): the text itself is the message.
  }
  const code = typeof parsed.error === 'string' ? ` ${parsed.error}` : '';
  const head = `${method} ${path}: ${res.statusCode}${code}`;
  const fields = Array.isArray(parsed.errors) ? (parsed.errors as FieldError[]) : [];
  if (fields.length > 0) {
    return new ApiError(`${head}\n${fields.map((e) => `  ${e.field}: ${e.message}`).join('\n')}`, res.statusCode);
  }
  const message = typeof parsed.message === 'string' ? parsed.message : text.trim().slice(0, 500);
  return new ApiError(message === '' ? head : `${head}: ${message}`, res.statusCode);
}

/** TLS verification failures that a private CA given with --ca-file would fix. */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  // Connection failures to several addresses (localhost: ::1 and 127.0.0.1) arrive as one AggregateError.
  const inner = err instanceof AggregateError ? err.errors.map((e: Error) => e.message).join('; ') : '';
  const hint = code !== undefined && UNTRUSTED_CERTIFICATE.has(code) ? ' (trust its CA with --ca-file or DRAINPLANE_CA_FILE)' : '';
  return (inner || err.message || code || err.name) + hint;
}

/**
 * The bearer token, from a file (trailing newline trimmed), else DRAINPLANE_API_TOKEN (admin),
 * else DRAINPLANE_READ_TOKEN (enough for the commands that only read).
 */
export async function readToken(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    const token = (
      await readFile(file, 'utf8').catch((err: Error) => {
        throw new CliError(`--token-file: cannot read ${file}: ${err.message}`);
      })
    ).trim();
    if (token === '') throw new CliError(`--token-file: ${file} is empty`);
    return token;
  }
  for (const name of ['DRAINPLANE_API_TOKEN', 'DRAINPLANE_READ_TOKEN']) {
    const env = process.env[name]?.trim();
    if (env !== undefined && env !== '') return env;
  }
  return undefined;
}

/** The CA bundle that verifies an https API (--ca-file or DRAINPLANE_CA_FILE). */
async function readCa(file: string | undefined): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  return readFile(file).catch((err: Error) => {
    throw new CliError(`--ca-file: cannot read ${file}: ${err.message}`);
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}

export interface ServerEvent {
  readonly event: string;
  readonly data: string;
}

/** The text/event-stream format: `field: value` lines, an empty line ends an event, `:` a comment. */
async function* parseEventStream(body: AsyncIterable<Buffer>): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let event = '';
  let data: string[] = [];
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(buffered.startsWith('\r\n', nl) ? nl + 2 : nl + 1);
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
}
