/** JSON schemas of the fleet views a console reads: the node query and page, and the summary. */
import { Type, type Static, type TInteger } from '@sinclair/typebox';
import { DRAIN_STATES, LISTENER_STATES } from '../../fleet/drain/model.js';
import { ReplyObject, StringEnum } from './typebox.js';

/** An integer per state, in the order of `states`. */
function countPerState<const S extends string>(states: readonly S[]): Record<S, TInteger> {
  return Object.fromEntries(states.map((s) => [s, Type.Integer()])) as Record<S, TInteger>;
}

/** Nodes counted by cluster and locality, as the fleet summary and drain previews group them. */
export const localityGroup = {
  cluster: Type.String(),
  region: Type.String(),
  zone: Type.String(),
  subZone: Type.String(),
  nodes: Type.Integer(),
};

const listenerCounts = Type.Object(countPerState(LISTENER_STATES));

/**
 * Nodes per page of GET /v1/nodes unless the query asks for another number (at most
 * MAX_NODE_PAGE): a fleet with large node metadata would otherwise come back as hundreds of MB.
 */
export const DEFAULT_NODE_PAGE = 500;
export const MAX_NODE_PAGE = 1000;
/**
 * How far `offset` reaches: far past any fleet one replica holds (its nodes, and the 10,000 that
 * left it), so only a nonsense offset is refused; past the matches, a page is empty.
 */
export const MAX_NODE_OFFSET = 1_000_000;
/**
 * And about this many bytes of node status a page: node metadata is the client's to choose (up
 * to --xds-max-node-metadata-bytes each), so a page of large nodes ends early rather than
 * holding a thousand of them in one answer; `nextCursor` leads on.
 */
export const MAX_NODE_PAGE_BYTES = 4 * 1024 * 1024;

export const nodeQuerySchema = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200, description: 'case-insensitive part of the id, cluster, region, zone or sub-zone' })),
    cluster: Type.Optional(Type.String({ maxLength: 200 })),
    region: Type.Optional(Type.String({ maxLength: 200 })),
    zone: Type.Optional(Type.String({ maxLength: 200 })),
    state: Type.Optional(StringEnum(LISTENER_STATES, { description: 'nodes with at least one listener in this state' })),
    connected: Type.Optional(Type.Boolean()),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_NODE_PAGE,
        default: DEFAULT_NODE_PAGE,
        description: `page size (default ${DEFAULT_NODE_PAGE}); a page of large nodes may hold fewer`,
      }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 4096, description: 'nextCursor of the previous page' })),
    offset: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_NODE_OFFSET,
        description: 'start at the match at this position (0: the first), to jump to a page by its number; not with cursor',
      }),
    ),
  },
  { additionalProperties: false },
);

export const localityCountsSchema = ReplyObject({
  ...localityGroup,
  connected: Type.Integer(),
  nacking: Type.Integer({ description: 'nodes whose last answer of some type was a NACK' }),
  listeners: listenerCounts,
});

export const fleetSummarySchema = ReplyObject({
  at: Type.String(),
  nodes: ReplyObject({ total: Type.Integer(), connected: Type.Integer(), nacking: Type.Integer() }),
  listeners: listenerCounts,
  groups: Type.Array(localityCountsSchema, { description: 'by cluster and locality, sorted; listeners counted on connected nodes' }),
  groupsOmitted: Type.Integer(),
  drains: ReplyObject(countPerState(DRAIN_STATES)),
});

export type LocalityCounts = Static<typeof localityCountsSchema>;

/** The fleet counted, as the `fleet` event carries it: the event says when, in its own `at`. */
export type FleetSummary = Omit<Static<typeof fleetSummarySchema>, 'at'>;

/**
 * The `fleet` event of GET /v1/fleet/events (an event stream, so no reply schema: its route's
 * description says the same): the summary, and which nodes changed since the last event.
 */
export interface FleetEvent {
  readonly at: string;
  readonly summary: FleetSummary;
  readonly changedNodes: readonly string[];
  readonly changedNodesOmitted: number;
}
