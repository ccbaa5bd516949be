/**
 * JSON schemas of the drain API: requests are checked, replies serialized, and the TypeScript
 * types of both (for the routes, the CLI and the console) derived, from these.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  DRAIN_MEASURES,
  DRAIN_METHODS,
  DRAIN_ORIGINS,
  DRAIN_STATES,
  EGRESS_AFTER,
  NODE_PHASE_STATES,
  PHASE_NAMES,
  PHASE_STATES,
  RELEASE_REASONS,
  SCOPE_NAMES,
  type DrainSpec,
  type NodePhaseState,
} from '../../fleet/drain/model.js';
import { MAX_DRAIN_COUNT, MAX_DRAIN_SECONDS } from '../../fleet/drain/request-limits.js';
import { localityGroup } from './fleet.js';
import { Narrowed, Nullable, ReplyObject, StringEnum } from './typebox.js';

export { errorSchema } from './error.js';

const nonEmpty = Type.String({ minLength: 1 });
const nullableTime = Nullable(Type.String());

/**
 * A duration in seconds, and a count, each bounded (request-limits.ts). The lower bounds are
 * the domain's, whose messages say what 0 means for each field.
 */
const seconds = () => Type.Optional(Type.Number({ maximum: MAX_DRAIN_SECONDS }));
const count = () => Type.Optional(Type.Integer({ maximum: MAX_DRAIN_COUNT }));

/**
 * Every criterion given must say something: an empty string (nodes leave what they lack as "")
 * or a locality with no field would widen the selector to every node lacking that value.
 */
