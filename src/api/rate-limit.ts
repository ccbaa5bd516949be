import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import { callerOf, isMutating } from './auth.js';

export const DEFAULT_MUTATIONS_PER_MINUTE = 30;

/**
 * Limits mutating requests to `perMinute` per caller (its token, or its address when the API
 * takes no token) over a fixed one-minute window, so a burst of up to `perMinute` goes through
 * at once. Reads are never limited: progress polls and event streams must not starve. Beyond
 * the limit: 429 with Retry-After (seconds) and the API's error body.
 *
 * These are options for @fastify/rate-limit, registered on the root app before the routes: it
 * attaches itself to each route as the route is added.
 */
export function mutationRateLimit(perMinute: number): RateLimitPluginOptions {
  return {
    max: perMinute,
    timeWindow: 60_000,
    allowList: (req) => !isMutating(req),
    // Runs after the token check (route hooks follow app hooks), which records the caller's token.
    keyGenerator: (req) => callerOf(req),
    errorResponseBuilder: (req, context) =>
      Object.assign(
        new Error(
          `${req.method} ${req.url}: more than ${context.max} mutating requests in a minute from this caller; retry in ${Math.ceil(context.ttl / 1000)} s`,
        ),
        { statusCode: context.statusCode, code: 'rate_limited' },
      ),
  };
}
