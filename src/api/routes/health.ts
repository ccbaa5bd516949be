import type { FastifyPluginAsync } from 'fastify';

const status = {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
} as const;

/** Liveness and readiness. Readiness is 503 while the daemon starts or shuts down. */
export const healthRoutes: FastifyPluginAsync<{ ready: () => boolean }> = async (app, { ready }) => {
  app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: status, 503: status } } }, async (_req, reply) => {
    if (ready()) return { status: 'ready' };
    return reply.code(503).send({ status: 'not ready' });
  });
};
