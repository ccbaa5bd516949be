import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { STORE_KINDS, type StateStore } from '../../fleet/ports/state-store.js';
import { Nullable, StringEnum } from '../schemas/typebox.js';

/** What the API shows of the state store. */
export type StoreView = Pick<StateStore, 'kind' | 'location' | 'replica' | 'health' | 'leadership'>;

const storeSchema = Type.Object({
  kind: StringEnum(STORE_KINDS),
  location: Type.String(),
  replica: Type.String(),
  leader: Nullable(Type.String()),
  leading: Type.Boolean(),
  available: Type.Boolean(),
  reason: Type.Optional(Type.String()),
});

/** GET /v1/store: where state is kept, whether it is reachable, and which replica leads. */
export const storeRoutes: FastifyPluginAsyncTypebox<{ store: StoreView }> = async (app, { store }) => {
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
