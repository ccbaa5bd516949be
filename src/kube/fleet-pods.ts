/**
 * The fleet's Envoy pods (`kubernetes.fleetPods`: a namespace and a label selector), followed:
 * each pod first seen with a deletion timestamp is handed on once, by name, the moment
 * Kubernetes decides, before the kubelet runs any hook. Needs list and watch on pods there.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { FleetPods, KubernetesSettings } from '../fleet/service-endpoints/config-section.js';
import { loadKubeConfig } from './kube-config.js';

/** How long until a kubeconfig that could not be read is read again. */
const CONFIG_RETRY_MS = 10_000;
import { RestartingWatch } from './restarting-watch.js';

export interface FleetPodsWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly pods: FleetPods;
  /** Resolves true once the deletion is dealt with; false (or a failure) asks again at the pod's next change. */
  readonly onDeleting: (podName: string, deletedAt: string) => Promise<boolean>;
  readonly onRestart?: () => void;
  readonly logger: Logger;
}

export function watchFleetPods(options: FleetPodsWatchOptions): () => void {
  const { kubeConfig, pods, logger } = options;
  const api = kubeConfig.makeApiClient(CoreV1Api);
  /** Pods (by uid) whose deletion was dealt with: their later updates are the same deletion. */
  const done = new Set<string>();
  const asking = new Set<string>();
  const watch = new RestartingWatch<V1Pod>({
    kubeConfig,
    path: `/api/v1/namespaces/${pods.namespace}/pods`,
    list: () => api.listNamespacedPod({ namespace: pods.namespace, labelSelector: pods.selector }),
    labelSelector: pods.selector,
    what: `pods ${pods.selector} in ${pods.namespace}`,
    logger,
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

export interface FleetPodsFollowerOptions {
  /** The config file's folder: a relative kubeconfig path is taken from there. */
  readonly configDir: string;
  readonly onDeleting: (podName: string, pods: FleetPods, deletedAt: string) => Promise<boolean>;
  readonly onRestart?: () => void;
  readonly logger: Logger;
}

/** Watches the fleet pods the running config names, again whenever a config changes them. */
export class FleetPodsFollower {
  #settings = '';
  #stop: () => void = () => {};
  #retry: NodeJS.Timeout | undefined;

  constructor(private readonly options: FleetPodsFollowerOptions) {}

  follow(settings: KubernetesSettings | undefined): void {
    const key = JSON.stringify(settings?.fleetPods ? settings : {});
    if (key === this.#settings) return;
    this.stop();
    const pods = settings?.fleetPods;
    if (!pods) {
      this.#settings = key;
      return;
    }
    const { logger } = this.options;
    let kubeConfig: KubeConfig;
    try {
      kubeConfig = loadKubeConfig(settings, this.options.configDir);
    } catch (err) {
      // Read again in a while (a token mounted late): the settings stay unfollowed until then.
      logger.error(
        { event: 'kube_config_failed', error: (err as Error).message, retryMs: CONFIG_RETRY_MS },
        `cannot reach Kubernetes: ${(err as Error).message}`,
      );
      this.#retry = setTimeout(() => this.follow(settings), CONFIG_RETRY_MS);
      this.#retry.unref();
      return;
    }
    this.#settings = key;
    this.#stop = watchFleetPods({
      kubeConfig,
      pods,
      logger,
      onDeleting: (name, deletedAt) => this.options.onDeleting(name, pods, deletedAt),
      ...(this.options.onRestart && { onRestart: this.options.onRestart }),
    });
  }

  stop(): void {
    clearTimeout(this.#retry);
    this.#stop();
    this.#stop = () => {};
    this.#settings = '';
  }
}
