import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLoopback } from '../net/loopback.js';
import { AuthFailureLimiter } from './auth-failures.js';
import { findToken, type Scope, type TokenSet } from './tokens.js';

export const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Open to all, whatever tokens are configured: the kubelet's probes, and the console's static
 * files (they hold no data: the page asks for a token and sends it with each API call).
 */
const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/ui', '/ui/', '/ui/*']);

/** POSTs that change nothing (a dry run): read scope, and not rate-limited. */
const READ_ONLY_POSTS = new Set(['/v1/drains/preview']);

/** Starts the local drain of `drainplane run`: a mutation, though a GET (for httpGet hooks). */
const PRESTOP_ROUTE = '/v1/prestop';

export function isMutating(req: FastifyRequest): boolean {
  return MUTATING.has(req.method) && !READ_ONLY_POSTS.has(req.routeOptions.url ?? '');
}

/** The token each authorized request carried, for rate limiting per token. */
const callers = new WeakMap<FastifyRequest, string>();

/** Who made the request, for rate limiting: its token (by digest), else its address. */
export function callerOf(req: FastifyRequest): string {
  return callers.get(req) ?? `address ${req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * The scope a request needs, or undefined when it needs none. Mutations need admin; every
 * other route (the API, /metrics, /openapi.json, and unknown paths) needs read, except the
 * probes. GET /v1/prestop starts a drain, so it needs admin, except from loopback: the exec
 * preStop hook (`drainplane prestop`) runs in the pod and carries no token. Loopback is the
 * socket's peer: no forwarding header is trusted.
 */
function scopeNeeded(req: FastifyRequest): Scope | undefined {
  const route = req.routeOptions.url;
  if (route !== undefined && OPEN_ROUTES.has(route)) return undefined;
  if (isMutating(req)) return 'admin';
  if (route === PRESTOP_ROUTE) return isLoopback(req.socket.remoteAddress ?? '') ? undefined : 'admin';
  return 'read';
}

const WANTED: Record<Scope, string> = { read: 'a read or admin token', admin: 'an admin token' };

/**
 * An onRequest hook: with any token configured, each request must carry
 * `Authorization: Bearer TOKEN` with the scope its route needs. 401 without a known token,
 * 403 for a read token on an admin route; the message names the method, path and scope. An
 * address with too many 401s in a minute gets 429 until its minute is over (auth-failures.ts).
 */
export function requireTokens(tokens: () => TokenSet, failures = new AuthFailureLimiter()) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const configured = tokens();
    if (configured.length === 0) return;
    const needed = scopeNeeded(req);
    if (needed === undefined) return;
    const target = `${req.method} ${req.url}`;
    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = failures.blockedFor(address);
    if (wait > 0) {
      await reply
        .code(429)
        .header('retry-after', String(wait))
        .send({ error: 'rate_limited', message: `${target}: too many requests with a missing or unknown token from ${address}; retry in ${wait} s` });
      return;
    }
    const presented = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = presented === undefined ? undefined : findToken(configured, presented);
    if (!token) {
      failures.recordFailure(address);
      const message =
        presented === undefined
          ? `${target} needs "Authorization: Bearer <${needed === 'admin' ? 'admin token' : 'read or admin token'}>"`
          : `${target}: the bearer token is not one drainplane knows; this route needs ${WANTED[needed]}`;
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message });
      return;
    }
    if (needed === 'admin' && token.scope !== 'admin') {
      await reply.code(403).send({ error: 'forbidden', message: `${target} needs ${WANTED.admin}; this token has the read scope` });
      return;
    }
    callers.set(req, `token ${token.digest.toString('hex')}`);
  };
}
