/**
 * The EndpointSlices of one Service, followed (a RestartingWatch on the Service's label). Every
 * change hands the Service's whole current slice list on, coalesced: the controller rewrites
 * several slices for one pod change.
 */
import { DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { EndpointSliceData } from '../fleet/service-endpoints/endpoint-slice.js';
import { RestartingWatch } from './restarting-watch.js';

export interface SliceWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly service: string;
  /** The Service's slices as now known; called after the first listing and on every change. */
  readonly onSlices: (slices: readonly EndpointSliceData[]) => void;
  readonly onRestart?: () => void;
  readonly logger: Logger;
  /** Changes within this many ms are handed on as one. */
  readonly coalesceMs?: number;
}

export class SliceWatch {
  readonly #watch: RestartingWatch<V1EndpointSlice>;
  #pending: NodeJS.Timeout | undefined;
  #latest: readonly V1EndpointSlice[] = [];
  #stopped = false;

  constructor(options: SliceWatchOptions) {
    const { kubeConfig, namespace, service } = options;
    const api = kubeConfig.makeApiClient(DiscoveryV1Api);
    const labelSelector = `kubernetes.io/service-name=${service}`;
    let first = true;
    this.#watch = new RestartingWatch<V1EndpointSlice>({
      kubeConfig,
      path: `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
      list: () => api.listNamespacedEndpointSlice({ namespace, labelSelector }),
      labelSelector,
      what: `EndpointSlices of ${namespace}/${service}`,
      logger: options.logger,
      ...(options.onRestart && { onRestart: options.onRestart }),
      onChange: (slices) => {
        this.#latest = slices;
        // The first listing goes on at once: start-up waits for it.
        if (first) {
          first = false;
          options.onSlices(slices.map(sliceData));
          return;
        }
        this.#pending ??= setTimeout(() => {
          this.#pending = undefined;
          if (!this.#stopped) options.onSlices(this.#latest.map(sliceData));
        }, options.coalesceMs ?? 20);
      },
    });
  }

  /** Settled once the Service's slices were listed and handed on. */
  get listed(): Promise<void> {
    return this.#watch.listed;
  }

  start(): void {
    this.#watch.start();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#pending);
    this.#watch.stop();
  }
}

/** The fields the domain reads, as plain data. */
function sliceData(slice: V1EndpointSlice): EndpointSliceData {
  return {
    name: slice.metadata?.name ?? '',
    addressType: slice.addressType,
    endpoints: (slice.endpoints ?? []).map((e) => ({ addresses: e.addresses, conditions: e.conditions ?? null, zone: e.zone ?? null })),
    ports: (slice.ports ?? []).map((p) => ({ name: p.name ?? null, port: p.port ?? null, protocol: p.protocol ?? null })),
  };
}
