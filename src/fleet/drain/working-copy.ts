import type { Drain } from './model.js';

/**
 * A copy of a drain that a change can be worked out on: every part a step changes (phases,
 * node entries, listener counts, warnings) is new, the spec is shared. The change is stored
 * from the copy and only then takes the original's place, so a change whose save fails leaves
 * the drain in memory as it is on disk.
 */
export function workingCopy(drain: Drain): Drain {
  return {
    ...drain,
    warnings: [...drain.warnings],
    phases: drain.phases.map((p) => ({
      ...p,
      nodes: p.nodes.map((n) => ({ ...n, listeners: n.listeners.map((l) => ({ ...l })) })),
    })),
  };
}
