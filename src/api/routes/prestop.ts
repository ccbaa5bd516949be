import type { FastifyPluginAsync } from 'fastify';
import type { PrestopResult } from '../../fleet/drain/prestop-result.js';

/**
 * GET /v1/prestop, for a Kubernetes httpGet preStop hook: blocks until the local drain is
 * complete or its budget ends. A SIGTERM that arrives meanwhile joins the same drain.
 */
export const prestopRoutes: FastifyPluginAsync<{ prestop: () => Promise<PrestopResult> }> = async (app, { prestop }) => {
  app.get(
    '/v1/prestop',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { outcome: { type: 'string' }, elapsedSeconds: { type: 'number' } },
          },
        },
      },
    },
    async () => prestop(),
  );
};
