import type protobuf from 'protobufjs';
import type { NodeIdentity } from '../cache/node.js';
import { envoyProtos } from '../resource/protos.js';
import { messageToJson } from '../resource/json-mapping.js';

/** error_detail of a request: present means NACK. */
export interface ErrorDetail {
  readonly code: number;
  readonly message: string;
}

/** The fields of envoy.service.discovery.v3.DiscoveryRequest drainplane reads. */
export interface SotwRequest {
  readonly typeUrl: string;
  readonly versionInfo: string;
  readonly resourceNames: readonly string[];
  readonly responseNonce: string;
  readonly errorDetail: ErrorDetail | undefined;
  /** Number of names in the request, for the per-request bound. */
  readonly resourceCount: number;
  /** Decoded lazily: Envoy repeats its node on every request, but only the first one is read. */
  readonly node: RawNode | undefined;
}

/** The fields of envoy.service.discovery.v3.DeltaDiscoveryRequest drainplane reads. */
export interface DeltaRequest {
  readonly typeUrl: string;
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  readonly initialResourceVersions: Readonly<Record<string, string>>;
  readonly responseNonce: string;
  readonly errorDetail: ErrorDetail | undefined;
  readonly resourceCount: number;
  readonly node: RawNode | undefined;
}

/** A node as decoded from the wire, turned into a NodeIdentity only when needed. */
export interface RawNode {
  identity(): NodeIdentity;
}

interface DecodedStatus {
  code?: number;
  message?: string;
}
interface DecodedNode extends protobuf.Message {
  id?: string;
}

const protos = envoyProtos();
const DiscoveryRequest = protos.type('envoy.service.discovery.v3.DiscoveryRequest');
const DeltaDiscoveryRequest = protos.type('envoy.service.discovery.v3.DeltaDiscoveryRequest');
const Node = protos.type('envoy.config.core.v3.Node');

/** Throws on bytes that are not a DiscoveryRequest; grpc-js then ends the call with INTERNAL. */
export function decodeSotwRequest(bytes: Buffer): SotwRequest {
  const m = DiscoveryRequest.decode(bytes) as unknown as {
    type_url: string;
    version_info: string;
    resource_names: string[];
    response_nonce: string;
    error_detail?: DecodedStatus | null;
    node?: DecodedNode | null;
  };
  return {
    typeUrl: m.type_url,
    versionInfo: m.version_info,
    resourceNames: m.resource_names,
    responseNonce: m.response_nonce,
    errorDetail: errorDetail(m.error_detail),
    resourceCount: m.resource_names.length,
    node: rawNode(m.node),
  };
}

export function decodeDeltaRequest(bytes: Buffer): DeltaRequest {
  const m = DeltaDiscoveryRequest.decode(bytes) as unknown as {
    type_url: string;
    resource_names_subscribe: string[];
    resource_names_unsubscribe: string[];
    initial_resource_versions: Record<string, string>;
    response_nonce: string;
    error_detail?: DecodedStatus | null;
    node?: DecodedNode | null;
  };
  return {
    typeUrl: m.type_url,
    subscribe: m.resource_names_subscribe,
    unsubscribe: m.resource_names_unsubscribe,
    initialResourceVersions: { ...m.initial_resource_versions },
    responseNonce: m.response_nonce,
    errorDetail: errorDetail(m.error_detail),
    resourceCount:
      m.resource_names_subscribe.length +
      m.resource_names_unsubscribe.length +
      Object.keys(m.initial_resource_versions).length,
    node: rawNode(m.node),
  };
}

function errorDetail(status: DecodedStatus | null | undefined): ErrorDetail | undefined {
  if (!status) return undefined;
  return { code: status.code ?? 0, message: status.message ?? '' };
}

function rawNode(node: DecodedNode | null | undefined): RawNode | undefined {
  if (!node) return undefined;
  return { identity: () => nodeIdentity(node) };
}

interface NodeJson {
  id?: string;
  cluster?: string;
  metadata?: Record<string, unknown>;
  locality?: { region?: string; zone?: string; sub_zone?: string };
  user_agent_name?: string;
  user_agent_version?: string;
  user_agent_build_version?: { version?: { major_number?: number; minor_number?: number; patch?: number } };
}

function nodeIdentity(node: DecodedNode): NodeIdentity {
  const json = messageToJson(protos, Node, Node.encode(node).finish()) as NodeJson;
  const build = json.user_agent_build_version?.version;
  return {
    id: json.id ?? '',
    cluster: json.cluster ?? '',
    metadata: json.metadata ?? {},
    locality: {
      region: json.locality?.region ?? '',
      zone: json.locality?.zone ?? '',
      subZone: json.locality?.sub_zone ?? '',
    },
    userAgentName: json.user_agent_name ?? '',
    userAgentVersion:
      json.user_agent_version ??
      (build ? `${build.major_number ?? 0}.${build.minor_number ?? 0}.${build.patch ?? 0}` : ''),
  };
}
