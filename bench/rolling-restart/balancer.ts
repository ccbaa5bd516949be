/**
 * The Kubernetes Service in front of the replicas: haproxy in `mode tcp`, so it balances TCP
 * connections and never sees a request, as kube-proxy does. `retries 0` and no health checks:
 * a connection sent to a replica that refuses it fails, as it would through kube-proxy, and
 * only the endpoint list (changed through haproxy's runtime API) decides where new connections
 * go. Taking a server to `maint` leaves its established connections alone, as removing an
 * endpoint leaves conntrack entries alone.
 */
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { BenchProcess } from './processes.js';

export interface BalancerOptions {
  readonly bin: string;
  readonly dir: string;
  readonly port: number;
  readonly servers: readonly { readonly name: string; readonly port: number }[];
}

const BACKEND = 'replicas';
const COMMAND_TIMEOUT_MS = 2_000;

export type EndpointState = 'ready' | 'maint';

export class Balancer {
  private constructor(
    private readonly process: BenchProcess,
    private readonly socket: string,
  ) {}

  static async start(o: BalancerOptions): Promise<Balancer> {
    const socket = path.join(o.dir, 'haproxy.sock');
    const config = [
      'global',
      '  nbthread 1',
      '  maxconn 4096',
      `  stats socket ${socket} mode 600 level admin`,
      'defaults',
      '  mode tcp',
      '  retries 0',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      'frontend service',
      `  bind 127.0.0.1:${o.port}`,
      `  default_backend ${BACKEND}`,
      `backend ${BACKEND}`,
      // kube-proxy (iptables) picks an endpoint at random for each new connection.
      '  balance random',
      ...o.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`),
      '',
    ].join('\n');
    const file = path.join(o.dir, 'haproxy.cfg');
    await writeFile(file, config);
    const process = BenchProcess.start({ name: 'haproxy', command: o.bin, args: ['-f', file, '-db'] });
    const balancer = new Balancer(process, socket);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (process.exit) throw new Error(`haproxy exited at start (${process.exit.code}):\n${process.outputTail()}`);
      if (
        await balancer.command('show info').then(
          () => true,
          () => false,
        )
      )
        return balancer;
      if (Date.now() > deadline) throw new Error(`haproxy's stats socket did not answer within 10 s:\n${process.outputTail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Puts an endpoint in or out of the Service (new connections only). */
  async setState(server: string, state: EndpointState): Promise<void> {
    const answer = (await this.command(`set server ${BACKEND}/${server} state ${state}`)).trim();
    // haproxy answers an accepted `set server` with an empty line.
    if (answer !== '') throw new Error(`haproxy: set server ${server} state ${state}: ${answer}`);
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }

  /** One command over the stats socket; the answer is whatever haproxy writes before closing. */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const conn = net.connect(this.socket);
      let answer = '';
      const timer = setTimeout(() => conn.destroy(new Error(`haproxy: no answer to "${line}"`)), COMMAND_TIMEOUT_MS);
      conn.on('connect', () => conn.end(`${line}\n`));
      conn.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      conn.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      conn.on('close', (hadError) => {
        clearTimeout(timer);
        if (!hadError) resolve(answer);
      });
    });
  }
}
