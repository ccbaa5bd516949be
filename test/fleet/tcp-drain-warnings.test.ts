/**
 * A drain of TCP proxy listeners warns, in its preview and when it starts, about the TCP
 * connections that only end at Envoy's drain time: all of them on Envoys before 1.39 (or where
 * the file turns check_drain_close off), the idle ones on later Envoys. Drains of other
 * listeners get no such warning.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeIdentity } from '../../src/cache/node.js';
import { describeDraft, draftDrain } from '../../src/fleet/drain/draft.js';
import type { DrainRequest } from '../../src/fleet/drain/spec.js';
import { NodeRegistry } from '../../src/fleet/registry.js';
import { parsedConfig } from '../support/desired-state.js';
import { demoConfig } from '../support/fleet-configs.js';
import { TCP_EGRESS, TCP_INGRESS, tcpProxyConfig } from '../support/tcp-proxy-config.js';

const OPTIONS = { cluster: 'tcp', ingressPort: 15432, egressPort: 15433, upstreamPort: 15434 };
const NO_SIGNAL = /get no drain signal .*stays open until Envoy's drain time \(--drain-time-s/;
const IDLE = /close a TCP connection, flushing its data, at its next read or write .*an idle one .*stays open until Envoy's drain time/;

function envoy(id: string, version: string, cluster = 'tcp'): NodeIdentity {
  return { id, cluster, metadata: {}, locality: { region: '', zone: '', subZone: '' }, userAgentName: 'envoy', userAgentVersion: version };
}

/** The warnings a preview of this drain shows, with these nodes connected. */
function previewWarnings(yaml: string, nodes: readonly NodeIdentity[], request: Partial<DrainRequest> = {}): string[] {
  const registry = new NodeRegistry();
  nodes.forEach((node, i) => registry.events.streamOpened!({ streamId: i + 1, node, protocol: 'sotw', aggregated: true, peer: 'test' }));
  const result = draftDrain(
    { selector: { cluster: nodes[0]!.cluster }, scope: 'all', method: 'remove', ...request },
    registry.list(),
    parsedConfig(yaml),
    undefined,
  );
  assert.ok('draft' in result, JSON.stringify(result));
  return describeDraft(result.draft).warnings;
}

describe('TCP drain warnings', () => {
  test('Envoy 1.39 and later: the idle connections, naming the listeners and nodes', () => {
    const warnings = previewWarnings(tcpProxyConfig(OPTIONS), [envoy('a', '1.40.0'), envoy('b', '1.39.1')]);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, IDLE);
    assert.match(warnings[0]!, new RegExp(`^TCP proxy listeners ${TCP_EGRESS}, ${TCP_INGRESS} on 2 nodes `));
  });

  test('before 1.39: no drain signal at all; a mixed fleet gets both warnings, each with its nodes', () => {
    const older = previewWarnings(tcpProxyConfig(OPTIONS), [envoy('a', '1.36.2')]);
    assert.equal(older.length, 1, older.join('\n'));
    assert.match(older[0]!, NO_SIGNAL);
    assert.match(older[0]!, / on 1 node get no drain signal \(Envoy before 1\.39/);

    const mixed = previewWarnings(tcpProxyConfig(OPTIONS), [envoy('a', '1.40.0'), envoy('b', '1.37.0'), envoy('c', '1.36.2')]);
    assert.equal(mixed.length, 2, mixed.join('\n'));
    assert.match(
      mixed.find((w) => NO_SIGNAL.test(w))!,
      / on 2 nodes /,
    );
    assert.match(
      mixed.find((w) => IDLE.test(w))!,
      / on 1 node /,
    );
  });

  test('check_drain_close: false in the file counts as no signal on any Envoy', () => {
    const warnings = previewWarnings(tcpProxyConfig({ ...OPTIONS, checkDrainClose: { [TCP_INGRESS]: false } }), [envoy('a', '1.40.0')]);
    assert.match(
      warnings.find((w) => NO_SIGNAL.test(w))!,
      new RegExp(`^TCP proxy listeners ${TCP_INGRESS} on 1 node`),
    );
    assert.match(
      warnings.find((w) => IDLE.test(w))!,
      new RegExp(`^TCP proxy listeners ${TCP_EGRESS} on 1 node`),
    );
  });

  test("only the listeners in the drain's scope are named", () => {
    const warnings = previewWarnings(tcpProxyConfig(OPTIONS), [envoy('a', '1.40.0')], { scope: 'ingress' });
    assert.match(warnings.join('\n'), new RegExp(`TCP proxy listeners ${TCP_INGRESS} on 1 node close`));
  });

  test('drains of HTTP listeners have none', () => {
    const warnings = previewWarnings(demoConfig(), [envoy('a', '1.36.2', 'test-cluster')]);
    assert.deepEqual(
      warnings.filter((w) => /TCP/.test(w)),
      [],
    );
  });
});
