import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FleetRead } from '../../fleet/fleet-read.js';
import { BadCursorError, CursorAndOffsetError, queryNodes } from '../../fleet/node-query.js';
import type { NodeDirectory } from '../../fleet/drain/ports.js';
import type { NodeStatus } from '../../fleet/registry.js';
import { errorSchema } from '../schemas/error.js';
import { DEFAULT_NODE_PAGE, MAX_NODE_PAGE_BYTES, nodeQuerySchema } from '../schemas/fleet.js';
import { nodeConnectionsSchema, nodeIdParams, nodePageSchema, nodeSchema, type NodeView } from '../schemas/nodes.js';
import type { NodeConnectionHistory } from '../../gauges/node-connection-history.js';

/**
 * GET /v1/nodes and GET /v1/nodes/:id: the nodes that are or were connected. GET /v1/nodes
 * filters when asked (`?q=&cluster=&state=`) and always pages (`?limit=&cursor=`, 500 nodes a
 * page unless the query says otherwise, fewer when their metadata passes MAX_NODE_PAGE_BYTES);
 * `next` is the path of the next page. `?offset=` jumps to a page by its position (page N of M
 * in a console); the pages after it go on by cursor.
 */
export const nodeRoutes: FastifyPluginAsyncTypebox<{ nodes: NodeDirectory; read: () => FleetRead; history?: NodeConnectionHistory }> = async (
  app,
  { nodes, read, history },
) => {
  const view = (n: NodeStatus, fleet: FleetRead): NodeView => {
    const { identity, ...status } = n;
    return {
      listeners: fleet.listeners(identity),
      connections: fleet.connections(identity),
      id: identity.id,
      cluster: identity.cluster,
      metadata: identity.metadata,
      locality: identity.locality,
      userAgent: [identity.userAgentName, identity.userAgentVersion].filter(Boolean).join('/'),
      ...status,
    };
  };
  app.get('/v1/nodes', { schema: { querystring: nodeQuerySchema, response: { 200: nodePageSchema, 400: errorSchema } } }, async (req, reply) => {
    const fleet = read();
    // The schema's default fills in `limit`; the type cannot know that.
    const query = { ...req.query, limit: req.query.limit ?? DEFAULT_NODE_PAGE };
    let page;
    try {
      page = queryNodes(fleet, { ...query, maxBytes: MAX_NODE_PAGE_BYTES });
    } catch (err) {
      if (!(err instanceof BadCursorError) && !(err instanceof CursorAndOffsetError)) throw err;
      const field = err instanceof BadCursorError ? 'cursor' : 'offset';
      return reply.code(400).send({ error: 'invalid_request', message: err.message, errors: [{ field, message: err.message }] });
    }
    const { total, nextCursor, limit, offset } = page;
    return { nodes: page.nodes.map((n) => view(n, fleet)), total, nextCursor, limit, offset, next: nextPage(query, nextCursor) };
  });
  app.get('/v1/nodes/:id', { schema: { params: nodeIdParams, response: { 200: nodeSchema, 404: errorSchema } } }, async (req, reply) => {
    const node = nodes.get(req.params.id);
    if (!node) {
      return reply.code(404).send({ error: 'not_found', message: `no node with id "${req.params.id}" is or was connected` });
    }
    return view(node, read());
  });
  // The node's connections over the last minutes (from the gauge reports this replica received).
  app.get(
    '/v1/nodes/:id/connections',
    { schema: { params: nodeIdParams, response: { 200: nodeConnectionsSchema, 404: errorSchema } } },
    async (req, reply) => {
      if (!nodes.get(req.params.id)) {
        return reply.code(404).send({ error: 'not_found', message: `no node with id "${req.params.id}" is or was connected` });
      }
      return { node: req.params.id, samples: history?.samples(req.params.id) ?? [] };
    },
  );
};

/** The path of the page after this one: the same query from `cursor`, or null on the last page. */
function nextPage(query: Readonly<Record<string, string | number | boolean | undefined>>, cursor: string | null): string | null {
  if (cursor === null) return null;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && name !== 'cursor' && name !== 'offset') params.set(name, String(value));
  params.set('cursor', cursor);
  return `/v1/nodes?${params}`;
}
