import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BuildInfo } from '../../resource/envoy-api.js';
import { Nullable } from '../schemas/typebox.js';

const infoSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  envoyApi: Type.Object(
    {
      version: Type.String({ description: 'The Envoy release whose API drainplane accepts and encodes, e.g. "1.40.0"' }),
      installed: Type.Boolean(),
      envoyCommit: Type.Optional(Nullable(Type.String({ description: 'The envoyproxy/envoy commit the API was generated from' }))),
      module: Type.Optional(Type.String({ description: 'The Go module (and version) the file descriptors come from' })),
      files: Type.Optional(Type.Integer({ description: 'How many .proto files the API holds' })),
      sha256: Type.Optional(Type.String({ description: 'sha256 of the installed descriptor set' })),
    },
    { additionalProperties: false },
  ),
});

/** GET /v1/info: drainplane's version and the Envoy API it is built on. */
export const infoRoutes: FastifyPluginAsyncTypebox<{ info: BuildInfo }> = async (app, { info }) => {
  app.get('/v1/info', { schema: { response: { 200: infoSchema } } }, async () => info);
};
