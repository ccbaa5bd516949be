/**
 * One pod, followed until Kubernetes marks it for deletion (`metadata.deletionTimestamp`): the
 * moment the kubelet starts stopping it, before it has run any preStop hook. `drainplane run`
 * starts its pod's drain then. Watched by name (a field selector), so the pod's own service
 * account needs `get`, `list` and `watch` on pods of its namespace, nothing more.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { RestartingWatch } from './restarting-watch.js';

export interface PodDeletionWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  /** Called once, when the pod is first seen with a deletion timestamp. */
  readonly onDeleting: (deletionTimestamp: string) => void;
  readonly logger: Logger;
}

export function watchPodDeletion(options: PodDeletionWatchOptions): () => void {
  const { kubeConfig, namespace, name } = options;
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const fieldSelector = `metadata.name=${name}`;
  let told = false;
  const watch = new RestartingWatch<V1Pod>({
    kubeConfig,
    path: `/api/v1/namespaces/${namespace}/pods`,
    list: () => api.listNamespacedPod({ namespace, fieldSelector }),
    fieldSelector,
    what: `pod ${namespace}/${name}`,
    logger: options.logger,
    onChange: (pods) => {
      const deleting = pods.find((p) => p.metadata?.name === name)?.metadata?.deletionTimestamp;
      if (told || !deleting) return;
      told = true;
      options.onDeleting(new Date(deleting).toISOString());
      watch.stop();
    },
  });
  watch.start();
  return () => watch.stop();
}
