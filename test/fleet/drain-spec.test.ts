/**
 * The domain check of a drain request: what the CLI, `drainplane run` and the API all pass
 * through, so a drain made without HTTP meets the same rules as one made through it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Selector } from '../../src/fleet/drain/model.js';
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
