import type { FastifyPluginAsync } from 'fastify';
import type { FleetConfig } from '../../fleet/config.js';

/** GET /v1/config: the running config document. */
export const configRoutes: FastifyPluginAsync<{ config: () => FleetConfig }> = async (app, { config }) => {
  app.get('/v1/config', async () => {
    const c = config();
    return { source: c.source, config: c.document };
  });
};
