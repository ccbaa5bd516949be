/** JSON schemas of GET /v1/nodes: a node as the registry knows it, with its listeners' states. */
import { Type, type Static, type TOptional } from '@sinclair/typebox';
import { DRAIN_METHODS, LISTENER_STATES } from '../../fleet/drain/model.js';
import { DRAIN_TYPES, LISTENER_ROLES } from '../../fleet/roles.js';
import { XDS_SHORT_NAMES, type XdsShortName } from '../../resource/type-urls.js';
import { STREAM_PROTOCOLS } from '../../xds/events.js';
import { Narrowed, Nullable, ReplyObject, StringEnum } from './typebox.js';

/** What was sent or ACKed; an ACK has no nonce of its own. */
const versionAt = ReplyObject({ version: Type.String(), nonce: Type.Optional(Type.String()), at: Type.String() });

const typeStatus = ReplyObject({
  sent: Type.Optional(versionAt),
  acked: Type.Optional(versionAt),
  lastNack: Type.Optional(
    ReplyObject({ version: Type.String(), nonce: Type.String(), code: Type.Integer(), message: Type.String(), at: Type.String() }),
  ),
  parked: Type.Optional(
    ReplyObject(
      { version: Type.String(), since: Type.String(), serving: Type.Optional(Type.String()) },
      { description: 'a rejected config not resent until it changes; serving: the last accepted version sent to a new process of the node instead' },
    ),
  ),
});

/** A status per xDS type, for the types the node was sent or asked for. */
const typeStatuses = ReplyObject(
  Object.fromEntries(XDS_SHORT_NAMES.map((t) => [t, Type.Optional(typeStatus)])) as Record<XdsShortName, TOptional<typeof typeStatus>>,
);

export const listenerViewSchema = ReplyObject({
  name: Type.String(),
  role: StringEnum(LISTENER_ROLES),
  drainType: StringEnum(DRAIN_TYPES),
  state: StringEnum(LISTENER_STATES, { description: 'gone: removed by a drain whose work on the node is over' }),
  drain: Nullable(
    ReplyObject({ id: Type.String(), action: StringEnum(DRAIN_METHODS) }, { description: 'the drain acting on the listener, and its method' }),
  ),
});

export const nodeSchema = ReplyObject({
  id: Type.String(),
  cluster: Type.String(),
  metadata: Narrowed<Readonly<Record<string, unknown>>>({ type: 'object', additionalProperties: true }),
  locality: ReplyObject({ region: Type.String(), zone: Type.String(), subZone: Type.String() }),
  userAgent: Type.String(),
  connected: Type.Boolean(),
  /** With replicas: the one holding the node's xDS stream. */
  replica: Type.Optional(Type.String()),
  connectedSince: Type.Optional(Type.String()),
  lastSeen: Type.String(),
  streams: Type.Array(
    ReplyObject({
      id: Type.Integer(),
      protocol: StringEnum(STREAM_PROTOCOLS),
      aggregated: Type.Boolean(),
      peer: Type.String(),
      since: Type.String(),
    }),
  ),
  types: typeStatuses,
  listeners: Type.Array(listenerViewSchema),
  connections: Nullable(
    ReplyObject(
      {
        at: Type.String(),
        total: Type.Integer(),
        listeners: Type.Record(Type.String(), Nullable(Type.Integer()), { description: 'by listener name; null where the gauges cannot tell' }),
      },
      { description: "open connections, from the node's last gauge report; null when it has not reported lately" },
    ),
  ),
});

export const nodeConnectionsSchema = ReplyObject({
  node: Type.String(),
  samples: Type.Array(Type.Tuple([Type.Number(), Type.Integer()]), { description: '[epoch ms, open connections], oldest first' }),
});

export const nodePageSchema = ReplyObject({
  nodes: Type.Array(nodeSchema),
  total: Type.Integer({ description: 'nodes matching the filters, over all pages' }),
  nextCursor: Nullable(Type.String({ description: 'the cursor of the next page; null on the last' })),
  limit: Type.Integer({ description: 'the page size: at most this many nodes per page' }),
  offset: Type.Integer({ description: 'the position of the first node of this page among the matches (0: the first)' }),
  next: Nullable(Type.String({ description: 'the path of the next page on this API (the same filters, from nextCursor); null on the last' })),
});

export const nodeIdParams = Type.Object({ id: Type.String({ minLength: 1 }) });

export type NodeView = Static<typeof nodeSchema>;
export type ListenerView = Static<typeof listenerViewSchema>;
export type NodePage = Static<typeof nodePageSchema>;
