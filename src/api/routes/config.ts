import type { FastifyPluginAsync } from 'fastify';
import type { ConfigService } from '../../fleet/config-service.js';
import { KEPT_CONFIG_VERSIONS } from '../../fleet/config-version.js';
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

const versionInfo = {
  type: 'object',
  properties: {
    version: { type: 'integer' },
    sha256: { type: 'string' },
    at: { type: 'string' },
    origin: { type: 'string' },
    replica: { type: 'string' },
  },
  required: ['version', 'sha256', 'at', 'origin', 'replica'],
} as const;

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/**
 * GET /v1/config: the running config document and its version; GET /v1/config/versions: the
 * kept versions (/:version with its text). PUT /v1/config: replace it atomically, as YAML
 * (content-type application/yaml) or JSON; 400 lists every error and leaves the running
 * config untouched.
 */
export const configRoutes: FastifyPluginAsync<{ config: ConfigService }> = async (app, { config }) => {
  // YAML bodies reach the handler as text; the config parser reports YAML errors with paths.
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/v1/config', async () => {
    const c = config.current;
    return { source: c.source, version: config.version ?? null, config: c.document };
  });

  app.get(
    '/v1/config/versions',
    { schema: { response: { 200: { type: 'object', properties: { versions: { type: 'array', items: versionInfo } } } } } },
    async () => ({ versions: await config.versions() }),
  );

  app.get<{ Params: { version: number } }>(
    '/v1/config/versions/:version',
    {
      schema: {
        params: { type: 'object', properties: { version: { type: 'integer', minimum: 1 } }, required: ['version'] },
        response: { 200: { ...versionInfo, properties: { ...versionInfo.properties, text: { type: 'string' } } }, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const stored = await config.storedVersion(req.params.version);
      if (stored) return stored;
      return reply.code(404).send({ error: 'not_found', message: `config version ${req.params.version} is not kept (the last ${KEPT_CONFIG_VERSIONS} are)` });
    },
  );

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
