/**
 * Where the admin API is reached. The admin API can stop listeners and end the process, and it
 * has no authentication, so drainplane talks to it on loopback only, unless an operator configured
 * a remote address on purpose (`allowRemote`).
 */
import { isIPv6 } from 'node:net';
import { isLoopback } from '../net/loopback.js';

export interface AdminEndpoint {
  /** The address as configured, `host:port`, for messages. */
  readonly address: string;
  /** The HTTP origin for the client, e.g. `http://[::1]:9901`. */
  readonly origin: string;
}

/** Splits `host:port` (IPv6 in brackets: `[::1]:9901`) and enforces the loopback rule. */
export function adminEndpoint(address: string, allowRemote: boolean): AdminEndpoint {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(address) ?? /^([^:[\]\s/]+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535) || (address.startsWith('[') && !isIPv6(m[1]!))) {
    throw new RangeError(`Envoy admin address "${address}" is not host:port (IPv6 as [addr]:port)`);
  }
  const host = m[1]!;
  if (!allowRemote && !isLoopback(host)) {
    throw new RangeError(
      `Envoy admin address "${address}" is not loopback: the admin API is only reached on ` +
        '127.0.0.0/8, ::1 or localhost unless allowRemote is set for a configured address',
    );
  }
  return { address, origin: `http://${isIPv6(host) ? `[${host}]` : host}:${port}` };
}
