/**
 * The fleet's Envoy pods (`kubernetes.fleetPods`: a namespace and a label selector), followed as
 * the running config names them: each pod's deletion is handed on by name (deleting-pods.ts).
 * Needs list and watch on pods there.
 */
import type { Logger } from 'pino';
import type { FleetPods, KubernetesSettings } from '../fleet/service-endpoints/config-section.js';
import { watchDeletingPods } from './deleting-pods.js';
import { KUBECONFIG_RETRY_MS, loadKubeConfigOrSay } from './kube-config.js';

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
    const kubeConfig = loadKubeConfigOrSay(settings, this.options.configDir, logger);
    if (!kubeConfig) {
      // Read again in a while (a token mounted late): the settings stay unfollowed until then.
      this.#retry = setTimeout(() => this.follow(settings), KUBECONFIG_RETRY_MS);
      this.#retry.unref();
      return;
    }
    this.#settings = key;
    this.#stop = watchDeletingPods({
      kubeConfig,
      namespace: pods.namespace,
      labelSelector: pods.selector,
      what: `pods ${pods.selector} in ${pods.namespace}`,
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
