/**
 * `drainplane run` in a pod that names itself (the downward API's POD_NAME and POD_NAMESPACE):
 * the pod's deletion is a shutdown trigger like SIGTERM and the preStop hook, and the first of
 * them. Kubernetes sets the deletion timestamp before the kubelet runs any hook, so the drain
 * starts as soon as the decision is made. Without the name, or without access to the API, the
 * preStop hook and SIGTERM remain the triggers (logged once).
 */
import type { Logger } from 'pino';
import type { KubernetesSettings } from '../fleet/service-endpoints/config-section.js';
import { loadKubeConfig } from './kube-config.js';
import { watchDeletingPods } from './deleting-pods.js';

export interface OwnPodOptions {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly settings: KubernetesSettings | undefined;
  readonly configDir: string;
  readonly logger: Logger;
  readonly onDeleting: () => void;
}

/** Starts following the pod; returns the function that stops. */
export function followOwnPod(options: OwnPodOptions): () => void {
  const { name, namespace, logger } = options;
  const off = (why: string): (() => void) => {
    logger.info({ event: 'pod_watch_off', reason: why }, `not watching this pod's deletion (${why}): preStop and SIGTERM start the drain`);
    return () => {};
  };
  if (!name || !namespace) return off('POD_NAME and POD_NAMESPACE are not both set');
  let kubeConfig;
  try {
    kubeConfig = loadKubeConfig(options.settings, options.configDir);
  } catch (err) {
    return off((err as Error).message);
  }
  logger.info({ event: 'pod_watch', pod: `${namespace}/${name}` }, `watching pod ${namespace}/${name}: its deletion starts the drain`);
  return watchDeletingPods({
    kubeConfig,
    namespace,
    fieldSelector: `metadata.name=${name}`,
    what: `pod ${namespace}/${name}`,
    logger,
    onDeleting: (_name, at) => {
      logger.info({ event: 'pod_deleting', pod: `${namespace}/${name}`, deletionTimestamp: at }, `pod ${namespace}/${name} is being deleted`);
      options.onDeleting();
      return Promise.resolve(true);
    },
  });
}
