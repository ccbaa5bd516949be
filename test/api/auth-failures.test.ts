import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthFailureLimiter } from '../../src/api/auth-failures.js';

test('failed token checks: blocked at the limit until the minute that began with the first failure ends', () => {
  let now = 1_000_000;
  const limiter = new AuthFailureLimiter(3, () => now);
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.blockedFor('a'), 0);
    limiter.recordFailure('a');
    now += 1000;
  }
  assert.equal(limiter.blockedFor('a'), 57, 'the window began 3 s ago');
  assert.equal(limiter.blockedFor('b'), 0);
  now += 57_000;
  assert.equal(limiter.blockedFor('a'), 0, 'a new minute');
  limiter.recordFailure('a');
  assert.equal(limiter.blockedFor('a'), 0, 'one failure in the new window');
});

test('ten thousand addresses: each is blocked on its own, and free again after its minute', () => {
  let now = 0;
  const limiter = new AuthFailureLimiter(1, () => now);
  for (let i = 0; i < 10_000; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`);
  assert.ok(limiter.blockedFor('10.0.0.0') > 0);
  now += 60_000;
  limiter.recordFailure('192.0.2.1');
  assert.equal(limiter.blockedFor('10.0.0.0'), 0);
  assert.ok(limiter.blockedFor('192.0.2.1') > 0);
});