export const selectorSchema = Type.Object(
  {
    ids: Type.Optional(Type.Array(nonEmpty, { minItems: 1, maxItems: 100_000 })),
    cluster: Type.Optional(nonEmpty),
    metadata: Type.Optional(
      Narrowed<Record<string, string>>({
        type: 'object',
        propertyNames: { minLength: 1 },
        additionalProperties: { type: 'string', minLength: 1 },
        maxProperties: 64,
      }),
    ),
    locality: Type.Optional(
      Type.Object(
        { region: Type.Optional(nonEmpty), zone: Type.Optional(nonEmpty), subZone: Type.Optional(nonEmpty) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
  },
  { additionalProperties: false },
);

export const scopeSchema = Type.Union([
  StringEnum(SCOPE_NAMES),
  Type.Object({ listeners: Type.Array(nonEmpty, { maxItems: 10_000 }) }, { additionalProperties: false }),
]);

/**
 * The endpoints of an endpoint drain. Every criterion given must hold; the domain refuses a
 * target that names none, and addresses that are no HOST:PORT, naming the field.
 */
export const endpointTargetSchema = Type.Object(
  {
    addresses: Type.Optional(Type.Array(Type.String({ maxLength: 300 }), { maxItems: 1_000, description: 'HOST:PORT (IPv6 as [::1]:8080)' })),
    cluster: Type.Optional(Type.String({ description: "the ClusterLoadAssignment's cluster_name" })),
    locality: Type.Optional(
      Type.Object(
        { region: Type.Optional(Type.String()), zone: Type.Optional(Type.String()), subZone: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
    metadata: Type.Optional(
      Narrowed<Record<string, string>>({
        type: 'object',
        additionalProperties: { type: 'string' },
        maxProperties: 64,
        description: 'the endpoint\'s filter_metadata["envoy.lb"] labels',
      }),
    ),
    remove: Type.Optional(Type.Boolean({ description: 'once the drain completed, leave the endpoints out of the assignment' })),
  },
  { additionalProperties: false },
);

/**
 * A node drain names `selector` and `scope`; an endpoint drain names `endpoints` (and may narrow
 * the nodes with a selector). Which fields each kind needs or refuses is the domain's check.
 */
export const drainRequestSchema = Type.Object(
  {
    selector: Type.Optional(selectorSchema),
    scope: Type.Optional(scopeSchema),
    endpoints: Type.Optional(endpointTargetSchema),
    method: Type.Optional(StringEnum(DRAIN_METHODS)),
    egress: Type.Optional(
      Type.Object(
        {
          after: StringEnum(EGRESS_AFTER),
          delaySeconds: seconds(),
          quietSeconds: seconds(),
          waitSeconds: seconds(),
          deadlineSeconds: seconds(),
        },
        { additionalProperties: false },
      ),
    ),
    batch: Type.Optional(Type.Object({ size: count(), percent: Type.Optional(Type.Number({ maximum: 100 })) }, { additionalProperties: false })),
    deadlineSeconds: seconds(),
    threshold: count(),
    measure: Type.Optional(StringEnum(DRAIN_MEASURES)),
    confirm: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** The body of POST /v1/drains and POST /v1/drains/preview. */
export type DrainRequestBody = Static<typeof drainRequestSchema>;

/** The spec as stored, every default filled in: passed through whole. */
const specSchema = (description?: string) =>
  Narrowed<DrainSpec>({ type: 'object', additionalProperties: true, ...(description !== undefined && { description }) });

/** Node counts by state; a state no node is in is left out. */
const countsSchema = Narrowed<Partial<Record<NodePhaseState, number>>>({ type: 'object', additionalProperties: { type: 'integer' } });

/** What every view of a phase shows: its name, its state, and when it started and ended. */
const phaseTimes = {
  name: StringEnum(PHASE_NAMES),
  state: StringEnum(PHASE_STATES),
  startedAt: nullableTime,
  finishedAt: nullableTime,
};

const nodeProgress = ReplyObject({
  nodeId: Type.String(),
  state: StringEnum(NODE_PHASE_STATES),
  batch: Nullable(Type.Integer()),
  startedAt: nullableTime,
  finishedAt: nullableTime,
  listeners: Type.Array(ReplyObject({ name: Type.String(), connections: Nullable(Type.Integer({ description: 'null while unknown' })) })),
  endpoints: Type.Optional(
    Type.Array(
      ReplyObject({
        cluster: Type.String(),
        address: Type.String({ description: 'HOST:PORT' }),
        requests: Nullable(Type.Integer({ description: 'active requests to the host in this Envoy; null while unknown' })),
        connections: Nullable(Type.Integer({ description: 'active connections to the host in this Envoy; null while unknown' })),
      }),
      { description: "an endpoint drain's endpoints on this node" },
    ),
  ),
  error: Nullable(Type.String()),
  note: Type.Optional(Type.String({ description: 'why the node finished at once: nothing to drain on it in this phase' })),
  quietSince: Type.Optional(Nullable(Type.String({ description: 'egress-idle: since when its egress listeners had no connection' }))),
});

export const drainSchema = ReplyObject({
  id: Type.String(),
  spec: specSchema(),
  createdAt: Type.String(),
  state: StringEnum(DRAIN_STATES),
  finishedAt: nullableTime,
  phase: Type.Integer(),
  phases: Type.Array(
    ReplyObject({
      ...phaseTimes,
      counts: countsSchema,
      nodes: Type.Array(nodeProgress),
      release: Type.Optional(
        ReplyObject(
          { by: StringEnum(RELEASE_REASONS), message: Type.String() },
          { description: 'egress-idle: why the phase started: idle (the app let go) or wait (the wait ran out)' },
        ),
      ),
    }),
  ),
  warnings: Type.Array(Type.String()),
  origin: Type.Optional(StringEnum(DRAIN_ORIGINS, { description: 'absent: started through the API' })),
  advanced: Type.Optional(Type.Boolean({ description: 'POST /advance was accepted: the egress phase starts (or started) on it' })),
  paused: Type.Optional(ReplyObject({ at: Type.String() }, { description: 'held by POST /pause: no batch or phase starts until POST /resume' })),
  retired: Type.Optional(
    ReplyObject({ at: Type.String(), reason: Type.String() }, { description: 'kept as history: the drain no longer acts on any listener' }),
  ),
});

/** A drain as the API shows it: the stored record, with node counts per phase and state. */
export type DrainView = Static<typeof drainSchema>;
export type PhaseView = DrainView['phases'][number];
export type NodeProgressView = PhaseView['nodes'][number];

export const idParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

/** What POST /v1/drains would start now: the nodes it takes, by phase and locality. */
const share = ReplyObject({ matched: Type.Integer(), total: Type.Integer() });

export const drainPreviewSchema = ReplyObject({
  spec: specSchema('the drain as it would run, every default filled in'),
  matched: Type.Integer({ description: 'connected nodes the selector matches' }),
  nodes: Type.Array(Type.String(), { description: 'the first matched node ids, sorted' }),
  groups: Type.Array(ReplyObject(localityGroup), { description: 'matched nodes by cluster and locality' }),
  phases: Type.Array(
    ReplyObject({
      name: StringEnum(PHASE_NAMES),
      nodes: Type.Integer({ description: 'matched nodes with listeners in this phase' }),
      listeners: Type.Array(Type.String(), { description: 'the listener names this phase drains' }),
      batches: Type.Integer(),
    }),
  ),
  warnings: Type.Array(Type.String()),
  radius: ReplyObject(
    {
      fleet: share,
      clusters: Type.Array(ReplyObject({ cluster: Type.String(), ...share.properties })),
      zones: Type.Array(ReplyObject({ region: Type.String(), zone: Type.String(), ...share.properties })),
      connections: ReplyObject(
        { open: Type.Integer(), unknown: Type.Integer() },
        { description: "open on the matched nodes' listeners now; unknown: nodes that have not reported lately" },
      ),
      unmeasurable: ReplyObject(
        { count: Type.Integer(), nodes: Type.Array(Type.String()) },
        { description: 'nodes whose drain cannot be measured (no gauge report, no admin API): each holds its batch until the deadline' },
      ),
    },
    { description: 'what the drain weighs: its share of the connected fleet, of each cluster and zone it touches' },
  ),
});

export type DrainPreview = Static<typeof drainPreviewSchema>;

const nodeDigest = ReplyObject({
  ...nodeProgress.properties,
  deadlineAt: nullableTime,
  connections: Nullable(Type.Integer({ description: 'open on its drained listeners once all were measured; null while unknown' })),
  holding: Nullable(Type.String({ description: 'why an unfinished node holds the drain' })),
  history: Narrowed<(readonly [epochMs: number, connections: number])[]>(
    Type.Array(Type.Array(Type.Number()), { description: '[epoch ms, connections] samples, oldest first' }),
  ),
});

/** A drain with its progress aggregated: counts and batches per phase, and the nodes worth a row. */
export const drainSummarySchema = ReplyObject({
  ...drainSchema.properties,
  phases: Type.Array(
    ReplyObject({
      ...phaseTimes,
      total: Type.Integer(),
      counts: countsSchema,
      connections: Nullable(
        Type.Integer({ description: 'open on the draining (pushed or ACKed) nodes whose count is known; null when none is known' }),
      ),
      connectionsUnknown: Type.Integer({ description: 'draining nodes whose connection count is unknown' }),
      batches: Type.Array(
        ReplyObject({
          batch: Type.Integer(),
          nodes: Type.Integer(),
          finished: Type.Integer(),
          drained: Type.Integer(),
          startedAt: nullableTime,
        }),
      ),
      plannedBatches: Type.Integer({ description: 'batches in all: those started, and those its waiting nodes will fill at the batch size' }),
      nodes: Type.Array(nodeDigest, {
        description: 'holding nodes first (most connections first), then failed or timed out, then skipped, then the latest drained, then waiting',
      }),
      nodesOmitted: Type.Integer({ description: 'rows left out: of the phase, or of its matches when searched' }),
      matches: Nullable(Type.Integer({ description: "with ?q=, the phase's nodes whose id matches (the rows come from these); else null" })),
    }),
  ),
  matches: Nullable(Type.Integer({ description: "with ?q=, the drain's nodes whose id matches, each counted once over its phases; else null" })),
});

/** GET /v1/drains/:id/summary, and the `drain` event of GET /v1/fleet/events. */
export type DrainDigest = Static<typeof drainSummarySchema>;
export type PhaseDigest = DrainDigest['phases'][number];
export type NodeDigest = PhaseDigest['nodes'][number];
export type BatchDigest = PhaseDigest['batches'][number];
