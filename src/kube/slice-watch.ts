/**
 * The EndpointSlices of one Service, followed: a list, then a watch from its resource version
 * (the client library's ListWatch), restarted after any failure with a growing, jittered delay,
 * listing again when the API server says the version is too old. Every change hands the
 * Service's whole current slice list on, coalesced: the controller rewrites several slices for
 * one pod change.
 */
import { DiscoveryV1Api, ListWatch, Watch, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { EndpointSliceData } from '../fleet/service-endpoints/endpoint-slice.js';

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

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

export class SliceWatch {
  readonly #informer: ListWatch<V1EndpointSlice>;
  #stopped = false;
  #retryMs = FIRST_RETRY_MS;
  #retry: NodeJS.Timeout | undefined;
  #pending: NodeJS.Timeout | undefined;
  #listed = false;
  #failures = 0;
  /** Settled once the first listing is handed on. */
  readonly listed: Promise<void>;
  #markListed!: () => void;

  constructor(private readonly options: SliceWatchOptions) {
    const { kubeConfig, namespace, service } = options;
    const api = kubeConfig.makeApiClient(DiscoveryV1Api);
    const labelSelector = `kubernetes.io/service-name=${service}`;
    this.#informer = new ListWatch<V1EndpointSlice>(
      `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
      new Watch(kubeConfig),
      () => api.listNamespacedEndpointSlice({ namespace, labelSelector }),
      false,
      labelSelector,
    );
    this.listed = new Promise((resolve) => (this.#markListed = resolve));
    const changed = (): void => this.#changed();
    this.#informer.on('add', changed);
    this.#informer.on('update', changed);
    this.#informer.on('delete', changed);
    this.#informer.on('error', (err: unknown) => this.#failed(err));
  }

  start(): void {
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearTimeout(this.#pending);
    void this.#informer.stop();
  }

  async #connect(): Promise<void> {
    // The library reports a failed list or watch through 'error' and resolves start() anyway.
    const failuresBefore = this.#failures;
    try {
      await this.#informer.start();
    } catch (err) {
      this.#failed(err);
      return;
    }
    if (this.#stopped || this.#failures !== failuresBefore) return;
    this.#retryMs = FIRST_RETRY_MS;
    // Listed, and the watch is on: the Service is known now, even with no slice.
    if (!this.#listed) this.#emit();
  }

  #failed(err: unknown): void {
    this.#failures++;
    if (this.#stopped || this.#retry) return;
    const { namespace, service, logger } = this.options;
    const delay = this.#retryMs * (0.5 + Math.random() / 2);
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    logger.warn(
      { event: 'kube_watch_failed', namespace, service, error: describe(err), retryMs: Math.round(delay) },
      `EndpointSlices of ${namespace}/${service}: ${describe(err)}; watching again in ${Math.round(delay)} ms`,
    );
    this.options.onRestart?.();
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#stopped) void this.#connect();
    }, delay);
  }

  #changed(): void {
    // Changes seen while the first list is read are handed on with it.
    if (!this.#listed || this.#pending) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      if (!this.#stopped) this.#emit();
    }, this.options.coalesceMs ?? 20);
  }

  #emit(): void {
    this.#listed = true;
    this.options.onSlices(this.#informer.list(this.options.namespace).map(sliceData));
    this.#markListed();
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

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'code' in err) return `HTTP ${String(err.code)}`;
  return String(err);
}
