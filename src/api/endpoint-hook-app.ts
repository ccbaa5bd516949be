/**
 * The HTTP side of `drainplane prestop-hook`: a backend pod's preStop as an httpGet hook, for
 * application images that have no drainplane command to exec. The hook runs beside the app (a
 * sidecar); the kubelet's GET /v1/prestop drains the app's endpoint in every Envoy and answers
 * once that drain ended, and only then does the kubelet send the app SIGTERM.
 */
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { refuseFromWebPages } from './hook-guard.js';
import { errorSchema } from './schemas/error.js';
import { ReplyObject } from './schemas/typebox.js';

export interface EndpointHookResult {
  readonly endpoint: string;
  /** The endpoint drain's id. */
  readonly drain: string;
  /** How it ended: completed, timed_out, failed or cancelled. */
  readonly state: string;
  readonly elapsedSeconds: number;
}

export interface EndpointHookDeps {
  /** Drains the endpoint fleet-wide, once however often it is asked, and resolves when that drain ended. */
  readonly prestop: () => Promise<EndpointHookResult>;
  readonly logger: FastifyBaseLogger;
}

const resultSchema = ReplyObject({ endpoint: Type.String(), drain: Type.String(), state: Type.String(), elapsedSeconds: Type.Number() });

export function buildEndpointHook(deps: EndpointHookDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger }).withTypeProvider<TypeBoxTypeProvider>();
  app.get('/healthz', { schema: { response: { 200: ReplyObject({ status: Type.String() }) } } }, async () => ({ status: 'ok' }));
  app.get(
    '/v1/prestop',
    { schema: { response: { 200: resultSchema, 403: errorSchema, 502: errorSchema } }, onRequest: refuseFromWebPages },
    async (_req, reply) => {
      try {
        return await deps.prestop();
      } catch (err) {
        // The kubelet records a failed hook and sends SIGTERM anyway: say why, as it will show it.
        return reply.code(502).send({ error: 'drain_failed', message: (err as Error).message });
      }
    },
  );
  return app;
}
