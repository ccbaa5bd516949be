import type { FastifyPluginAsync } from 'fastify';
import type { Drain } from '../../fleet/drain/model.js';
import type { DrainManager } from '../../fleet/drain/manager.js';
import type { DrainRequest } from '../../fleet/drain/spec.js';
import { drainRequestSchema, drainSchema, errorSchema, idParams } from '../schemas/drain.js';

/** A drain as the API shows it: the stored record, with node counts per phase and state. */
function view(drain: Drain) {
  return { ...drain, phases: drain.phases.map((p) => ({ ...p, counts: countStates(p.nodes) })) };
}

/** Nodes by state. One pass, one object: this runs over every node of a fleet-wide drain. */
function countStates(nodes: readonly { readonly state: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of nodes) counts[n.state] = (counts[n.state] ?? 0) + 1;
  return counts;
}

const notFound = (id: string) => ({ error: 'not_found', message: `no drain with id "${id}"` });

/**
 * The drain API: start, list, read, watch (server-sent events), advance and cancel drains.
 */
export const drainRoutes: FastifyPluginAsync<{ drains: DrainManager }> = async (app, { drains }) => {
  app.post<{ Body: DrainRequest }>(
    '/v1/drains',
    { schema: { body: drainRequestSchema, response: { 201: drainSchema, 400: errorSchema } } },
    async (req, reply) => {
      const result = await drains.create(req.body);
      if ('errors' in result) {
        return reply.code(400).send({
          error: 'invalid_drain',
          message: result.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
          errors: result.errors,
        });
      }
      return reply.code(201).header('location', `/v1/drains/${result.drain.id}`).send(view(result.drain));
    },
  );

  app.get(
    '/v1/drains',
    { schema: { response: { 200: { type: 'object', properties: { drains: { type: 'array', items: drainSchema } } } } } },
    async () => ({ drains: drains.list().map(view) }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/drains/:id',
    { schema: { params: idParams, response: { 200: drainSchema, 404: errorSchema } } },
    async (req, reply) => {
      const drain = drains.get(req.params.id);
      return drain ? view(drain) : reply.code(404).send(notFound(req.params.id));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/drains/:id/cancel',
    { schema: { params: idParams, response: { 200: drainSchema, 404: errorSchema } } },
    async (req, reply) => {
      const drain = await drains.cancel(req.params.id);
      return drain ? view(drain) : reply.code(404).send(notFound(req.params.id));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/drains/:id/advance',
    { schema: { params: idParams, response: { 200: drainSchema, 404: errorSchema, 409: errorSchema } } },
    async (req, reply) => {
      const result = await drains.advance(req.params.id);
      if (result === undefined) return reply.code(404).send(notFound(req.params.id));
      if (result === 'not-applicable') {
        return reply.code(409).send({
          error: 'not_applicable',
          message: 'advance starts the egress phase of a running scope "all" drain whose egress phase has not started',
        });
      }
      return view(result);
    },
  );

  // Progress, live: one `drain` event now and on every change, until the drain ends.
  app.get<{ Params: { id: string } }>(
    '/v1/drains/:id/events',
    { schema: { params: idParams, response: { 404: errorSchema } } },
    async (req, reply) => {
      const first = drains.get(req.params.id);
      if (!first) return reply.code(404).send(notFound(req.params.id));
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const send = (drain: Drain): void => {
        res.write(`event: drain\ndata: ${JSON.stringify(view(drain))}\n\n`);
        if (drain.state !== 'running') {
          res.end();
          stop();
        }
      };
      const stop = drains.onChange((d) => d.id === first.id && send(d));
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      res.on('close', () => {
        clearInterval(heartbeat);
        stop();
      });
      send(first);
      return reply;
    },
  );
};
