/**
 * The API answers the store's errors with its own statuses: the errors carry none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { errorHandler } from '../../src/api/errors.js';
import { NotLeaderError, StoreConflictError, StoreUnavailableError } from '../../src/fleet/ports/store-errors.js';

test('store unavailable and not leading answer 503 store-unavailable, a lost race 409 conflict', async () => {
  const app = Fastify();
  app.setErrorHandler(errorHandler);
  const thrown: Record<string, Error> = {
    unavailable: new StoreUnavailableError('etcd unreachable'),
    'not-leader': new NotLeaderError('this replica no longer leads'),
    conflict: new StoreConflictError('changed by another replica first'),
  };
  app.get<{ Params: { kind: string } }>('/:kind', async (req) => {
    throw thrown[req.params.kind]!;
  });
  const answer = async (kind: string) => {
    const res = await app.inject({ method: 'GET', url: `/${kind}` });
    return { status: res.statusCode, body: res.json<unknown>() };
  };
  assert.deepEqual(await answer('unavailable'), { status: 503, body: { error: 'store-unavailable', message: 'etcd unreachable' } });
  assert.deepEqual(await answer('not-leader'), { status: 503, body: { error: 'store-unavailable', message: 'this replica no longer leads' } });
  assert.deepEqual(await answer('conflict'), { status: 409, body: { error: 'conflict', message: 'changed by another replica first' } });
  await app.close();
});
