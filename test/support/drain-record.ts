/**
 * A stored drain record for tests of what keeps or shows drains (stores, history): a running
 * ingress drain of cluster `c` with no phases, to which a test adds what it needs.
 */
import type { Drain } from '../../src/fleet/drain/model.js';

export function drainRecord(id: string, changes: Partial<Drain> = {}): Drain {
  return {
    id,
    spec: {
      selector: { cluster: 'c' },
      scope: 'ingress',
      method: 'remove',
      egressStart: { after: 'ingress-complete' },
      batch: null,
      deadlineSeconds: 60,
      threshold: 0,
      measure: 'ack',
      confirmIrreversible: false,
    },
    createdAt: '2026-01-01T00:00:00.000Z',
    state: 'running',
    finishedAt: null,
    phase: 0,
    phases: [],
    warnings: [],
    ...changes,
  };
}
