import type { DesiredState } from '../fleet/desired-state/desired-state.js';
import type { DrainManager } from '../fleet/drain/manager.js';
import type { NodeRegistry } from '../fleet/registry.js';

/** The parts of a drain manager that waiting for a drain to end uses. */
export type DrainFollower = Pick<DrainManager, 'get' | 'onChange'>;

/**
 * What the supervisor needs of the daemon it runs beside, and no more: the local node's
 * status for readiness, drains to create and follow, and the switch that fails readiness.
 * The Daemon implements it; `drainplane run` hands it over, so supervisor/ does not depend
 * on the composition root.
 */
export interface SupervisedDaemon {
  readonly nodes: Pick<NodeRegistry, 'list'>;
  readonly drains: DrainFollower & Pick<DrainManager, 'create'>;
  /** Whether the local node has its full config and ACKed it. */
  readonly desired: Pick<DesiredState, 'overlayOf' | 'inSync'>;
  markShuttingDown(): void;
}
