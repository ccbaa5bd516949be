/**
 * A pod's network for tests that need a backend at an address Kubernetes accepts in an
 * EndpointSlice (not loopback): a network namespace with a veth pair, the pod's address inside
 * it and a gateway address on the host side, in a /24 of its own. Processes started in it are
 * reached from the host (Envoy) through the veth; nothing leaves the machine. Needs root and
 * iproute2 (`ip`); everything made is removed by `destroy`, and on exit if a test fails first.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const made = new Set<string>();
process.once('exit', () => {
  // Removing the namespace removes its veth end, and with it the host end.
  for (const ns of made) spawn('ip', ['netns', 'del', ns], { stdio: 'ignore' });
});

let counter = 0;

export class PodNetwork {
  readonly #children = new Set<ChildProcess>();

  private constructor(
    readonly namespace: string,
    /** The pod's address, e.g. 10.244.1.7. */
    readonly ip: string,
    /** The host end of the veth pair. */
    private readonly hostLink: string,
  ) {}

  /** Why this machine cannot make network namespaces (root and iproute2 are needed), or undefined. */
  static unavailable(): string | undefined {
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    return ip.status === 0 ? undefined : `no usable ip command (iproute2): ${ip.error?.message ?? ip.stderr}`;
  }

  /** A suite's `skip`: one `skipped:` line where namespaces cannot be made, except under CI=true (the suite fails). */
  static skipWithout(): string | false {
    const why = PodNetwork.unavailable();
    return why === undefined || process.env['CI'] === 'true' ? false : `skipped: ${why}`;
  }

  /** A namespace holding `ip`/24, with `.1` of that /24 on the host side of the veth. */
  static async create(ip: string): Promise<PodNetwork> {
    const tag = `${process.pid % 100000}${(counter++).toString(36)}`;
    const ns = `dp-pod-${tag}`;
    const [host, inside] = [`dph${tag}`, `dpn${tag}`];
    const gateway = ip.replace(/\.\d+$/, '.1');
    made.add(ns);
    const steps: string[][] = [
      ['netns', 'add', ns],
      ['link', 'add', host, 'type', 'veth', 'peer', 'name', inside],
      ['link', 'set', inside, 'netns', ns],
      ['addr', 'add', `${gateway}/24`, 'dev', host],
      ['link', 'set', host, 'up'],
      ['netns', 'exec', ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', inside],
      ['netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up'],
      ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'],
    ];
    const network = new PodNetwork(ns, ip, host);
    try {
      for (const args of steps) await run('ip', args);
    } catch (err) {
      await network.destroy();
      throw err;
    }
    return network;
  }

  /** Starts a process inside the namespace (killed by destroy). */
  spawn(command: string, args: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.namespace, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  async destroy(): Promise<void> {
    await Promise.all(
      [...this.#children].map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    // Deleting one end of the pair deletes both; the namespace goes once nothing runs in it.
    await run('ip', ['link', 'del', this.hostLink]).catch(() => undefined);
    await run('ip', ['netns', 'del', this.namespace]).catch(() => undefined);
    made.delete(this.namespace);
  }
}
