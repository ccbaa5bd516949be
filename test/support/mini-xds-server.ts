/**
 * TEST HELPER ONLY: a minimal state-of-the-world ADS server that serves a fixed set of Listeners,
 * used to check the grpc-js-xds node harness on its own. It is not drainplane's xDS server and
 * implements just enough of the protocol for that: LDS only, every subscribed listener in every
 * response, ACK/NACK tracking, no delta, no other resource types.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { envoyProtos } from '../../src/resource/protos.js';
import { LISTENER_TYPE_URL, type ListenerJson } from './grpc-xds-resources.js';
import { encodeProto3Json } from './proto3-json.js';

/** A DiscoveryRequest as proto-loader decodes it (keepCase, defaults). */
interface DiscoveryRequest {
  version_info: string;
  node: { id: string; cluster: string } | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail: { message: string } | null;
}

interface DiscoveryResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: { type_url: string; value: Uint8Array }[];
}

type AdsStream = grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;

export interface Nack {
  nodeId: string;
  /** The version the node rejected. */
  version: string;
  message: string;
}

export interface MiniXdsServer {
  /** `127.0.0.1:PORT`, for a node's bootstrap. */
  readonly address: string;
  /** Every NACK received so far. */
  readonly nacks: readonly Nack[];
  /** Node id to cluster, for every node that opened an ADS stream. */
  readonly nodes: ReadonlyMap<string, string>;
  /** Replaces the whole listener set, pushes it to every node and returns its version. */
  setListeners(listeners: readonly ListenerJson[]): string;
  /** Resolves once `nodeId` has ACKed LDS `version` (or a later one). */
  waitForAck(nodeId: string, version: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

interface Subscriber {
  nodeId: string;
  /** The listener names the node asked for; empty means all (wildcard). */
  names: string[];
  sentVersion?: number;
  ackedVersion?: number;
}

const require = createRequire(import.meta.url);
const DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');

function adsService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(DEPS, d)),
  });
  return definition['envoy.service.discovery.v3.AggregatedDiscoveryService'] as grpc.ServiceDefinition;
}

export async function startMiniXdsServer(): Promise<MiniXdsServer> {
  // Loaded up front (it takes a second or so) so that setListeners pushes without delay.
  const registry = envoyProtos();
  const listeners = new Map<string, Uint8Array>();
  let version = 0;
  let nonce = 0;
  const streams = new Map<AdsStream, Subscriber>();
  const nacks: Nack[] = [];
  const nodes = new Map<string, string>();
  const ackWaiters = new Set<() => void>();

  const send = (stream: AdsStream, sub: Subscriber): void => {
    const wanted = sub.names.length === 0 ? [...listeners.keys()] : sub.names.filter((n) => listeners.has(n));
    sub.sentVersion = version;
    stream.write({
      version_info: String(version),
      type_url: LISTENER_TYPE_URL,
      nonce: String(++nonce),
      resources: wanted.map((name) => ({ type_url: LISTENER_TYPE_URL, value: listeners.get(name)! })),
    });
  };

  const onRequest = (stream: AdsStream, sub: Subscriber, req: DiscoveryRequest): void => {
    if (req.node) {
      sub.nodeId = req.node.id;
      nodes.set(req.node.id, req.node.cluster);
    }
    if (req.type_url !== LISTENER_TYPE_URL) return; // never answered: the client times them out
    if (req.response_nonce) {
      if (req.error_detail) {
        nacks.push({ nodeId: sub.nodeId, version: String(sub.sentVersion), message: req.error_detail.message });
      } else {
        sub.ackedVersion = Number(req.version_info);
        ackWaiters.forEach((check) => check());
      }
    }
    const namesChanged = req.resource_names.join('\n') !== sub.names.join('\n');
    sub.names = [...req.resource_names];
    // A NACK of the current version must not be answered with the same version again.
    if (namesChanged || sub.sentVersion !== version) send(stream, sub);
  };

  const server = new grpc.Server();
  server.addService(adsService(), {
    StreamAggregatedResources(stream: AdsStream) {
      const sub: Subscriber = { nodeId: '', names: [] };
      streams.set(stream, sub);
      stream.on('data', (req: DiscoveryRequest) => onRequest(stream, sub, req));
      stream.on('end', () => stream.end());
      stream.on('error', () => {}); // a node going away mid-stream is routine here
      stream.on('close', () => streams.delete(stream));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    address: `127.0.0.1:${port}`,
    nacks,
    nodes,
    setListeners(next) {
      // Encode everything before touching state, so a bad resource throws here, not mid-push.
      const encoded = next.map((l) => [l.name, encodeProto3Json(registry, 'envoy.config.listener.v3.Listener', l)] as const);
      listeners.clear();
      for (const [name, bytes] of encoded) listeners.set(name, bytes);
      version++;
      for (const [stream, sub] of streams) if (sub.sentVersion !== undefined) send(stream, sub);
      return String(version);
    },
    waitForAck(nodeId, v, timeoutMs) {
      const acked = (): boolean =>
        [...streams.values()].some((s) => s.nodeId === nodeId && (s.ackedVersion ?? -1) >= Number(v));
      return new Promise((resolve, reject) => {
        if (acked()) return resolve();
        const check = (): void => {
          if (!acked()) return;
          finish();
          resolve();
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`node ${nodeId} did not ACK LDS version ${v} within ${timeoutMs} ms`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          ackWaiters.delete(check);
        };
        ackWaiters.add(check);
      });
    },
    close() {
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
