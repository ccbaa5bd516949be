import type * as grpc from '@grpc/grpc-js';
import net from 'node:net';

/**
 * The accept queue asked for: the kernel caps it at net.core.somaxconn (4096 on current Linux),
 * enough for thousands of nodes connecting in the same instant.
 */
const LISTEN_BACKLOG = 65_535;

/**
 * Binds host:port (port 0 picks a free one) on a socket of its own and hands every connection
 * to `server`. grpc-js binds with Node's default accept queue of 511, and a fleet that connects
 * at once (after a restart, a failover, a network blip) overflows it; the kernel then drops the
 * SYNs, and each client waits out its SYN retransmit timer (1, 3, 7 s ...) before it is even seen.
 */
export async function listenDeep(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<net.Server> {
  const injector = server.createConnectionInjector(credentials);
  const listener = net.createServer((socket) => injector.injectConnection(socket));
  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        listener.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    injector.destroy();
    throw err;
  }
  return listener;
}
