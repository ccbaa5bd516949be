import type { DrainState } from '../fleet/drain/model.js';
import type { DrainFollower } from './supervised-daemon.js';

/** Resolves with the drain's state once it has ended, or 'running' when `timeoutMs` passes first. */
export function waitForDrain(drains: DrainFollower, id: string, timeoutMs: number): Promise<DrainState> {
  return new Promise((resolve) => {
    const settle = (): void => {
      clearTimeout(timer);
      stop();
      resolve(drains.get(id)?.state ?? 'cancelled');
    };
    const timer = setTimeout(settle, timeoutMs);
    const stop = drains.onChange((d) => {
      if (d.id === id && d.state !== 'running') settle();
    });
    if (drains.get(id)?.state !== 'running') settle();
  });
}
