/**
 * The transport floor (a process of its own, forked by main.ts): a bare @grpc/grpc-js server
 * with the same server options and listening socket as drainplane's, serving the aggregated discovery methods with
 * responses encoded once before any node connects. It answers each first request of a type with
 * that type's response, ignores ACKs, and on a trigger writes one pre-encoded LDS response to
 * every open stream: the reloaded config's listeners (what a config reload sends: over Delta, the
 * changed ones), or the group's listeners less its INBOUND ones (what an ingress drain sends).
 * No subscription state, no versions, no nonces of its own: what is left is the cost of
 * getting the bytes to the streams.
 *
 * The bytes are drainplane's own (config parser, snapshots, response assembly), so both servers
 * send the same bytes to the same streams.
 */
import * as grpc from '@grpc/grpc-js';
import type { AddressInfo, Server } from 'node:net';
import { listenDeep } from '../../src/net/grpc-listener.js';
import { TypeSnapshot } from '../../src/cache/snapshot.js';
import { PUSH_ORDER, TypeUrl, type XdsTypeUrl } from '../../src/resource/type-urls.js';
import { DEFAULT_XDS_LIMITS, grpcServerOptions } from '../../src/xds/server.js';
import { useMessageBufferPool } from '../../src/net/buffer-pool.js';
import { deltaResponse, sotwResponse } from '../../src/xds/responses.js';
import { groupResources } from './group-resources.js';
import { readRequest } from './wire.js';

/** The LDS pushes the floor can make: a config reload's, an ingress drain's. */
export type FloorPush = 'reload' | 'drain';

export type ToFloor =
  | { readonly op: 'start'; readonly configFile: string; readonly reloadedFile: string }
  | { readonly op: 'trigger'; readonly push: FloorPush }
  | { readonly op: 'stats' }
  | { readonly op: 'stop' };

export interface FloorStats {
  readonly cpuMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly streams: number;
}

export type FromFloor =
  | { readonly op: 'listening'; readonly port: number; readonly responseBytes: Readonly<Record<string, number>> }
  | { readonly op: 'triggered'; readonly streams: number; readonly writeMs: number }
  | { readonly op: 'stats'; readonly stats: FloorStats }
  | { readonly op: 'error'; readonly message: string };

const ADS = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

interface PushBytes {
  readonly sotw: Buffer;
  readonly delta: Buffer;
}

interface GroupBytes {
  readonly initial: { readonly sotw: ReadonlyMap<string, Buffer>; readonly delta: ReadonlyMap<string, Buffer> };
  readonly pushes: Readonly<Record<FloorPush, PushBytes>>;
}

interface OpenStream {
  readonly call: grpc.ServerDuplexStream<Buffer, Buffer>;
  readonly delta: boolean;
  group: GroupBytes | undefined;
}

function send(message: FromFloor): void {
  process.send?.(message);
}

/** SotW response sizes of the first group, by type, for the record. */
function sizes(group: GroupBytes): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [typeUrl, bytes] of group.initial.sotw) out[typeUrl.slice(typeUrl.lastIndexOf('.') + 1)] = bytes.length;
  out['Listener (reloaded)'] = group.pushes.reload.sotw.length;
  out['Listener (drained)'] = group.pushes.drain.sotw.length;
  return out;
}

