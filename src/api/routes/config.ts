import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ConfigService, ReloadResult } from '../../fleet/config-service.js';
import { KEPT_CONFIG_VERSIONS } from '../../fleet/config-version.js';
import { JSON_TYPE } from '../json-body.js';
import { errorSchema } from '../schemas/error.js';
import { Narrowed, ReplyObject, StringEnum } from '../schemas/typebox.js';

const issue = Type.Object({ path: Type.String(), message: Type.String() });

const RESULTS: readonly ReloadResult['result'][] = ['applied', 'unchanged', 'rejected'];

const outcome = Type.Object({
  result: StringEnum(RESULTS),
  nodesChanged: Type.Optional(Type.Integer()),
  errors: Type.Optional(Type.Array(issue)),
  warnings: Type.Optional(Type.Array(issue)),
});

const versionInfo = Type.Object({
  version: Type.Integer(),
  sha256: Type.String(),
  at: Type.String(),
  origin: Type.String(),
  replica: Type.String(),
});

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/**
 * GET /v1/config: the running config document and its version; GET /v1/config/versions: the
 * kept versions (/:version with its text). PUT /v1/config: replace it atomically, as YAML
 * (content-type application/yaml) or JSON; 400 lists every error and leaves the running
 * config untouched.
 */
export const configRoutes: FastifyPluginAsyncTypebox<{ config: ConfigService }> = async (app, { config }) => {
  // YAML bodies reach the handler as text; the config parser reports YAML errors with paths.
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/v1/config', async () => {
    const c = config.current;
    return { source: c.source, version: config.version ?? null, config: c.document };
  });

  app.get('/v1/config/versions', { schema: { response: { 200: ReplyObject({ versions: Type.Array(versionInfo) }) } } }, async () => ({
    versions: await config.versions(),
  }));

  app.get(
    '/v1/config/versions/:version',
    {
      schema: {
        params: Type.Object({ version: Type.Integer({ minimum: 1 }) }),
        response: { 200: Type.Object({ ...versionInfo.properties, text: Type.Optional(Type.String()) }), 404: errorSchema },
      },
    },
    async (req, reply) => {
      const stored = await config.storedVersion(req.params.version);
      if (stored) return stored;
      return reply
        .code(404)
        .send({ error: 'not_found', message: `config version ${req.params.version} is not kept (the last ${KEPT_CONFIG_VERSIONS} are)` });
    },
  );

  app.put(
    '/v1/config',
    {
      config: { bodyTypes: [JSON_TYPE, ...YAML_TYPES] },
      schema: {
        body: Type.Union([Narrowed<object>({ type: 'object' }), Type.String()]),
        // A rejected config, or a body that is not a document at all (the error handler's shape).
        response: { 200: outcome, 400: Type.Union([outcome, errorSchema]) },
      },
    },
    async (req, reply) => {
      const result = await config.replace(req.body);
      // Its lists are readonly, the schema's type has them mutable: the reply only reads them.
      return reply.code(result.result === 'rejected' ? 400 : 200).send(result as Static<typeof outcome>);
    },
  );
};
