import type { FastifyPluginAsync } from 'fastify';
import type { FleetRead } from '../../fleet/fleet-read.js';
import { BadCursorError, queryNodes, type NodeQuery } from '../../fleet/node-query.js';
import type { NodeDirectory } from '../../fleet/drain/ports.js';
import type { NodeStatus } from '../../fleet/registry.js';
import { errorSchema } from '../schemas/error.js';
import { listenerStateSchema, nodeQuerySchema } from '../schemas/fleet.js';

const versionAt = {
  type: 'object',
  properties: { version: { type: 'string' }, nonce: { type: 'string' }, at: { type: 'string' } },
} as const;

const typeStatus = {
  type: 'object',
  properties: {
    sent: versionAt,
    acked: versionAt,
    lastNack: {
      type: 'object',
      properties: {
        version: { type: 'string' },
        nonce: { type: 'string' },
        code: { type: 'integer' },
        message: { type: 'string' },
        at: { type: 'string' },
      },
    },
    parked: {
      type: 'object',
      description: 'a rejected config not resent until it changes; serving: the last accepted version sent to a new process of the node instead',
      properties: { version: { type: 'string' }, since: { type: 'string' }, serving: { type: 'string' } },
    },
  },
} as const;

export const nodeSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    cluster: { type: 'string' },
    metadata: { type: 'object', additionalProperties: true },
    locality: {
      type: 'object',
      properties: { region: { type: 'string' }, zone: { type: 'string' }, subZone: { type: 'string' } },
    },
    userAgent: { type: 'string' },
    connected: { type: 'boolean' },
    /** With replicas: the one holding the node's xDS stream. */
    replica: { type: 'string' },
    connectedSince: { type: 'string' },
    lastSeen: { type: 'string' },
    streams: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          protocol: { type: 'string', enum: ['sotw', 'delta'] },
          aggregated: { type: 'boolean' },
          peer: { type: 'string' },
          since: { type: 'string' },
        },
      },
    },
    types: {
      type: 'object',
      properties: { lds: typeStatus, cds: typeStatus, rds: typeStatus, eds: typeStatus },
    },
    listeners: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          role: { type: 'string', enum: ['ingress', 'egress', 'unspecified'] },
          drainType: { type: 'string', enum: ['DEFAULT', 'MODIFY_ONLY'] },
          state: { ...listenerStateSchema, description: 'gone: removed by a drain whose work on the node is over' },
          drain: {
            type: ['object', 'null'],
            description: 'the drain acting on the listener, and its method',
            properties: {
              id: { type: 'string' },
              action: { type: 'string', enum: ['remove', 'modify', 'healthcheck-fail', 'drain-listeners'] },
            },
          },
        },
      },
    },
  },
} as const;


/**
 * GET /v1/nodes and GET /v1/nodes/:id: the nodes that are or were connected. GET /v1/nodes
 * filters and pages when asked (`?q=&cluster=&state=&limit=&cursor=`); without a query it
 * lists every node, as it always did.
 */
export const nodeRoutes: FastifyPluginAsync<{ nodes: NodeDirectory; read: () => FleetRead }> = async (app, { nodes, read }) => {
  const view = (n: NodeStatus, fleet: FleetRead) => {
    const { identity, ...status } = n;
    return {
      listeners: fleet.listeners(identity),
      id: identity.id,
      cluster: identity.cluster,
      metadata: identity.metadata,
      locality: identity.locality,
      userAgent: [identity.userAgentName, identity.userAgentVersion].filter(Boolean).join('/'),
      ...status,
    };
  };
  app.get<{ Querystring: NodeQuery }>(
    '/v1/nodes',
    {
      schema: {
        querystring: nodeQuerySchema,
        response: {
          200: {
            type: 'object',
            properties: {
              nodes: { type: 'array', items: nodeSchema },
              total: { type: 'integer', description: 'nodes matching the filters, over all pages' },
              nextCursor: { type: ['string', 'null'], description: 'the cursor of the next page; null on the last' },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const fleet = read();
      let page;
      try {
        page = queryNodes(fleet, req.query);
      } catch (err) {
        if (!(err instanceof BadCursorError)) throw err;
        return reply.code(400).send({ error: 'invalid_request', message: err.message, errors: [{ field: 'cursor', message: err.message }] });
      }
      return { nodes: page.nodes.map((n) => view(n, fleet)), total: page.total, nextCursor: page.nextCursor };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/v1/nodes/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1 } }, required: ['id'] },
        response: { 200: nodeSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const node = nodes.get(req.params.id);
      if (!node) {
        return reply.code(404).send({ error: 'not_found', message: `no node with id "${req.params.id}" is or was connected` });
      }
      return view(node, read());
    },
  );
};