async function groupBytes(configFile: string, reloadedFile: string): Promise<Map<string, GroupBytes>> {
  const out = new Map<string, GroupBytes>();
  const reloadedGroups = new Map((await groupResources(reloadedFile)).map((g) => [g.nodeCluster, g]));
  for (const { nodeCluster, snapshot, ingress } of await groupResources(configFile)) {
    const byType = (encode: (t: TypeSnapshot) => Buffer): Map<string, Buffer> =>
      new Map(PUSH_ORDER.map((t: XdsTypeUrl) => [t, encode(snapshot.get(t))]));
    const listeners = snapshot.get(TypeUrl.Listener);
    const reloaded = reloadedGroups.get(nodeCluster)?.snapshot.get(TypeUrl.Listener);
    if (!reloaded) throw new Error(`the reloaded config has no group for node.cluster ${nodeCluster}`);
    const removed = new Set(ingress);
    const drained = new TypeSnapshot(
      TypeUrl.Listener,
      listeners.sorted.filter((r) => !removed.has(r.name)),
    );
    out.set(nodeCluster, {
      initial: {
        sotw: byType((t) => sotwResponse(t, 0).bytes),
        delta: byType((t) => deltaResponse(t, t.sorted, [], 0).bytes),
      },
      pushes: {
        reload: {
          sotw: sotwResponse(reloaded, 0).bytes,
          delta: deltaResponse(
            reloaded,
            reloaded.sorted.filter((r) => listeners.resources.get(r.name)?.version !== r.version),
            [],
            0,
          ).bytes,
        },
        drain: {
          sotw: sotwResponse(drained, 0).bytes,
          delta: deltaResponse(drained, [], ingress, 0).bytes,
        },
      },
    });
  }
  return out;
}

async function start(configFile: string, reloadedFile: string): Promise<{ server: grpc.Server; listener: Server; streams: Set<OpenStream> }> {
  // The same buffer pool as the daemon's process: the floor is the same transport, tuned alike.
  useMessageBufferPool();
  const groups = await groupBytes(configFile, reloadedFile);
  const streams = new Set<OpenStream>();
  const server = new grpc.Server(grpcServerOptions(DEFAULT_XDS_LIMITS));
  const method = (name: string): grpc.MethodDefinition<Buffer, Buffer> => ({
    path: `/${ADS}/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  });
  const handler = (delta: boolean) => (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    const stream: OpenStream = { call, delta, group: undefined };
    streams.add(stream);
    const done = (): void => {
      if (streams.delete(stream)) call.end();
    };
    call.on('data', (bytes: Buffer) => {
      const request = readRequest(bytes, delta);
      if (request.cluster !== undefined && !stream.group) stream.group = groups.get(request.cluster);
      if (request.nonce !== '' || !stream.group) return;
      const response = (delta ? stream.group.initial.delta : stream.group.initial.sotw).get(request.typeUrl);
      if (response) call.write(response);
    });
    call.on('end', done);
    call.on('cancelled', done);
    call.on('error', done);
    call.on('close', done);
  };
  server.addService(
    { StreamAggregatedResources: method('StreamAggregatedResources'), DeltaAggregatedResources: method('DeltaAggregatedResources') },
    { StreamAggregatedResources: handler(false), DeltaAggregatedResources: handler(true) },
  );
  // The same listening socket as the daemon's: a storm meets the same accept queue.
  const listener = await listenDeep(server, '127.0.0.1', 0, grpc.ServerCredentials.createInsecure());
  const port = (listener.address() as AddressInfo).port;
  const first = groups.values().next().value;
  send({ op: 'listening', port, responseBytes: first ? sizes(first) : {} });
  return { server, listener, streams };
}

let running: { server: grpc.Server; listener: Server; streams: Set<OpenStream> } | undefined;

process.on('message', (message: ToFloor) => {
  void (async () => {
    switch (message.op) {
      case 'start':
        running = await start(message.configFile, message.reloadedFile);
        break;
      case 'trigger': {
        const t0 = performance.now();
        let n = 0;
        for (const s of running?.streams ?? []) {
          if (!s.group) continue;
          const bytes = s.group.pushes[message.push];
          s.call.write(s.delta ? bytes.delta : bytes.sotw);
          n++;
        }
        send({ op: 'triggered', streams: n, writeMs: performance.now() - t0 });
        break;
      }
      case 'stats': {
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        send({
          op: 'stats',
          stats: { cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, streams: running?.streams.size ?? 0 },
        });
        break;
      }
      case 'stop':
        if (running) {
          for (const s of running.streams) s.call.end();
          running.listener.close();
          running.server.forceShutdown();
        }
        process.disconnect?.();
        setTimeout(() => process.exit(0), 100).unref();
        break;
    }
  })().catch((err: unknown) => {
    send({ op: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  });
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
