/**
 * The comparison the manifests test relies on: it must report a written field the API server
 * dropped or changed, and allow what the server adds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writtenFieldsMissing } from './stored-fields.js';

const written = { spec: { replicas: 3, ports: [{ port: 80, targetPort: 'http' }] } };

test('fields the server added are allowed', () => {
  const stored = {
    metadata: { uid: 'u' },
    spec: { replicas: 3, revisionHistoryLimit: 10, ports: [{ port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };
  assert.deepEqual(writtenFieldsMissing(written, stored), []);
});

test('a field dropped, changed or retyped is reported with its path', () => {
  assert.deepEqual(writtenFieldsMissing(written, { spec: { ports: [{ port: 80, targetPort: 8080 }] } }), [
    '.spec.replicas: written 3, stored undefined',
    '.spec.ports[0].targetPort: written "http", stored 8080',
  ]);
});

test('a list must keep its length', () => {
  assert.deepEqual(writtenFieldsMissing(written, { spec: { replicas: 3, ports: [] } }), [
    '.spec.ports: written [{"port":80,"targetPort":"http"}], stored []',
  ]);
});
