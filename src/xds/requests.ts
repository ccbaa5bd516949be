import type protobuf from 'protobufjs';
import type { NodeIdentity } from '../cache/node.js';
import { envoyProtos } from '../resource/protos.js';
import { messageToJson } from '../resource/json-mapping.js';
import { boundMetadata } from './truncate.js';

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
  /**
   * The node as drainplane keeps it, its metadata cut to `maxMetadataBytes` of JSON. Throws on
   * a node whose id, cluster, locality or user agent is longer than MAX_NODE_FIELD_CHARS.
   */
  read(maxMetadataBytes: number): ReadNode;
}

export interface ReadNode {
  readonly identity: NodeIdentity;
  /** About the bytes the identity takes in memory (metadata as JSON, and its strings). */
  readonly bytes: number;
}

/**
 * Longest node id, cluster, locality field and user agent accepted, in characters. These name
 * nodes in every log line and match config groups and drain selectors: they are refused, not
 * cut. Envoy's are far shorter (a Kubernetes pod name has at most 253).
 */
export const MAX_NODE_FIELD_CHARS = 1024;

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
    resourceCount: m.resource_names_subscribe.length + m.resource_names_unsubscribe.length + Object.keys(m.initial_resource_versions).length,
    node: rawNode(m.node),
  };
}

function errorDetail(status: DecodedStatus | null | undefined): ErrorDetail | undefined {
  if (!status) return undefined;
  return { code: status.code ?? 0, message: status.message ?? '' };
}

function rawNode(node: DecodedNode | null | undefined): RawNode | undefined {
  if (!node) return undefined;
  return { read: (maxMetadataBytes) => nodeIdentity(node, maxMetadataBytes) };
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

function nodeIdentity(node: DecodedNode, maxMetadataBytes: number): ReadNode {
  const json = messageToJson(protos, Node, Node.encode(node).finish()) as NodeJson;
  const build = json.user_agent_build_version?.version;
  const metadata = boundMetadata(json.metadata ?? {}, maxMetadataBytes);
  const identity: NodeIdentity = {
    id: json.id ?? '',
    cluster: json.cluster ?? '',
    metadata: metadata.metadata,
    locality: {
      region: json.locality?.region ?? '',
      zone: json.locality?.zone ?? '',
      subZone: json.locality?.sub_zone ?? '',
    },
    userAgentName: json.user_agent_name ?? '',
    userAgentVersion: json.user_agent_version ?? (build ? `${build.major_number ?? 0}.${build.minor_number ?? 0}.${build.patch ?? 0}` : ''),
  };
  const { locality } = identity;
  const fields: [string, string][] = [
    ['node.id', identity.id],
    ['node.cluster', identity.cluster],
    ['node.locality.region', locality.region],
    ['node.locality.zone', locality.zone],
    ['node.locality.sub_zone', locality.subZone],
    ['node.user_agent_name', identity.userAgentName],
    ['node.user_agent_version', identity.userAgentVersion],
  ];
  let bytes = metadata.bytes + NODE_OVERHEAD_BYTES;
  for (const [name, value] of fields) {
    if (value.length > MAX_NODE_FIELD_CHARS) {
      throw new Error(`${name} has ${value.length} characters; at most ${MAX_NODE_FIELD_CHARS} are allowed`);
    }
    bytes += value.length;
  }
  return { identity, bytes };
}

/** The objects of an identity, beside its strings. */
const NODE_OVERHEAD_BYTES = 256;
