/**
 * Child process entry of the grpc-js-xds test node (parent side: grpc-xds-node.ts): one
 * XdsServer, driven only by LDS, serving the echo test service on 127.0.0.1:PORT.
 *
 *   node grpc-xds-node-main.js --xds-server 127.0.0.1:18000 --node-id n1 --cluster c1 --port 9001 \
 *     [--drain-grace-ms 1000] [--metadata key=value ...]
 *
 * Events go to the parent over the IPC channel, or to stdout as JSON lines when started by hand.
 * SIGTERM or a {type:'stop'} message shuts it down gracefully and exits 0.
 *
 * Each node is its own process because grpc-js-xds keeps one bootstrap, and one xDS client,
 * per process. What the harness relies on in @grpc/grpc-js-xds 1.14.1 (build/src/):
 *
 * - xds-bootstrap.js loadBootstrapInfo(): reads GRPC_XDS_BOOTSTRAP (a file) first, then
 *   GRPC_XDS_BOOTSTRAP_CONFIG (inline JSON), on first use and cached for the process. XdsServer's
 *   constructor is that first use, so setting the variable before constructing it is enough;
 *   GRPC_XDS_BOOTSTRAP is removed so an inherited one cannot win. The bootstrap must carry
 *   server_listener_resource_name_template (server.js XdsServer constructor throws without it).
 * - xds-client.js: only StreamAggregatedResources, i.e. SotW over ADS; there is no delta xDS
 *   client, hence no transport option here. Without the "ignore_resource_deletion" server feature
 *   (not set here) a listener missing from an LDS response is treated as deleted.
 * - xds-client.js AdsResponseParser: a resource that deep-equals the cached one is not passed on,
 *   so an identical resend is a no-op for the node.
 * - index.js register(): registers the HTTP filters; listener-resource-type.js validates each
 *   filter against that registry, so without register() the router filter is NACKed.
 * - server.js XdsServer.bindAsync(): the address must be IP:port with a non-zero port (port 0 is
 *   rejected) and names the listener via the template; the listener's socket_address must equal it.
 *   bindAsync's callback fires once, when first serving. The node's TCP server listens on the port
 *   on all interfaces (net.Server.listen(port)) and only starts once a listener is accepted.
 * - server.js BoundPortEntry: addServingStateListener() reports status changes: OK when a listener
 *   is in use and the port listens, UNAVAILABLE for a bad socket_address or an xDS error before any
 *   listener. Removal of the listener reports nothing: the config is dropped and new connections
 *   are accepted and immediately destroyed. So "not serving" is observed by probing the port.
 * - server.js handleListenerResource()/startUsingPendingConfig(): a changed listener replaces the
 *   config and the old one drains. server-listener.js listenersEquivalent() should spare
 *   irrelevant changes, but its transport_socket check is inverted, so with plaintext filter chains
 *   every delivered change (metadata included) counts as a modification and drains.
 * - server.js FilterChainEntry.shutdown() + grpc-js server.js connection injector drain(): HTTP/2
 *   sessions get a graceful close (GOAWAY, in-flight streams finish) and whatever is left is
 *   destroyed after XdsServerOptions.drainGraceTimeMs (default 10 minutes, hence --drain-grace-ms).
 * - Connection counts: grpc-js channelz (GetServerSockets) lists the sessions XdsServer injects,
 *   but drops a draining one at its GOAWAY (see activeSessions); the TCP count comes from
 *   BoundPortEntry's private net.Server (see portSocketServer).
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { register, XdsServer, XdsServerCredentials } from '@grpc/grpc-js-xds';
import { echoService, type EchoReply, type EchoRequest, type StreamRequest } from './echo-service.js';
import type { ChildEvent, ParentMessage } from './grpc-xds-node.js';
import { grpcServerListenerName, SERVER_LISTENER_NAME_TEMPLATE } from './grpc-xds-resources.js';

interface NodeOptions {
  xdsServer: string;
  nodeId: string;
  cluster: string;
  port: number;
  drainGraceMs: number;
  metadata: Record<string, string>;
}

/** How often the open-connection count is sampled; a change is reported as an event. */
const CONNECTION_POLL_MS = 50;
/** Added to the drain grace time before a graceful stop gives up and forces the shutdown. */
const STOP_SLACK_MS = 1000;

