/** JSON schemas of the fleet views a console reads: the node query and page, and the summary. */

export const listenerStateSchema = { type: 'string', enum: ['serving', 'draining', 'gone'] } as const;

/** Nodes counted by cluster and locality, as the fleet summary and drain previews group them. */
export const localityGroup = {
  cluster: { type: 'string' },
  region: { type: 'string' },
  zone: { type: 'string' },
  subZone: { type: 'string' },
  nodes: { type: 'integer' },
} as const;

const listenerCounts = {
  type: 'object',
  properties: { serving: { type: 'integer' }, draining: { type: 'integer' }, gone: { type: 'integer' } },
  required: ['serving', 'draining', 'gone'],
} as const;

export const nodeQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    q: { type: 'string', maxLength: 200, description: 'case-insensitive part of the id, cluster, region, zone or sub-zone' },
    cluster: { type: 'string', maxLength: 200 },
    region: { type: 'string', maxLength: 200 },
    zone: { type: 'string', maxLength: 200 },
    state: { ...listenerStateSchema, description: 'nodes with at least one listener in this state' },
    connected: { type: 'boolean' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'page size; without it, every matching node' },
    cursor: { type: 'string', maxLength: 4096, description: 'nextCursor of the previous page' },
  },
} as const;

export const fleetSummarySchema = {
  type: 'object',
  properties: {
    at: { type: 'string' },
    nodes: {
      type: 'object',
      properties: { total: { type: 'integer' }, connected: { type: 'integer' }, nacking: { type: 'integer' } },
    },
    listeners: listenerCounts,
    groups: {
      type: 'array',
      description: 'by cluster and locality, sorted; listeners counted on connected nodes',
      items: {
        type: 'object',
        properties: {
          ...localityGroup,
          connected: { type: 'integer' },
          nacking: { type: 'integer', description: 'nodes whose last answer of some type was a NACK' },
          listeners: listenerCounts,
        },
      },
    },
    groupsOmitted: { type: 'integer' },
    drains: {
      type: 'object',
      properties: Object.fromEntries(['running', 'completed', 'timed_out', 'failed', 'cancelled'].map((s) => [s, { type: 'integer' }])),
    },
  },
} as const;
