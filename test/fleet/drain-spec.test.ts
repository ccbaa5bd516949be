/**
 * The domain check of a drain request: what the CLI, `drainplane run` and the API all pass
 * through, so a drain made without HTTP meets the same rules as one made through it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Selector } from '../../src/fleet/drain/model.js';
import { MAX_DRAIN_COUNT, MAX_DRAIN_SECONDS } from '../../src/fleet/drain/request-limits.js';
import { drainSpecFrom, type DrainRequest, type FieldError } from '../../src/fleet/drain/spec.js';

/** The field errors of a request, or [] when it makes a spec. */
const errorsOf = (request: Partial<DrainRequest>): FieldError[] => {
  const result = drainSpecFrom({ selector: { cluster: 'edge' }, scope: 'ingress', ...request });
  return 'errors' in result ? result.errors : [];
};
const fieldsOf = (request: Partial<DrainRequest>): string[] => errorsOf(request).map((e) => e.field);
const selecting = (selector: Selector): string[] => fieldsOf({ selector });

describe('drain request: a selector criterion that says nothing is refused', () => {
  test('an empty locality field, alone or beside another criterion, is refused naming it', () => {
    assert.deepEqual(selecting({ locality: { region: '' } }), ['selector.locality.region']);
    assert.deepEqual(selecting({ cluster: 'edge', locality: { zone: 'a', subZone: '' } }), ['selector.locality.subZone']);
    assert.match(errorsOf({ selector: { locality: { region: '' } } })[0]!.message, /must not be empty/);
  });

  test('a locality with no field is refused', () => {
    assert.deepEqual(selecting({ locality: {} }), ['selector', 'selector.locality']);
    assert.deepEqual(selecting({ cluster: 'edge', locality: {} }), ['selector.locality']);
  });

  test('an empty id, cluster, metadata key or metadata value is refused naming it', () => {
    assert.deepEqual(selecting({ ids: ['n1', ''] }), ['selector.ids[1]']);
    assert.deepEqual(selecting({ ids: [] }), ['selector.ids']);
    assert.deepEqual(selecting({ cluster: '' }), ['selector.cluster']);
    assert.deepEqual(selecting({ metadata: { '': 'x' } }), ['selector.metadata']);
    assert.deepEqual(selecting({ metadata: { tier: '' } }), ['selector.metadata.tier']);
  });

  test('criteria with values pass', () => {
    assert.deepEqual(selecting({ ids: ['n1'], cluster: 'edge', metadata: { tier: 'a' }, locality: { region: 'r', zone: 'z', subZone: 's' } }), []);
  });
});

describe('drain request: every duration and count is bounded', () => {
  const tooLong = MAX_DRAIN_SECONDS + 1;

  test('a duration past 7 days is refused naming the field and the bound', () => {
    assert.deepEqual(errorsOf({ deadlineSeconds: 1e300 }), [{ field: 'deadlineSeconds', message: 'must be at most 604800 (7 days), got 1e+300' }]);
    assert.deepEqual(fieldsOf({ deadlineSeconds: Infinity }), ['deadlineSeconds']);
    assert.deepEqual(fieldsOf({ scope: 'all', egress: { after: 'ingress-complete', deadlineSeconds: tooLong } }), ['egress.deadlineSeconds']);
    assert.deepEqual(fieldsOf({ scope: 'all', egress: { after: 'delay', delaySeconds: tooLong } }), ['egress.delaySeconds']);
    assert.deepEqual(fieldsOf({ scope: 'all', egress: { after: 'egress-idle', quietSeconds: tooLong, waitSeconds: tooLong } }), [
      'egress.quietSeconds',
      'egress.waitSeconds',
    ]);
  });

  test('a count past a million is refused naming the field and the bound', () => {
    assert.deepEqual(errorsOf({ threshold: MAX_DRAIN_COUNT + 1 }), [{ field: 'threshold', message: 'must be at most 1000000, got 1000001' }]);
    assert.deepEqual(errorsOf({ batch: { size: 1e300 } }), [{ field: 'batch.size', message: 'must be at most 1000000, got 1e+300' }]);
    assert.deepEqual(fieldsOf({ batch: { percent: 101 } }), ['batch.percent']);
  });

  test('the bounds themselves are taken', () => {
    const max = MAX_DRAIN_SECONDS;
    assert.deepEqual(fieldsOf({ deadlineSeconds: max, threshold: MAX_DRAIN_COUNT, batch: { size: MAX_DRAIN_COUNT } }), []);
    assert.deepEqual(fieldsOf({ scope: 'all', egress: { after: 'delay', delaySeconds: max, deadlineSeconds: max } }), []);
    assert.deepEqual(fieldsOf({ scope: 'all', egress: { after: 'egress-idle', quietSeconds: max, waitSeconds: max } }), []);
  });

  test('the lower bounds say what they always said', () => {
    assert.deepEqual(errorsOf({ deadlineSeconds: 0 }), [{ field: 'deadlineSeconds', message: 'must be > 0, got 0' }]);
    assert.deepEqual(errorsOf({ batch: { size: 0 } }), [{ field: 'batch.size', message: 'must be an integer >= 1, got 0' }]);
    assert.deepEqual(fieldsOf({ scope: 'all', egress: { after: 'delay' } }), ['egress.delaySeconds']);
  });
});
