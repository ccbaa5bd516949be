/**
 * Malformed discovery requests from a fuzzer: garbage type URLs, nonces, versions, names and
 * error details, with and without a node. The server ends a stream or ignores a request, but
 * never crashes, and keeps serving well-formed streams.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { openDeltaStream, openSotwStream, TYPE } from '../support/ads-client.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';

const typeUrl = fc.oneof(fc.constantFrom(...Object.values(TYPE), '', '*'), fc.string({ maxLength: 80 }));
const names = fc.array(fc.string({ maxLength: 40 }), { maxLength: 30 });
const node = fc.option(fc.record({ id: fc.string({ maxLength: 20 }), cluster: fc.constantFrom('test-cluster', '', 'x') }), { nil: null });

describe('discovery requests from a fuzzer', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon(demoConfig());
  });
  after(() => d.close());

  test('SotW and Delta streams survive random requests, and the server keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            delta: fc.boolean(),
            type_url: typeUrl,
            names,
            nonce: fc.string({ maxLength: 12 }),
            version: fc.string({ maxLength: 20 }),
            error: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
            node,
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (requests) => {
          const sotw = openSotwStream(d.xdsAddress, { node: { id: 'fuzz', cluster: 'test-cluster' } });
          const delta = openDeltaStream(d.xdsAddress, { node: { id: 'fuzz-delta', cluster: 'test-cluster' } });
          for (const r of requests) {
            const error = r.error === undefined ? {} : { error_detail: { message: r.error } };
            if (r.delta) {
              delta.send({ type_url: r.type_url, resource_names_subscribe: r.names, response_nonce: r.nonce, node: r.node, ...error });
            } else {
              sotw.send({ type_url: r.type_url, resource_names: r.names, response_nonce: r.nonce, version_info: r.version, node: r.node, ...error });
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
          sotw.close();
          delta.close();
        },
      ),
      { numRuns: 60 },
    );
    const s = openSotwStream(d.xdsAddress, { node: { id: 'after-fuzz', cluster: 'test-cluster' } });
    s.send({ type_url: TYPE.LDS });
    assert.equal((await s.next(TYPE.LDS)).resources.length, 2);
    s.close();
  });
});
