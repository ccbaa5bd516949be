import type { FastifyPluginAsync } from 'fastify';
import type { NodeIdentity } from '../../cache/node.js';
import type { NodeDirectory } from '../../fleet/drain/manager.js';
import { errorSchema } from '../schemas/error.js';

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
    parked: { type: 'object', properties: { version: { type: 'string' }, since: { type: 'string' } } },
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
          drain: {
            type: ['object', 'null'],
            properties: { id: { type: 'string' }, action: { type: 'string', enum: ['remove', 'modify'] } },
          },
        },
      },
    },
  },
} as const;


/** A listener of a node as the API shows it: its role, and the drain acting on it, if any. */
export interface NodeListenerView {
  readonly name: string;
  readonly role: string;
  readonly drainType: string;
  readonly drain: { readonly id: string; readonly action: string } | null;
}

/** GET /v1/nodes and GET /v1/nodes/:id: the nodes that are or were connected. */
export const nodeRoutes: FastifyPluginAsync<{
  nodes: NodeDirectory;
  listenersOf: (identity: NodeIdentity) => NodeListenerView[];
}> = async (app, { nodes, listenersOf }) => {
  const view = (id: string) => {
    const n = nodes.get(id)!;
    const { identity, ...status } = n;
    return {
      listeners: listenersOf(identity),
      id: identity.id,
      cluster: identity.cluster,
      metadata: identity.metadata,
      locality: identity.locality,
      userAgent: [identity.userAgentName, identity.userAgentVersion].filter(Boolean).join('/'),
      ...status,
    };
  };
  app.get(
    '/v1/nodes',
    { schema: { response: { 200: { type: 'object', properties: { nodes: { type: 'array', items: nodeSchema } } } } } },
    async () => ({ nodes: nodes.list().map((n) => view(n.identity.id)) }),
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
      if (!nodes.get(req.params.id)) {
        return reply.code(404).send({ error: 'not_found', message: `no node with id "${req.params.id}" is or was connected` });
      }
      return view(req.params.id);
    },
  );
};