/** A ChildEvent before emit() stamps it; distributes over the union so each variant keeps its fields. */
type Unstamped<E> = E extends unknown ? Omit<E, 'at'> : never;

function emit(event: Unstamped<ChildEvent>, sent?: () => void): void {
  const line = { ...event, at: Date.now() };
  if (process.send && process.connected) process.send(line, undefined, {}, () => sent?.());
  else {
    process.stdout.write(`${JSON.stringify(line)}\n`);
    sent?.();
  }
}

function parseOptions(argv: string[]): NodeOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'xds-server': { type: 'string' },
      'node-id': { type: 'string' },
      cluster: { type: 'string' },
      port: { type: 'string' },
      'drain-grace-ms': { type: 'string', default: '1000' },
      metadata: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const required = (name: 'xds-server' | 'node-id' | 'cluster' | 'port'): string => {
    const v = values[name];
    if (!v) throw new Error(`--${name} is required`);
    return v;
  };
  const port = Number(required('port'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be 1..65535, got ${values.port}`);
  const drainGraceMs = Number(values['drain-grace-ms']);
  if (!Number.isInteger(drainGraceMs) || drainGraceMs < 0) throw new Error('--drain-grace-ms must be a non-negative integer');
  const metadata: Record<string, string> = {};
  for (const kv of values.metadata) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--metadata expects key=value, got ${kv}`);
    metadata[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    xdsServer: required('xds-server'),
    nodeId: required('node-id'),
    cluster: required('cluster'),
    port,
    drainGraceMs,
    metadata,
  };
}

function bootstrap(opts: NodeOptions): object {
  return {
    xds_servers: [{ server_uri: opts.xdsServer, channel_creds: [{ type: 'insecure' }] }],
    // xds-bootstrap.js validateNode() requires a locality, even an empty one.
    node: { id: opts.nodeId, cluster: opts.cluster, metadata: opts.metadata, locality: {} },
    server_listener_resource_name_template: SERVER_LISTENER_NAME_TEMPLATE,
  };
}

function echoHandlers(nodeId: string): grpc.UntypedServiceImplementation {
  const Echo: grpc.handleUnaryCall<EchoRequest, EchoReply> = (call, callback) => {
    callback(null, { message: call.request.message, node: nodeId });
  };
  const Stream: grpc.handleServerStreamingCall<StreamRequest, EchoReply> = (call) => {
    const { count, interval_ms: intervalMs } = call.request;
    let seq = 0;
    const timer = setInterval(() => {
      call.write({ message: String(seq), node: nodeId, seq });
      if (++seq >= count) {
        clearInterval(timer);
        call.end();
      }
    }, intervalMs);
    call.on('cancelled', () => clearInterval(timer));
  };
  return { Echo, Stream };
}

/**
 * HTTP/2 sessions that still take new streams, from channelz. A draining session drops out of
 * this count at its GOAWAY: grpc-js closeSession() unregisters an already-closing session at once,
 * and FilterChainEntry.shutdown() closes each session twice (drain, then destroy).
 */
function activeSessions(server: grpc.Server): number {
  const { GetServerSockets } = grpc.getChannelzHandlers();
  const call = { request: { server_id: String(server.getChannelzRef().id), start_socket_id: '0', max_results: '100000' } };
  let count = -1;
  // The handler answers synchronously; it is called directly rather than served over gRPC.
  GetServerSockets(call as Parameters<typeof GetServerSockets>[0], (err, res) => {
    if (!err && res) count = res.socket_ref?.length ?? 0;
  });
  if (count < 0) throw new Error('channelz GetServerSockets gave no answer');
  return count;
}

