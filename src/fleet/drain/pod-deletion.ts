/**
 * A fleet pod marked for deletion (`kubernetes.fleetPods`): its Envoy's node, whose id is the
 * pod's name, is drained at once, as `drainplane run` drains its own Envoy on shutdown (scope
 * all, listeners removed, egress once the app no longer calls out). Once per node: a node that a
 * running drain already holds (a drain through the API, a preStop hook) is left to it.
 */
import type { Logger } from 'pino';
import type { CreateResult, DrainManager } from './manager.js';
import { NODE_FINISHED, type Drain } from './model.js';

export interface PodDeletionDrains {
  readonly drains: Pick<DrainManager, 'list' | 'create'>;
  /** Only the leading replica acts (every replica sees the deletion). */
  readonly leading: () => boolean;
  readonly logger: Logger;
}

/** Clocks of the API server and of the replicas may differ by this much. */
const CLOCK_SKEW_MS = 30_000;

/**
 * `deletedAt`: the pod's deletion timestamp. A drain this deletion already started (another
 * replica led then, or this one before a restart) counts, even finished: a pod still terminating
 * is not drained twice.
 */
export async function drainDeletedPod(
  deps: PodDeletionDrains,
  nodeId: string,
  deadlineSeconds: number,
  deletedAt: string,
): Promise<CreateResult | 'held' | 'not-leading'> {
  if (!deps.leading()) return 'not-leading';
  const since = Date.parse(deletedAt) - CLOCK_SKEW_MS;
  const takes = (d: Drain, unfinished: boolean): boolean =>
    d.phases.some((p) => p.nodes.some((n) => n.nodeId === nodeId && (!unfinished || !NODE_FINISHED.has(n.state))));
  const holding = deps.drains
    .list()
    .find((d) => (d.state === 'running' && takes(d, true)) || (d.origin === 'pod-deleted' && Date.parse(d.createdAt) >= since && takes(d, false)));
  if (holding) {
    deps.logger.info(
      { event: 'pod_deleted_held', node: nodeId, drain: holding.id },
      `pod ${nodeId} is being deleted: drain ${holding.id} already holds its node`,
    );
    return 'held';
  }
  const result = await deps.drains.create(
    { selector: { ids: [nodeId] }, scope: 'all', method: 'remove', egress: { after: 'egress-idle' }, deadlineSeconds },
    { origin: 'pod-deleted' },
  );
  if ('drain' in result) {
    deps.logger.info(
      { event: 'pod_deleted_drain', node: nodeId, drain: result.drain.id },
      `pod ${nodeId} is being deleted: drain ${result.drain.id} started`,
    );
  } else {
    deps.logger.warn(
      { event: 'pod_deleted_drain_refused', node: nodeId, errors: result.errors },
      `pod ${nodeId} is being deleted, but its drain was refused: ${result.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  }
  return result;
}
