import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

/** Prometheus text exposition of drainplane's own metrics. */
export const metricsRoutes: FastifyPluginAsync<{ registry: Registry }> = async (app, { registry }) => {
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};
