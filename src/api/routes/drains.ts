import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { Drain } from '../../fleet/drain/model.js';
import type { DrainManager } from '../../fleet/drain/manager.js';
import type { FieldError } from '../../fleet/drain/spec.js';
import type { ConnectionHistory } from '../../fleet/drain/connection-history.js';
import { countByState, digestDrain } from '../../fleet/drain/digest.js';
import { describeDraft } from '../../fleet/drain/draft.js';
import { eventStreams } from '../sse.js';
import { ReplyObject } from '../schemas/typebox.js';
import {
  drainPreviewSchema,
  drainRequestSchema,
  drainSchema,
  drainSummarySchema,
  errorSchema,
  idParams,
  type DrainDigest,
  type DrainView,
} from '../schemas/drain.js';

/** Node rows per phase of a drain summary, unless the query asks for another number. */
const SUMMARY_NODES = 50;

/** `?nodes=N` where whole drains are the default: each drain as its summary, with N node rows per phase. */
const summaryQuery = Type.Object({
  nodes: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 1000,
      description: 'each drain as its summary, with this many node rows per phase (0: counts alone); without it, whole drains',
    }),
  ),
});

/** A drain as the API shows it: the stored record, with node counts per phase and state. */
function view(drain: Drain): DrainView {
  return { ...drain, phases: drain.phases.map((p) => ({ ...p, counts: countByState(p.nodes) })) };
}

const refused = (errors: readonly FieldError[]) => ({
  error: 'invalid_drain',
  message: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
  errors: [...errors],
});

const notFound = (id: string) => ({ error: 'not_found', message: `no drain with id "${id}"` });

/**
 * Replies that carry whole drains are written by JSON.stringify, as the events stream always
 * wrote them: a drain lists every node (3.4 MB of JSON at 10,000 nodes), which V8 writes about
 * 4.5 times faster than the schema's compiled serializer. The schemas still document and type
 * these replies, and a view holds their fields alone (test/api/drain-replies.test.ts); a field
 * only a newer version stores (a replica upgraded first, on a shared store) is shown as stored.
 */
const plainJson = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) };

const nodeParams = Type.Object({ ...idParams.properties, node: Type.String({ minLength: 1, maxLength: 1024 }) });

/**
 * The drain API: start (or preview), list, read (whole, or summarized), watch (server-sent
 * events), advance, pause and resume them, skip or retry a node, and cancel them.
 */
