/**
 * Single HTTP/1.1 GETs through an Envoy listener, reporting what a client notices: the status and
 * whether the response told it to close the connection (Envoy's HTTP/1.1 drain signal).
 */
import { Client } from 'undici';

export interface Answer {
  readonly status: number;
  /** The response's `Connection` header, '' when absent. */
  readonly connection: string;
}

const TIMEOUT_MS = 2_000;

/** A keep-alive connection to 127.0.0.1:port (opened by its first request); destroy() it when done. */
export function keepAlive(port: number): Client {
  return new Client(`http://127.0.0.1:${port}`, { pipelining: 1, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
}

/** One GET on the client's connection. */
export async function get(client: Client, path: string): Promise<Answer> {
  const res = await client.request({ method: 'GET', path });
  await res.body.text();
  return { status: res.statusCode, connection: String(res.headers['connection'] ?? '') };
}

/** One GET on a new connection, closed afterwards; rejects when the connection is refused. */
export async function getOnce(port: number, path: string): Promise<Answer> {
  const client = keepAlive(port);
  try {
    return await get(client, path);
  } finally {
    await client.destroy().catch(() => {});
  }
}