/**
 * The socket server behind the node's port, whose connection count includes draining ones.
 * XdsServer keeps it private (server.js BoundPortEntry.tcpServer), so this reaches in, and gives
 * undefined rather than a wrong count if that shape ever changes.
 */
function portSocketServer(server: XdsServer, address: string): net.Server | undefined {
  const ports: unknown = Reflect.get(server, 'boundPortMap');
  const entry: unknown = ports instanceof Map ? ports.get(address) : undefined;
  const tcpServer: unknown = typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'tcpServer') : undefined;
  return tcpServer instanceof net.Server ? tcpServer : undefined;
}

function watchConnections(server: XdsServer, address: string): NodeJS.Timeout {
  const tcpServer = portSocketServer(server, address);
  if (!tcpServer) emit({ type: 'error', message: 'XdsServer internals changed: TCP connections cannot be counted' });
  const openSockets = (): Promise<number | undefined> =>
    new Promise((resolve) => {
      if (!tcpServer) resolve(undefined);
      else tcpServer.getConnections((err, n) => resolve(err ? undefined : n));
    });
  let last = '';
  // Settles without rejecting: a failure is reported as an event.
  const poll = async (): Promise<void> => {
    try {
      const open = await openSockets();
      const active = activeSessions(server);
      const key = `${open}/${active}`;
      if (key === last) return;
      last = key;
      emit(open === undefined ? { type: 'connections', active } : { type: 'connections', open, active });
    } catch (err) {
      emit({ type: 'error', message: `connection count: ${(err as Error).message}` });
    }
  };
  const timer = setInterval(() => void poll(), CONNECTION_POLL_MS);
  timer.unref();
  return timer;
}

function main(): void {
  const opts = parseOptions(process.argv.slice(2));
  delete process.env.GRPC_XDS_BOOTSTRAP;
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(bootstrap(opts));
  grpc.setLogger({
    error: (...args: unknown[]) => {
      const message = args.join(' ');
      process.stderr.write(`${message}\n`);
      emit({ type: 'error', message });
    },
    info: (...args: unknown[]) => process.stderr.write(`${args.join(' ')}\n`),
    debug: (...args: unknown[]) => process.stderr.write(`${args.join(' ')}\n`),
  });
  register();

  const address = `127.0.0.1:${opts.port}`;
  const server = new XdsServer({ drainGraceTimeMs: opts.drainGraceMs });
  server.addService(echoService, echoHandlers(opts.nodeId));
  server.bindAsync(address, new XdsServerCredentials(grpc.ServerCredentials.createInsecure()), (err, port) => {
    if (err) emit({ type: 'error', message: `bind ${address}: ${err.message}` });
    else emit({ type: 'bound', port });
  });
  server.addServingStateListener(address, (s) =>
    emit({ type: 'serving-status', serving: s.code === grpc.status.OK, code: s.code, details: s.details }),
  );
  const connectionWatch = watchConnections(server, address);

  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    emit({ type: 'stopping', reason });
    clearInterval(connectionWatch);
    // The xDS client's channel would keep the process alive after shutdown, so exit explicitly,
    // once the parent has the last event.
    let exiting = false;
    const exit = (): void => {
      if (exiting) return;
      exiting = true;
      clearTimeout(force);
      emit({ type: 'stopped' }, () => process.exit(0));
    };
    // Sessions are destroyed after the drain grace time anyway; this is only a backstop.
    const force = setTimeout(() => {
      server.forceShutdown();
      exit();
    }, opts.drainGraceMs + STOP_SLACK_MS);
    server.tryShutdown(exit);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'stop') stop('stop message');
  });
  // An orphaned node must not outlive its test run.
  process.on('disconnect', () => process.exit(1));

  emit({ type: 'started', pid: process.pid, listenerName: grpcServerListenerName(opts.port) });
}

const fail = (err: unknown): void => {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${message}\n`);
  emit({ type: 'error', message }, () => process.exit(1));
};
process.on('uncaughtException', fail);

try {
  main();
} catch (err) {
  fail(err);
}
