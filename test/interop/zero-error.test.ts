/**
 * The zero-error scenario (bench/zero-error) at a small scale: two grpc-js-xds replicas under a
 * round-robin load; one drained through drainplane's API, then, as the baseline, one killed.
 *
 * grpc-js-xds drains a connection with a single GOAWAY carrying the last stream id it processed,
 * so RPCs the client started in the meantime are refused (REFUSED_STREAM): the server never saw
 * them. Without any client retries those surface as UNAVAILABLE "Stream refused by server", and
 * they are the only failures a drain causes; with gRPC's transparent retry (which resends only
 * such RPCs, at most once, and is no retry policy) the drain fails none. A kill fails RPCs and
 * streams under either client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runZeroErrorScenario, type PhaseResult, type ZeroErrorOptions } from '../../bench/zero-error/scenario.js';

const SMALL = {
  concurrency: 50,
  channels: 4,
  rpcsPerPhase: 2500,
  streams: 12,
  streamReplies: 10,
  streamIntervalMs: 50,
  drainGraceMs: 5000,
  phaseTimeoutMs: 20_000,
} satisfies Partial<ZeroErrorOptions>;

const details = (p: PhaseResult): string => JSON.stringify({ unary: p.unary.byDetails, streams: p.streams.byDetails, timeline: p.timeline });

/** What holds for a drain under either client: no reset, no failed stream, drained in time. */
function assertCleanDrain(drain: PhaseResult, drainGraceMs: number): void {
  assert.ok(drain.streams.onTarget > 0, `no stream was in flight on ${drain.target} when the drain began`);
  assert.ok((drain.unary.servedBy[drain.target] ?? 0) > 0, `${drain.target} answered no RPC`);
  assert.equal(drain.streams.failed, 0, `streams failed through the drain: ${details(drain)}`);
  assert.equal(drain.unary.resets, 0, `RPCs were cut by resets through the drain: ${details(drain)}`);
  assert.equal(drain.connectionsReset, 0);
  // The connections closed once their streams were done, not when the grace time ran out.
  const drainedMs = drain.timeToDrainedMs;
  assert.ok(drainedMs !== null && drainedMs < drainGraceMs, `drained after ${drainedMs} ms`);
}

/** The baseline must show failures, or the drain's zero would prove nothing. */
function assertAbruptStopFails(abrupt: PhaseResult): void {
  assert.ok(abrupt.streams.onTarget > 0, `no stream was in flight on ${abrupt.target} when it was killed`);
  assert.equal(abrupt.streams.failedOnTarget, abrupt.streams.onTarget, `streams on the killed replica survived: ${details(abrupt)}`);
  assert.ok(abrupt.unary.failed + abrupt.streams.failed > 0);
  assert.ok(abrupt.unary.resets + abrupt.streams.resets > 0, `no reset seen: ${details(abrupt)}`);
  assert.ok(abrupt.connectionsReset > 0);
}

describe('zero-error drains of grpc-js-xds replicas under load', { timeout: 90_000 }, () => {
  it('without client retries: a drain resets nothing, fails no stream, fails only RPCs refused unprocessed; a kill resets', async () => {
    const result = await runZeroErrorScenario({ ...SMALL, transparentRetries: false });
    const { drain, abruptStop } = result;
    assertCleanDrain(drain, SMALL.drainGraceMs);
    assert.equal(drain.unary.refused, drain.unary.failed, `RPCs failed other than refused unprocessed: ${details(drain)}`);
    assertAbruptStopFails(abruptStop);
    assert.equal(abruptStop.unary.refused, 0);
  });

  it('with transparent retries only: the drain fails 0 RPCs and 0 streams; a kill still fails in-flight RPCs', async () => {
    const result = await runZeroErrorScenario({ ...SMALL, transparentRetries: true });
    const { drain, abruptStop } = result;
    assertCleanDrain(drain, SMALL.drainGraceMs);
    assert.equal(drain.unary.failed, 0, `RPCs failed through the drain: ${details(drain)}`);
    assert.ok(drain.unary.sent >= SMALL.rpcsPerPhase);
    assertAbruptStopFails(abruptStop);
  });
});
