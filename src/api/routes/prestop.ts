import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { PrestopResult } from '../../fleet/drain/prestop-result.js';
import { refuseFromWebPages } from '../hook-guard.js';
import { errorSchema } from '../schemas/error.js';
import { ReplyObject } from '../schemas/typebox.js';

/**
 * GET /v1/prestop, for a Kubernetes httpGet preStop hook: blocks until the local drain is
 * complete or its budget ends. A SIGTERM that arrives meanwhile joins the same drain. From
 * loopback it needs no token, so requests from web pages are refused (hook-guard.ts).
 */
export const prestopRoutes: FastifyPluginAsyncTypebox<{ prestop: () => Promise<PrestopResult> }> = async (app, { prestop }) => {
  app.get(
    '/v1/prestop',
    {
      schema: { response: { 200: ReplyObject({ outcome: Type.String(), elapsedSeconds: Type.Number() }), 403: errorSchema } },
      onRequest: refuseFromWebPages,
    },
    async () => prestop(),
  );
};
