import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { test } from 'node:test';
import type { NodeIdentity } from '../../src/cache/node.js';
import { certificateIdentities, nodeIdentityAuthorizer } from '../../src/tls/node-identity.js';

function node(id: string, cluster = 'edge'): NodeIdentity {
  return { id, cluster, metadata: {}, locality: { region: '', zone: '', subZone: '' }, userAgentName: 'envoy', userAgentVersion: '1.34.0' };
}

/** A verified client certificate as Node reports it: only its subjectaltname matters here. */
function cert(subjectaltname: string | undefined): PeerCertificate {
  return { subjectaltname } as PeerCertificate;
}

test('SANs: URI and DNS names are read, quoted ones unescaped, IP addresses and e-mail ignored', () => {
  const names = certificateIdentities(
    cert('DNS:envoy-1.edge.svc, URI:"spiffe://cluster.local/ns/a\\u002cb/sa/envoy-1", IP Address:127.0.0.1, email:ops@example.com, URI:spiffe://x/y'),
  );
  assert.deepEqual(names, ['envoy-1.edge.svc', 'spiffe://cluster.local/ns/a,b/sa/envoy-1', 'spiffe://x/y']);
  // A comma inside a quoted value cannot forge an extra entry.
  assert.deepEqual(certificateIdentities(cert('URI:"spiffe://a\\u002c DNS:envoy-2"')), ['spiffe://a, DNS:envoy-2']);
  assert.deepEqual(certificateIdentities(cert(undefined)), []);
});

test('{node.id}: some URI or DNS SAN must equal the node id', () => {
  const authorize = nodeIdentityAuthorizer('{node.id}');
  assert.equal(authorize(node('envoy-1'), cert('URI:spiffe://x, DNS:envoy-1')), undefined);
  assert.match(
    authorize(node('envoy-1'), cert('DNS:envoy-10'))!,
    /node "envoy-1" refused: its client certificate \(envoy-10\) does not match envoy-1/,
  );
  assert.match(authorize(node('envoy-1'), cert('IP Address:127.0.0.1'))!, /\(no URI or DNS name\)/);
  assert.match(authorize(node('envoy-1'), undefined)!, /no URI or DNS name/);
});

test('templates: * stays within one path segment; node values are literal, never patterns', () => {
  const authorize = nodeIdentityAuthorizer('spiffe://cluster.local/ns/*/sa/{node.cluster}-{node.id}');
  assert.equal(authorize(node('e1'), cert('URI:spiffe://cluster.local/ns/prod/sa/edge-e1')), undefined);
  assert.notEqual(authorize(node('e1'), cert('URI:spiffe://cluster.local/ns/prod/extra/sa/edge-e1')), undefined);
  assert.notEqual(authorize(node('e1'), cert('URI:spiffe://cluster.local/ns//sa/edge-e1')), undefined);
  assert.notEqual(authorize(node('e.'), cert('URI:spiffe://cluster.local/ns/prod/sa/edge-ex')), undefined, 'a dot in a node id is a dot');
  assert.notEqual(authorize(node('*'), cert('URI:spiffe://cluster.local/ns/prod/sa/edge-anything')), undefined, 'a star in a node id is a star');
  assert.equal(authorize(node('*'), cert('URI:spiffe://cluster.local/ns/prod/sa/edge-*')), undefined);
  assert.notEqual(authorize(node('e1'), cert('URI:spiffe://cluster.local/ns/prod/sa/edge-e1/more')), undefined, 'the whole SAN must match');
});

test('a template must name the node, and only known fields', () => {
  assert.throws(() => nodeIdentityAuthorizer('spiffe://cluster.local/ns/*/sa/envoy'), /names neither \{node\.id\} nor \{node\.cluster\}/);
  assert.throws(() => nodeIdentityAuthorizer('{node.metadata.role}'), /unknown placeholder \{node\.metadata\.role\}/);
});
