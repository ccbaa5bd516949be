import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const status = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) });

/** Says why the daemon is not ready, or null when it is. */
export type ReadinessCheck = () => Promise<string | null>;

/** Liveness and readiness. Readiness is 503, with the reason, until the check passes. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ readiness: ReadinessCheck }> = async (app, { readiness }) => {
  app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: status, 503: status } } }, async (_req, reply) => {
    const reason = await readiness();
    if (reason === null) return { status: 'ready' };
    return reply.code(503).send({ status: 'not ready', reason });
  });
};
