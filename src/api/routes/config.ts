import type { FastifyPluginAsync } from 'fastify';
import type { ConfigService } from '../../fleet/config-service.js';
import { errorSchema } from '../schemas/error.js';

const issue = {
  type: 'object',
  properties: { path: { type: 'string' }, message: { type: 'string' } },
  required: ['path', 'message'],
} as const;

const outcome = {
  type: 'object',
  properties: {
    result: { type: 'string', enum: ['applied', 'unchanged', 'rejected'] },
    nodesChanged: { type: 'integer' },
    errors: { type: 'array', items: issue },
    warnings: { type: 'array', items: issue },
  },
  required: ['result'],
} as const;

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/**
 * GET /v1/config: the running config document. PUT /v1/config: replace it atomically, as YAML
 * (content-type application/yaml) or JSON; 400 lists every error and leaves the running
 * config untouched.
 */
export const configRoutes: FastifyPluginAsync<{ config: ConfigService }> = async (app, { config }) => {
  // YAML bodies reach the handler as text; the config parser reports YAML errors with paths.
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/v1/config', async () => {
    const c = config.current;
    return { source: c.source, config: c.document };
  });

  app.put<{ Body: string | object }>(
    '/v1/config',
    {
      schema: {
        body: { anyOf: [{ type: 'object' }, { type: 'string' }] },
        // A rejected config, or a body that is not a document at all (the error handler's shape).
        response: { 200: outcome, 400: { anyOf: [outcome, errorSchema] } },
      },
    },
    async (req, reply) => {
      const result = await config.replace(req.body);
      return reply.code(result.result === 'rejected' ? 400 : 200).send(result);
    },
  );
};
