import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StoreHealth } from '../fleet/ports/store-health.js';
import { MUTATING } from './auth.js';

/**
 * An onRequest hook: while the state store is unreachable, changes are refused with 503 and
 * the reason (reads keep answering from the last known state). A change made on one replica
 * must reach the store before it may act: the other replicas, and this one after a restart,
 * would never see it.
 */
export function refuseWhileStoreUnavailable(health: StoreHealth) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!MUTATING.has(req.method)) return;
    const reason = health.unavailable();
    if (reason === undefined) return;
    await reply
      .code(503)
      .header('retry-after', '1')
      .send({ error: 'store-unavailable', message: `${req.method} ${req.url}: the state store cannot take changes now: ${reason}` });
  };
}
