/**
 * Kubernetes as the source of the groups' `serviceEndpoints`: one SliceWatch per Service the
 * running config names, started when a config names it and stopped when none does any more.
 * Each listing goes into the service assignments, and the nodes of the groups that take the
 * Service are pushed the new assignment (EDS only: nothing else changed).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { FleetConfig } from '../fleet/config.js';
import type { DesiredState } from '../fleet/desired-state/desired-state.js';
import type { ServiceAssignments } from '../fleet/service-endpoints/service-assignments.js';
import { serviceKey, type ServiceEndpointsRef } from '../fleet/service-endpoints/service-ref.js';
import { KUBECONFIG_RETRY_MS, loadKubeConfigOrSay } from './kube-config.js';
import { SliceWatch } from './slice-watch.js';

export interface KubernetesEndpointsOptions {
  readonly services: ServiceAssignments;
  readonly desired: Pick<DesiredState, 'serviceChanged'>;
  /** The config file's folder: a relative kubeconfig path is taken from there. */
  readonly configDir: string;
  readonly logger: Logger;
  /** A watch failed and is being restarted (for metrics). */
  readonly onRestart?: () => void;
}

interface Followed {
  readonly namespace: string;
  readonly service: string;
  readonly watch: SliceWatch;
}

export class KubernetesEndpoints {
  readonly #watches = new Map<string, Followed>();
  /** The `kubernetes` settings the watches were made with: other settings, other watches. */
  #settings: string | undefined;
  #kubeConfig: KubeConfig | undefined;
  /** The config last followed, for a retry when the kubeconfig could not be read. */
  #latest: FleetConfig | undefined;
  #retry: NodeJS.Timeout | undefined;

  constructor(private readonly options: KubernetesEndpointsOptions) {}

  /** Watches the Services the config names (and only those). */
  follow(config: FleetConfig): void {
    const refs = config.groups.flatMap((g) => g.serviceEndpoints);
    const settings = JSON.stringify({ kubeconfig: config.kubernetes?.kubeconfig, context: config.kubernetes?.context });
    this.#latest = config;
    if (settings !== this.#settings) {
      this.stop();
      this.#settings = settings;
    }
    const wanted = new Map<string, ServiceEndpointsRef>(refs.map((r) => [serviceKey(r), r]));
    for (const [key, followed] of this.#watches) {
      if (wanted.has(key)) continue;
      followed.watch.stop();
      this.#watches.delete(key);
      this.options.services.forget(followed.namespace, followed.service);
    }
    if (!this.#kubeConfig && refs.length > 0) this.#kubeConfig = this.#connect(config);
    const kubeConfig = this.#kubeConfig;
    if (!kubeConfig) return;
    for (const [key, ref] of wanted) {
      if (this.#watches.has(key)) continue;
      const watch = this.#watch(kubeConfig, ref.namespace, ref.service);
      this.#watches.set(key, { namespace: ref.namespace, service: ref.service, watch });
      watch.start();
    }
  }

  /**
   * Waits until every watched Service was listed once, or `timeoutMs` passed; returns the
   * Services (`namespace/name`) not listed yet.
   */
  async listed(timeoutMs: number): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all([...this.#watches.values()].map((f) => f.watch.listed)), timeout]);
    clearTimeout(timer);
    return [...this.#watches.values()].filter((f) => !this.options.services.known(f.namespace, f.service)).map((f) => serviceKey(f));
  }

  stop(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    for (const followed of this.#watches.values()) {
      followed.watch.stop();
      this.options.services.forget(followed.namespace, followed.service);
    }
    this.#watches.clear();
    this.#kubeConfig = undefined;
  }

  #connect(config: FleetConfig): KubeConfig | undefined {
    const kubeConfig = loadKubeConfigOrSay(config.kubernetes, this.options.configDir, this.options.logger);
    if (!kubeConfig) {
      // The assignments stay pending (Envoys keep what they have) until the files can be read.
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        if (this.#latest) this.follow(this.#latest);
      }, KUBECONFIG_RETRY_MS);
      this.#retry.unref();
    }
    return kubeConfig;
  }

  #watch(kubeConfig: KubeConfig, namespace: string, service: string): SliceWatch {
    const { services, desired, logger, onRestart } = this.options;
    return new SliceWatch({
      kubeConfig,
      namespace,
      service,
      logger,
      ...(onRestart && { onRestart }),
      onSlices: (slices) => {
        services.setSlices(namespace, service, slices);
        const nodes = desired.serviceChanged(namespace, service);
        const refs = (this.#latest?.groups ?? [])
          .flatMap((g) => g.serviceEndpoints)
          .filter((r) => r.namespace === namespace && r.service === service);
        const unmatched = services.resolve(refs).pending;
        if (unmatched.length > 0) {
          logger.warn(
            { event: 'service_port_unknown', namespace, service, assignments: unmatched },
            `${namespace}/${service}: no endpoint on the port ${unmatched.join(', ')} names (check serviceEndpoints' port); kept pending, nodes keep what they have`,
          );
        }
        const endpoints = slices.reduce((n, s) => n + s.endpoints.length, 0);
        logger.info(
          { event: 'service_endpoints', namespace, service, slices: slices.length, endpoints, nodesChanged: nodes },
          `${namespace}/${service}: ${endpoints} endpoint(s) in ${slices.length} slice(s), ${nodes} node(s) changed`,
        );
      },
    });
  }
}
