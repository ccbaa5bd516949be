import type { NodeIdentity } from '../cache/node.js';
import { envoyProtos } from '../resource/protos.js';
import { messageToJson } from '../resource/json-mapping.js';
import { present, wireView } from '../resource/wire-view.js';
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

const protos = envoyProtos();
const Node = protos.type('envoy.config.core.v3.Node');
const Locality = protos.type('envoy.config.core.v3.Locality');
const BuildVersion = protos.type('envoy.config.core.v3.BuildVersion');
const Struct = protos.type('google.protobuf.Struct');
const Status = protos.type('google.rpc.Status');

/** What drainplane reads of each request; the node and error_detail stay bytes until needed. */
const DiscoveryRequest = wireView(protos.type('envoy.service.discovery.v3.DiscoveryRequest'), [
  'version_info',
  'node',
  'resource_names',
  'type_url',
  'response_nonce',
  'error_detail',
]);
const DeltaDiscoveryRequest = wireView(protos.type('envoy.service.discovery.v3.DeltaDiscoveryRequest'), [
  'node',
  'type_url',
  'resource_names_subscribe',
  'resource_names_unsubscribe',
  'initial_resource_versions',
  'response_nonce',
  'error_detail',
]);
const NodeFields = wireView(Node, ['id', 'cluster', 'metadata', 'locality', 'user_agent_name', 'user_agent_version', 'user_agent_build_version']);

/** Throws on bytes that are not a DiscoveryRequest; grpc-js then ends the call with INTERNAL. */
export function decodeSotwRequest(bytes: Buffer): SotwRequest {
  const m = DiscoveryRequest.decode(bytes) as unknown as {
    type_url: string;
    version_info: string;
    resource_names: string[];
    response_nonce: string;
    error_detail: Uint8Array;
    node: Uint8Array;
  };
  return {
    typeUrl: m.type_url,
    versionInfo: m.version_info,
    resourceNames: m.resource_names,
    responseNonce: m.response_nonce,
    errorDetail: errorDetail(m),
    resourceCount: m.resource_names.length,
    node: rawNode(m),
  };
}

export function decodeDeltaRequest(bytes: Buffer): DeltaRequest {
  const m = DeltaDiscoveryRequest.decode(bytes) as unknown as {
    type_url: string;
    resource_names_subscribe: string[];
    resource_names_unsubscribe: string[];
    initial_resource_versions: Record<string, string>;
    response_nonce: string;
    error_detail: Uint8Array;
    node: Uint8Array;
  };
  return {
    typeUrl: m.type_url,
    subscribe: m.resource_names_subscribe,
    unsubscribe: m.resource_names_unsubscribe,
    initialResourceVersions: { ...m.initial_resource_versions },
    responseNonce: m.response_nonce,
    errorDetail: errorDetail(m),
    resourceCount: m.resource_names_subscribe.length + m.resource_names_unsubscribe.length + Object.keys(m.initial_resource_versions).length,
    node: rawNode(m),
  };
}

function errorDetail(request: { error_detail: Uint8Array }): ErrorDetail | undefined {
  if (!present(request, 'error_detail')) return undefined;
  const status = Status.decode(request.error_detail) as unknown as { code: number; message: string };
  return { code: status.code, message: status.message };
}

function rawNode(request: { node: Uint8Array }): RawNode | undefined {
  if (!present(request, 'node')) return undefined;
  const bytes = request.node;
  return { read: (maxMetadataBytes) => nodeIdentity(bytes, maxMetadataBytes) };
}

interface NodeWire {
  id: string;
  cluster: string;
  metadata: Uint8Array;
  locality: Uint8Array;
  user_agent_name: string;
  user_agent_version: string;
  user_agent_build_version: Uint8Array;
}

function nodeIdentity(bytes: Uint8Array, maxMetadataBytes: number): ReadNode {
  const node = NodeFields.decode(bytes) as unknown as NodeWire;
  const locality = present(node, 'locality')
    ? (Locality.decode(node.locality) as unknown as { region: string; zone: string; sub_zone: string })
    : { region: '', zone: '', sub_zone: '' };
  const metadata = boundMetadata(present(node, 'metadata') ? messageToJson(protos, Struct, node.metadata) : {}, maxMetadataBytes);
  const identity: NodeIdentity = {
    id: node.id,
    cluster: node.cluster,
    metadata: metadata.metadata,
    locality: { region: locality.region, zone: locality.zone, subZone: locality.sub_zone },
    userAgentName: node.user_agent_name,
    userAgentVersion: present(node, 'user_agent_version') ? node.user_agent_version : buildVersion(node),
  };
  const fields: [string, string][] = [
    ['node.id', identity.id],
    ['node.cluster', identity.cluster],
    ['node.locality.region', identity.locality.region],
    ['node.locality.zone', identity.locality.zone],
    ['node.locality.sub_zone', identity.locality.subZone],
    ['node.user_agent_name', identity.userAgentName],
    ['node.user_agent_version', identity.userAgentVersion],
  ];
  let size = metadata.bytes + NODE_OVERHEAD_BYTES;
  for (const [name, value] of fields) {
    if (value.length > MAX_NODE_FIELD_CHARS) {
      throw new Error(`${name} has ${value.length} characters; at most ${MAX_NODE_FIELD_CHARS} are allowed`);
    }
    size += value.length;
  }
  return { identity, bytes: size };
}

/** Envoy's user_agent_build_version as "major.minor.patch", or "" when absent. */
function buildVersion(node: NodeWire): string {
  if (!present(node, 'user_agent_build_version')) return '';
  const build = BuildVersion.decode(node.user_agent_build_version) as unknown as {
    version?: { major_number: number; minor_number: number; patch: number } | null;
  };
  const v = build.version;
  return v ? `${v.major_number}.${v.minor_number}.${v.patch}` : '';
}

/** The objects of an identity, beside its strings. */
const NODE_OVERHEAD_BYTES = 256;
