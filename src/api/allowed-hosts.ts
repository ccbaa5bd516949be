/**
 * DNS rebinding: a web page on a name its owner then points at 127.0.0.1 reads and calls a
 * loopback API from the visitor's browser as if it were its own origin. Its requests still
 * carry its own name in Host, so an API without tokens answers only Hosts it knows: loopback,
 * the address it listens on, and the names given with --api-allowed-hosts.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenSet } from './tokens.js';

/** The Host names every API answers to. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** The probes hold no data, and a kubelet names the pod's address, whatever the list says. */
const UNCHECKED_ROUTES = new Set(['/healthz', '/readyz']);

export interface HostRule {
  /** The address the API listens on (--api-host): clients may name it. */
  readonly apiHost?: string;
  /** --api-allowed-hosts. Given, the Host is checked with tokens configured as well. */
  readonly allowed?: readonly string[];
  /** The bearer tokens in force: while there are any (and no list is given), any Host is answered. */
  readonly tokens?: () => TokenSet;
}

/** The name in a Host header: lower case, without its port, the brackets of an IPv6 address, or a final dot. */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  let name: string;
  if (h.startsWith('[')) name = h.slice(1, h.includes(']') ? h.indexOf(']') : undefined);
  else if (h.indexOf(':') !== h.lastIndexOf(':'))
    name = h; // an IPv6 address without brackets (and so without a port)
  else name = h.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

/**
 * An onRequest hook: a request whose Host is not one the rule allows gets 421 and a message
 * naming the Host and the flag that allows it. A request without Host (HTTP/1.0) passes: a
 * browser always sends one.
 */
export function requireAllowedHost(rule: HostRule) {
  const names = new Set([...LOOPBACK_NAMES, ...(rule.apiHost !== undefined ? [rule.apiHost] : []), ...(rule.allowed ?? [])].map(hostnameOf));
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (rule.allowed === undefined && (rule.tokens?.().length ?? 0) > 0) return;
    if (UNCHECKED_ROUTES.has(req.routeOptions.url ?? '')) return;
    const host = req.headers.host;
    if (host === undefined || names.has(hostnameOf(host))) return;
    await reply.code(421).send({
      error: 'host_not_allowed',
      message:
        `${req.method} ${req.url}: this API does not answer to the Host "${hostnameOf(host)}" ` +
        `(it answers to localhost, 127.0.0.1, [::1], its --api-host and the names given with --api-allowed-hosts); ` +
        'if clients reach it by this name, add it to --api-allowed-hosts',
    });
  };
}
