import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * An onRequest hook: with a token configured, every mutating request must carry
 * `Authorization: Bearer TOKEN`. Compared in constant time (over digests, so the length of the
 * token leaks nothing either).
 */
export function requireAdminToken(token: string) {
  const expected = digest(token);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!MUTATING.has(req.method)) return;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: `${req.method} ${req.url} needs "Authorization: Bearer <admin token>"` });
    }
  };
}
