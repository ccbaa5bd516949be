/**
 * Both ends of the TCP connections the TCP drain suite runs through Envoy's tcp_proxy listeners:
 * - an upstream that echoes what it reads and knows each connection by the first line the client
 *   sends (`hello <name>`), so a test can make it write to one connection on its own (`push`):
 *   PUSH_BYTES at once, more than Envoy reads in one go (its per-connection buffer limit, 1 MiB by
 *   default), so Envoy still holds data for the client when it decides to close;
 * - a client (node:net) that records every byte it gets and how and when its connection ended:
 *   `end` (the peer closed it: a FIN) or an error such as ECONNRESET.
 */
import net, { type AddressInfo } from 'node:net';

export const PUSH_BYTES = 4 * 1024 * 1024;

export class EchoUpstream {
  readonly #sockets = new Set<net.Socket>();
  readonly #named = new Map<string, net.Socket>();
  /** Bytes read per connection name after its hello line. */
  readonly #read = new Map<string, number>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<EchoUpstream> {
    let upstream: EchoUpstream | undefined;
    const server = net.createServer((socket) => upstream!.#accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream = new EchoUpstream(server, (server.address() as AddressInfo).port);
    return upstream;
  }

  /** Bytes the connection called `name` sent after its hello line. */
  readFrom(name: string): number {
    return this.#read.get(name) ?? 0;
  }

  /** Writes PUSH_BYTES to the connection called `name`. */
  push(name: string): void {
    const socket = this.#named.get(name);
    if (!socket) throw new Error(`no upstream connection called ${name}`);
    socket.write(Buffer.alloc(PUSH_BYTES, 0x61));
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {}); // Envoy cutting its side is what the suite looks at, from the client
    let name: string | undefined;
    socket.on('data', (chunk) => {
      const hello = name === undefined && /^hello (\S+)\n$/.exec(chunk.toString('utf8'));
      if (hello) {
        name = hello[1]!;
        this.#named.set(name, socket);
      } else if (name !== undefined) {
        this.#read.set(name, this.readFrom(name) + chunk.length);
      }
      socket.write(chunk);
    });
  }
}

export interface TcpEnding {
  /** `end`: the peer closed the connection (FIN); otherwise the socket error's code. */
  readonly how: string;
  readonly at: number;
  /** Bytes received over the connection's life. */
  readonly received: number;
}

export class TcpClient {
  #received = 0;
  #ending: TcpEnding | undefined;
  readonly ended: Promise<TcpEnding>;
  readonly #waiters: { bytes: number; resolve: () => void }[] = [];

  private constructor(private readonly socket: net.Socket) {
    let resolveEnded: (e: TcpEnding) => void = () => {};
    this.ended = new Promise((resolve) => (resolveEnded = resolve));
    const finish = (how: string) => {
      if (this.#ending) return;
      this.#ending = { how, at: Date.now(), received: this.#received };
      resolveEnded(this.#ending);
    };
    socket.on('data', (chunk) => {
      this.#received += chunk.length;
      for (const w of this.#waiters.filter((x) => this.#received >= x.bytes)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    socket.on('end', () => {
      finish('end');
      socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.on('close', () => finish('close'));
  }

  static connect(port: number): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new TcpClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get received(): number {
    return this.#received;
  }

  /** Undefined while the connection is open. */
  get ending(): TcpEnding | undefined {
    return this.#ending;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Resolves once `bytes` bytes in all were received; rejects after `timeoutMs`. */
  receivedAtLeast(bytes: number, timeoutMs: number): Promise<void> {
    if (this.#received >= bytes) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${this.#received} of ${bytes} bytes within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        bytes,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
