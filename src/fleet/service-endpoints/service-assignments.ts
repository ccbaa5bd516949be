/**
 * The ClusterLoadAssignments made from Kubernetes Services, encoded once each: what the watches
 * last saw of every Service the config names. An assignment whose Service was never listed yet is
 * pending: it is neither served nor reported removed, so an Envoy that holds it from before (a
 * drainplane restart) keeps its endpoints until the Service is known.
 */
import { EncodedResource } from '../../resource/encoded-resource.js';
import { encodeChecked } from '../../resource/checked-resource.js';
import { envoyProtos } from '../../resource/protos.js';
import { TypeUrl } from '../../resource/type-urls.js';
import { assignmentJson } from './assignment.js';
import type { EndpointSliceData } from './endpoint-slice.js';
import { assignmentKey, serviceKey, type ServiceEndpointsRef } from './service-ref.js';

/**
 * A group's assignments from Services: those known, and the names still pending (a Service not
 * listed yet, or whose slices have no endpoint on the port named).
 */
export interface GroupServiceAssignments {
  readonly resources: readonly EncodedResource[];
  readonly pending: readonly string[];
}

export const NO_SERVICE_ASSIGNMENTS: GroupServiceAssignments = { resources: [], pending: [] };

export class ServiceAssignments {
  /** The slices of each Service listed so far, by `namespace/name`. */
  readonly #slices = new Map<string, readonly EndpointSliceData[]>();
  /** Encoded assignments by assignmentKey: the same slices give back the same object. */
  readonly #encoded = new Map<string, { readonly slices: readonly EndpointSliceData[]; readonly resource: EncodedResource | undefined }>();

  /** A Service's slices as now listed. */
  setSlices(namespace: string, service: string, slices: readonly EndpointSliceData[]): void {
    this.#slices.set(serviceKey({ namespace, service }), slices);
  }

  /** Forgets a Service no longer watched: its assignments are pending again. */
  forget(namespace: string, service: string): void {
    const key = serviceKey({ namespace, service });
    this.#slices.delete(key);
    for (const k of this.#encoded.keys()) if (k.startsWith(`${key}:`)) this.#encoded.delete(k);
  }

  /** Whether the Service has been listed. */
  known(namespace: string, service: string): boolean {
    return this.#slices.has(serviceKey({ namespace, service }));
  }

  /** The assignments of these refs (a group's), encoded once per content. */
  resolve(refs: readonly ServiceEndpointsRef[]): GroupServiceAssignments {
    if (refs.length === 0) return NO_SERVICE_ASSIGNMENTS;
    const resources: EncodedResource[] = [];
    const pending: string[] = [];
    for (const ref of refs) {
      const slices = this.#slices.get(serviceKey(ref));
      const resource = slices && this.#resource(ref, slices);
      if (resource) resources.push(resource);
      else pending.push(ref.clusterName);
    }
    return { resources, pending };
  }

  #resource(ref: ServiceEndpointsRef, slices: readonly EndpointSliceData[]): EncodedResource | undefined {
    const key = assignmentKey(ref);
    const cached = this.#encoded.get(key);
    if (cached?.slices === slices) return cached.resource;
    const json = assignmentJson(ref, slices);
    if (!json) {
      this.#encoded.set(key, { slices, resource: undefined });
      return undefined;
    }
    const protos = envoyProtos();
    const checked = encodeChecked(protos, protos.type('envoy.config.endpoint.v3.ClusterLoadAssignment'), json);
    // Built from checked numbers and addresses the API server validated: a failure is a bug here.
    if (!checked.ok) throw new Error(`assignment of ${key}: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    const resource = new EncodedResource(TypeUrl.ClusterLoadAssignment, ref.clusterName, checked.value);
    // Same bytes as before (a slice changed in what Envoy does not see): the same object.
    const kept = cached?.resource?.version === resource.version ? cached.resource : resource;
    this.#encoded.set(key, { slices, resource: kept });
    return kept;
  }
}
