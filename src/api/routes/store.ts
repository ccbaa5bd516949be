import type { FastifyPluginAsync } from 'fastify';
import type { StateStore } from '../../fleet/ports/state-store.js';

/** What the API shows of the state store. */
export type StoreView = Pick<StateStore, 'kind' | 'location' | 'replica' | 'health' | 'leadership'>;

const storeSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['file', 'etcd'] },
    location: { type: 'string' },
    replica: { type: 'string' },
    leader: { type: ['string', 'null'] },
    leading: { type: 'boolean' },
    available: { type: 'boolean' },
    reason: { type: 'string' },
  },
  required: ['kind', 'location', 'replica', 'leader', 'leading', 'available'],
} as const;

/** GET /v1/store: where state is kept, whether it is reachable, and which replica leads. */
export const storeRoutes: FastifyPluginAsync<{ store: StoreView }> = async (app, { store }) => {
  app.get('/v1/store', { schema: { response: { 200: storeSchema } } }, async () => {
    const reason = store.health.unavailable();
    return {
      kind: store.kind,
      location: store.location,
      replica: store.replica,
      leader: store.leadership.leader() ?? null,
      leading: store.leadership.isLeader(),
      available: reason === undefined,
      ...(reason !== undefined && { reason }),
    };
  });
};
