/**
 * A fleet pod marked for deletion (`kubernetes.fleetPods`): its Envoy's node, whose id is the
 * pod's name, is drained at once, as `drainplane run` drains its own Envoy on shutdown (scope
 * all, listeners removed, egress once the app no longer calls out). Once per node: a node that a
 * running drain already holds (an earlier event, a drain through the API) is left to it.
 */
import type { Logger } from 'pino';
import type { CreateResult, DrainManager } from './manager.js';
import { NODE_FINISHED } from './model.js';

export interface PodDeletionDrains {
  readonly drains: Pick<DrainManager, 'list' | 'create'>;
  /** Only the leading replica acts (every replica sees the deletion). */
  readonly leading: () => boolean;
  readonly logger: Logger;
}

export async function drainDeletedPod(
  deps: PodDeletionDrains,
  nodeId: string,
  deadlineSeconds: number,
): Promise<CreateResult | 'held' | 'not-leading'> {
  if (!deps.leading()) return 'not-leading';
  const holding = deps.drains
    .list()
    .find((d) => d.state === 'running' && d.phases.some((p) => p.nodes.some((n) => n.nodeId === nodeId && !NODE_FINISHED.has(n.state))));
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