export const drainRoutes: FastifyPluginAsyncTypebox<{ drains: DrainManager; history: ConnectionHistory }> = async (app, { drains, history }) => {
  const openStream = eventStreams(app);
  /** A drain as a reply gives it: whole, or with `?nodes=N` its summary. */
  const shown = (drain: Drain, rows: number | undefined): DrainView | DrainDigest =>
    rows === undefined ? view(drain) : digestDrain(drain, history, rows);
  app.post(
    '/v1/drains',
    {
      ...plainJson,
      schema: {
        body: drainRequestSchema,
        querystring: summaryQuery,
        response: { 201: Type.Union([drainSchema, drainSummarySchema]), 400: errorSchema },
      },
    },
    async (req, reply) => {
      const result = await drains.create(req.body);
      if ('errors' in result) return reply.code(400).send(refused(result.errors));
      return reply.code(201).header('location', `/v1/drains/${result.drain.id}`).send(shown(result.drain, req.query.nodes));
    },
  );

  app.post(
    '/v1/drains/preview',
    {
      schema: {
        summary: 'What POST /v1/drains would start now (a dry run): nothing is stored or pushed',
        body: drainRequestSchema,
        response: { 200: drainPreviewSchema, 400: errorSchema },
      },
    },
    async (req, reply) => {
      const result = drains.preview(req.body);
      if ('errors' in result) return reply.code(400).send(refused(result.errors));
      return { ...describeDraft(result.draft), radius: drains.blastRadius(result.draft) };
    },
  );

  app.get(
    '/v1/drains',
    {
      ...plainJson,
      schema: {
        querystring: summaryQuery,
        response: { 200: ReplyObject({ drains: Type.Array(Type.Union([drainSchema, drainSummarySchema])) }) },
      },
    },
    // Whole drains list every node of every kept drain: 3.4 MB of JSON per 10,000-node drain, so
    // callers that want states and counts (the CLI's table, a backend's preStop) ask for summaries.
    async (req) => ({ drains: drains.list().map((d) => shown(d, req.query.nodes)) }),
  );

  app.get('/v1/drains/:id', { ...plainJson, schema: { params: idParams, response: { 200: drainSchema, 404: errorSchema } } }, async (req, reply) => {
    const drain = drains.get(req.params.id);
    return drain ? view(drain) : reply.code(404).send(notFound(req.params.id));
  });

  app.get(
    '/v1/drains/:id/summary',
    {
      schema: {
        summary: 'A drain with its progress aggregated: counts and batches per phase, the nodes holding it, their connection history',
        params: idParams,
        querystring: Type.Object(
          {
            nodes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: SUMMARY_NODES, description: 'node rows per phase' })),
            q: Type.Optional(Type.String({ maxLength: 200, description: 'part of a node id (any case): the rows are the matching nodes' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: drainSummarySchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const drain = drains.get(req.params.id);
      // The schema's default fills in `nodes`; the type cannot know that.
      return drain ? digestDrain(drain, history, req.query.nodes ?? SUMMARY_NODES, req.query.q) : reply.code(404).send(notFound(req.params.id));
    },
  );

  app.post(
    '/v1/drains/:id/cancel',
    { ...plainJson, schema: { params: idParams, response: { 200: drainSchema, 404: errorSchema } } },
    async (req, reply) => {
      const drain = await drains.cancel(req.params.id);
      return drain ? view(drain) : reply.code(404).send(notFound(req.params.id));
    },
  );

  app.post(
    '/v1/drains/:id/advance',
    { ...plainJson, schema: { params: idParams, response: { 200: drainSchema, 404: errorSchema, 409: errorSchema } } },
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

  // An operator's hand on a drain under way: each answers the drain as it is after the action,
  // 404 for an unknown drain, 409 (saying why) where the action does not apply.
  const acted = (id: string, result: Awaited<ReturnType<DrainManager['act']>>, reply: FastifyReply) => {
    if (result === undefined) return reply.code(404).send(notFound(id));
    if ('notApplicable' in result) return reply.code(409).send({ error: 'not_applicable', message: result.notApplicable });
    return view(result);
  };
  const actionResponses = { 200: drainSchema, 404: errorSchema, 409: errorSchema };
  for (const kind of ['pause', 'resume'] as const) {
    app.post(`/v1/drains/:id/${kind}`, { ...plainJson, schema: { params: idParams, response: actionResponses } }, async (req, reply) =>
      acted(req.params.id, await drains.act(req.params.id, { kind }), reply),
    );
  }
  for (const kind of ['skip', 'retry'] as const) {
    app.post(`/v1/drains/:id/nodes/:node/${kind}`, { ...plainJson, schema: { params: nodeParams, response: actionResponses } }, async (req, reply) =>
      acted(req.params.id, await drains.act(req.params.id, { kind, nodeId: req.params.node }), reply),
    );
  }

  // Progress, live: one `drain` event now and on every change, until the drain ends. A drain
  // changes on most ticks while its nodes report, and lists every node: a follower that wants
  // its state and counts (a backend's preStop) asks for summaries.
  app.get(
    '/v1/drains/:id/events',
    { schema: { params: idParams, querystring: summaryQuery, response: { 404: errorSchema } } },
    async (req, reply) => {
      const first = drains.get(req.params.id);
      if (!first) return reply.code(404).send(notFound(req.params.id));
      const stream = openStream(reply, () => stop());
      const send = (drain: Drain): void => {
        stream.send('drain', JSON.stringify(shown(drain, req.query.nodes)));
        if (drain.state !== 'running') stream.end();
      };
      const stop = drains.onChange((d) => d.id === first.id && send(d));
      send(first);
      return reply;
    },
  );
};
