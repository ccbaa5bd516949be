import type * as grpc from '@grpc/grpc-js';
import { envoyProtos } from '../resource/protos.js';
import { TypeUrl, type XdsTypeUrl } from '../resource/type-urls.js';
import type { StreamProtocol } from './events.js';
import { decodeDeltaRequest, decodeSotwRequest } from './requests.js';

/** The discovery services served, and the type each per-type service carries. */
const SERVICES: readonly { readonly name: string; readonly fixedType: XdsTypeUrl | undefined }[] = [
  { name: 'envoy.service.discovery.v3.AggregatedDiscoveryService', fixedType: undefined },
  { name: 'envoy.service.listener.v3.ListenerDiscoveryService', fixedType: TypeUrl.Listener },
  { name: 'envoy.service.cluster.v3.ClusterDiscoveryService', fixedType: TypeUrl.Cluster },
  { name: 'envoy.service.route.v3.RouteDiscoveryService', fixedType: TypeUrl.RouteConfiguration },
  { name: 'envoy.service.endpoint.v3.EndpointDiscoveryService', fixedType: TypeUrl.ClusterLoadAssignment },
  { name: 'envoy.service.secret.v3.SecretDiscoveryService', fixedType: TypeUrl.Secret },
];

export interface DiscoveryMethod {
  readonly service: string;
  readonly method: string;
  readonly protocol: StreamProtocol;
  readonly fixedType: XdsTypeUrl | undefined;
}

export interface DiscoveryService {
  readonly definition: grpc.ServiceDefinition;
  readonly methods: readonly DiscoveryMethod[];
}

/**
 * gRPC service definitions for the streaming discovery methods, read from Envoy's own service
 * protos. Requests are decoded with protobufjs; responses are written as the bytes drainplane
 * assembled from resources encoded once, so the serializer is the identity.
 */
export function discoveryServices(): DiscoveryService[] {
  const protos = envoyProtos();
  return SERVICES.map(({ name, fixedType }) => {
    const service = protos.root.lookupService(name);
    const definition: Record<string, grpc.MethodDefinition<unknown, Buffer>> = {};
    const methods: DiscoveryMethod[] = [];
    for (const method of Object.values(service.methods)) {
      // Fetch* (unary REST-style) methods are not served; grpc-js answers UNIMPLEMENTED.
      if (!method.requestStream || !method.responseStream) continue;
      const protocol: StreamProtocol = method.requestType.endsWith('DeltaDiscoveryRequest') ? 'delta' : 'sotw';
      definition[method.name] = {
        path: `/${name}/${method.name}`,
        requestStream: true,
        responseStream: true,
        requestSerialize: () => {
          throw new Error('drainplane serves discovery requests; it does not send them');
        },
        requestDeserialize: protocol === 'delta' ? decodeDeltaRequest : decodeSotwRequest,
        responseSerialize: (response: Buffer) => response,
        responseDeserialize: (bytes: Buffer) => bytes,
        originalName: method.name,
      } satisfies grpc.MethodDefinition<unknown, Buffer>;
      methods.push({ service: name, method: method.name, protocol, fixedType });
    }
    return { definition, methods };
  });
}
