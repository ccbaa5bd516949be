import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { PrestopResult } from '../../fleet/drain/prestop-result.js';
import { errorSchema } from '../schemas/error.js';
import { ReplyObject } from '../schemas/typebox.js';

/**
 * GET /v1/prestop, for a Kubernetes httpGet preStop hook: blocks until the local drain is
 * complete or its budget ends. A SIGTERM that arrives meanwhile joins the same drain.
 *
 * It starts a drain with a GET and, from loopback, without a token (the kubelet's hook and
 * `drainplane prestop` carry none), so a web page must not be able to fire it at 127.0.0.1
 * (an <img> would do): a request a browser marks as coming from a page (Sec-Fetch-Site other
 * than "none", or an Origin) is refused. The kubelet and the CLI send neither.
 */
export const prestopRoutes: FastifyPluginAsyncTypebox<{ prestop: () => Promise<PrestopResult> }> = async (app, { prestop }) => {
  app.get(
    '/v1/prestop',
    {
      schema: { response: { 200: ReplyObject({ outcome: Type.String(), elapsedSeconds: Type.Number() }), 403: errorSchema } },
      onRequest: async (req, reply) => {
        const site = req.headers['sec-fetch-site'];
        if ((site === undefined || site === 'none') && req.headers.origin === undefined) return;
        await reply.code(403).send({
          error: 'cross_site_prestop',
          message: `GET /v1/prestop: refused a request from a web page (Sec-Fetch-Site: ${String(site)}, Origin: ${String(req.headers.origin)}); preStop hooks send neither`,
        });
      },
    },
    async () => prestop(),
  );
};
