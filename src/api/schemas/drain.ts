/** JSON schemas of the drain API: requests are checked, responses serialized, from these. */

import { DRAIN_MEASURES } from '../../fleet/drain/model.js';
import { localityGroup } from './fleet.js';

export { errorSchema } from './error.js';

const nonEmpty = { type: 'string', minLength: 1 } as const;

export const selectorSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ids: { type: 'array', items: nonEmpty, minItems: 1, maxItems: 100_000 },
    cluster: nonEmpty,
    metadata: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 64 },
    locality: {
      type: 'object',
      additionalProperties: false,
      properties: { region: { type: 'string' }, zone: { type: 'string' }, subZone: { type: 'string' } },
    },
  },
} as const;

export const scopeSchema = {
  anyOf: [
    { type: 'string', enum: ['ingress', 'egress', 'all'] },
    {
      type: 'object',
      additionalProperties: false,
      required: ['listeners'],
      properties: { listeners: { type: 'array', items: nonEmpty, maxItems: 10_000 } },
    },
  ],
} as const;

export const drainRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['selector', 'scope'],
  properties: {
    selector: selectorSchema,
    scope: scopeSchema,
    method: { type: 'string', enum: ['remove', 'modify', 'healthcheck-fail', 'drain-listeners'] },
    egress: {
      type: 'object',
      additionalProperties: false,
      required: ['after'],
      properties: {
        after: { type: 'string', enum: ['ingress-complete', 'delay', 'advance', 'egress-idle'] },
        delaySeconds: { type: 'number' },
        quietSeconds: { type: 'number' },
        waitSeconds: { type: 'number' },
        deadlineSeconds: { type: 'number' },
      },
    },
    batch: {
      type: 'object',
      additionalProperties: false,
      properties: { size: { type: 'integer' }, percent: { type: 'number' } },
    },
    deadlineSeconds: { type: 'number' },
    threshold: { type: 'integer' },
    measure: { type: 'string', enum: DRAIN_MEASURES },
    confirm: { type: 'boolean' },
  },
} as const;

/** What every view of a phase shows: its name, its state, and when it started and ended. */
const phaseTimes = {
  name: { type: 'string' },
  state: { type: 'string' },
  startedAt: { type: ['string', 'null'] },
  finishedAt: { type: ['string', 'null'] },
} as const;

const nodeProgress = {
  type: 'object',
  properties: {
    nodeId: { type: 'string' },
    state: { type: 'string' },
    batch: { type: ['integer', 'null'] },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    listeners: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, connections: { type: ['integer', 'null'], description: 'null while unknown' } },
      },
    },
    error: { type: ['string', 'null'] },
    note: { type: 'string', description: 'why the node finished at once: nothing to drain on it in this phase' },
    quietSince: { type: ['string', 'null'], description: 'egress-idle: since when its egress listeners had no connection' },
  },
} as const;

export const drainSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    spec: { type: 'object', additionalProperties: true },
    createdAt: { type: 'string' },
    state: { type: 'string', enum: ['running', 'completed', 'timed_out', 'failed', 'cancelled'] },
    finishedAt: { type: ['string', 'null'] },
    phase: { type: 'integer' },
    phases: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ...phaseTimes,
          counts: { type: 'object', additionalProperties: { type: 'integer' } },
          nodes: { type: 'array', items: nodeProgress },
          release: {
            type: 'object',
            description: 'egress-idle: why the phase started: idle (the app let go) or wait (the wait ran out)',
            properties: { by: { type: 'string', enum: ['idle', 'wait'] }, message: { type: 'string' } },
          },
        },
      },
    },
    warnings: { type: 'array', items: { type: 'string' } },
    origin: { type: 'string', enum: ['shutdown'], description: 'absent: started through the API' },
    retired: {
      type: 'object',
      description: 'kept as history: the drain no longer acts on any listener',
      properties: { at: { type: 'string' }, reason: { type: 'string' } },
    },
  },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

/** What POST /v1/drains would start now: the nodes it takes, by phase and locality. */
export const drainPreviewSchema = {
  type: 'object',
  properties: {
    spec: { type: 'object', additionalProperties: true, description: 'the drain as it would run, every default filled in' },
    matched: { type: 'integer', description: 'connected nodes the selector matches' },
    nodes: { type: 'array', items: { type: 'string' }, description: 'the first matched node ids, sorted' },
    groups: {
      type: 'array',
      description: 'matched nodes by cluster and locality',
      items: {
        type: 'object',
        properties: localityGroup,
      },
    },
    phases: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          nodes: { type: 'integer', description: 'matched nodes with listeners in this phase' },
          listeners: { type: 'array', items: { type: 'string' }, description: 'the listener names this phase drains' },
          batches: { type: 'integer' },
        },
      },
    },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

const nodeDigest = {
  type: 'object',
  properties: {
    ...nodeProgress.properties,
    deadlineAt: { type: ['string', 'null'] },
    connections: { type: ['integer', 'null'], description: 'open on its drained listeners once all were measured; null while unknown' },
    holding: { type: ['string', 'null'], description: 'why an unfinished node holds the drain' },
    history: {
      type: 'array',
      description: '[epoch ms, connections] samples, oldest first',
      items: { type: 'array', items: { type: 'number' } },
    },
  },
} as const;

/** A drain with its progress aggregated: counts and batches per phase, and the nodes worth a row. */
export const drainSummarySchema = {
  type: 'object',
  properties: {
    ...drainSchema.properties,
    phases: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ...phaseTimes,
          total: { type: 'integer' },
          counts: { type: 'object', additionalProperties: { type: 'integer' } },
          connections: {
            type: ['integer', 'null'],
            description: 'open on the draining (pushed or ACKed) nodes whose count is known; null when none is known',
          },
          connectionsUnknown: { type: 'integer', description: 'draining nodes whose connection count is unknown' },
          batches: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                batch: { type: 'integer' },
                nodes: { type: 'integer' },
                finished: { type: 'integer' },
                drained: { type: 'integer' },
                startedAt: { type: ['string', 'null'] },
              },
            },
          },
          nodes: {
            type: 'array',
            description: 'holding nodes first (most connections first), then failed or timed out, then the latest drained, then waiting',
            items: nodeDigest,
          },
          nodesOmitted: { type: 'integer' },
        },
      },
    },
  },
} as const;
