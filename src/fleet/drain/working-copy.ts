import { idleGatedPhase } from './egress-idle.js';
import { NODE_FINISHED, type Drain } from './model.js';

/**
 * A copy of a drain that a change can be worked out on: every part a step can change (phases,
 * the entries of nodes still under way, every entry of an egress phase waiting for idle egress,
 * warnings) is new, the rest is shared: the spec, the other entries of finished nodes, which no
 * step changes again (a step moves only nodes pushed, ACKed or waiting), and the listener and
 * endpoint counts, which a step replaces rather than changes (progress.ts). The change is stored
 * from the copy and only then takes the original's place, so a change whose save fails leaves
 * the drain in memory as it is on disk.
 */
export function workingCopy(drain: Drain): Drain {
  // Its quiet record is kept on skipped entries too: they still count for its release.
  const gated = idleGatedPhase(drain);
  return {
    ...drain,
    warnings: [...drain.warnings],
    phases: drain.phases.map((p, i) => ({
      ...p,
      nodes: p.nodes.map((n) => (i !== gated && NODE_FINISHED.has(n.state) ? n : { ...n })),
    })),
  };
}
