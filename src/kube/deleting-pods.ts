/**
 * Pods followed until Kubernetes marks them for deletion (`metadata.deletionTimestamp`): the
 * moment the decision is made, before the kubelet runs any preStop hook. Each pod's deletion is
 * handed on until it is dealt with, then never again (its later updates are the same deletion).
 * Used for the fleet's pods (a label selector) and for the pod `drainplane run` is in (its name,
 * a field selector); either way list and watch on pods of the namespace are all it needs.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { RestartingWatch } from './restarting-watch.js';

export interface DeletingPodsOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** What is watched, for log lines. */
  readonly what: string;
  /** Resolves true once the deletion is dealt with; false (or a failure) asks again at the pod's next change. */
  readonly onDeleting: (podName: string, deletedAt: string) => Promise<boolean>;
  readonly onRestart?: () => void;
  readonly logger: Logger;
}

/** Starts following; returns the function that stops. */
export function watchDeletingPods(options: DeletingPodsOptions): () => void {
  const { kubeConfig, namespace, labelSelector, fieldSelector } = options;
  const api = kubeConfig.makeApiClient(CoreV1Api);
  /** Pods (by uid) whose deletion was dealt with, and those being dealt with now. */
  const done = new Set<string>();
  const asking = new Set<string>();
  const watch = new RestartingWatch<V1Pod>({
    kubeConfig,
    path: `/api/v1/namespaces/${namespace}/pods`,
    list: () => api.listNamespacedPod({ namespace, ...(labelSelector && { labelSelector }), ...(fieldSelector && { fieldSelector }) }),
    ...(labelSelector && { labelSelector }),
    ...(fieldSelector && { fieldSelector }),
    what: options.what,
    logger: options.logger,
    ...(options.onRestart && { onRestart: options.onRestart }),
    onChange: (current) => {
      const deleting = new Set<string>();
      for (const pod of current) {
        const uid = pod.metadata?.uid ?? '';
        const name = pod.metadata?.name;
        if (!pod.metadata?.deletionTimestamp || !name) continue;
        deleting.add(uid);
        if (done.has(uid) || asking.has(uid)) continue;
        // Not dealt with (this replica did not lead, say): asked again at the pod's next change.
        asking.add(uid);
        options.onDeleting(name, new Date(pod.metadata.deletionTimestamp).toISOString()).then(
          (dealt) => {
            asking.delete(uid);
            if (dealt) done.add(uid);
          },
          () => asking.delete(uid),
        );
      }
      // Bounded by the pods being deleted now: gone pods are forgotten.
      for (const uid of done) if (!deleting.has(uid)) done.delete(uid);
    },
  });
  watch.start();
  return () => watch.stop();
}
