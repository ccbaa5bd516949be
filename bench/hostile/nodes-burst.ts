/**
 * What concurrent reads of the full node list cost once hostile xDS clients filled it:
 *
 *   NODES=1200 BURSTS=32 node dist/bench/hostile/nodes-burst.js
 *
 * Starts `drainplane serve` (bench/hostile/daemon.ts), has the metadata attack (attacker.ts)
 * invent NODES node ids with 3.9 MB of metadata each (kept as 64 KiB: 1,000 of them fill the
 * 64 MiB kept of nodes that left), then sends each burst of GET /v1/nodes at once, one burst
 * after the other, and prints per burst the answers' sizes and times, the daemon's RSS before and
 * after and its VmHWM, and whether it is still up (if not, how it ended). Exits 1 if it is not.
 *
 * On 2 CPUs, 2026-12-05, before pages were bounded in bytes: one answer was 64 MiB and took 0.9 s
 * of the daemon's thread, and 32 at once ran it out of heap (V8's 4 GiB here) in each of four
 * tries. With pages of at most 4 MiB of node status: one answer 4.1 MiB in 0.1 s, 32 at once in
 * 0.1 to 1.4 s, RSS 454 -> 472 MiB, VmHWM 862 MiB (BURSTS=1,32).
 */
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BULK_CLUSTER, honestPlans, hostileConfigYaml } from './config.js';
import { ServeProcess } from './daemon.js';
import type { AttackPlan, FromAttacker, ToAttacker } from './protocol.js';

const ATTACKER_SCRIPT = fileURLToPath(new URL('./attacker.js', import.meta.url));
const nodes = Number(process.env['NODES'] ?? 1200);
const bursts = (process.env['BURSTS'] ?? '32').split(',').map(Number);

async function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const kib = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kib ?? 0) / 1024);
}

/** One GET /v1/nodes: the bytes of its answer and how long it took, or why it failed. */
async function get(apiUrl: string): Promise<{ bytes: number; ms: number } | { error: string; ms: number }> {
  const t0 = Date.now();
  try {
    const res = await fetch(`${apiUrl}/v1/nodes`, { signal: AbortSignal.timeout(300_000) });
    const bytes = (await res.arrayBuffer()).byteLength;
    return { bytes, ms: Date.now() - t0 };
  } catch (err) {
    return { error: String((err as Error & { cause?: { code?: string } }).cause?.code ?? err), ms: Date.now() - t0 };
  }
}

async function main(): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-hostile-'));
  const configFile = path.join(dir, 'drainplane.yaml');
  await writeFile(configFile, hostileConfigYaml(0, 1024));
  const serve = await ServeProcess.start({ configFile, stateDir: path.join(dir, 'state') });
  const stop = (): void => {
    serve.killNow();
    void rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    const attacker = fork(ATTACKER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const plan: AttackPlan = {
      attacker: 0,
      kinds: ['metadata'],
      xdsPort: serve.xdsPort,
      apiUrl: serve.apiUrl,
      durationMs: nodes * 60,
      targets: { metadata: nodes },
      clusters: honestPlans().map((p) => p.nodeCluster),
      bulkCluster: BULK_CLUSTER,
      blobBytes: 3_900_000,
      namesPerRequest: 2000,
      nodesApiClients: 0,
    };
    await new Promise<void>((resolve) => {
      attacker.on('message', (m: FromAttacker) => m.op === 'done' && resolve());
      attacker.once('exit', () => resolve());
      attacker.send({ op: 'start', plan } satisfies ToAttacker);
    });
    await new Promise((r) => setTimeout(r, 2000));
    console.log(`${nodes} invented nodes with 3.9 MB of metadata each: RSS ${await statusMiB(serve.pid, 'VmRSS')} MiB`);
    for (const n of bursts) {
      const before = await statusMiB(serve.pid, 'VmRSS');
      const answers = await Promise.all(Array.from({ length: n }, () => get(serve.apiUrl)));
      await new Promise((r) => setTimeout(r, 1000));
      const ok = answers.flatMap((a) => ('bytes' in a ? [a] : []));
      const failed = answers.length - ok.length;
      const times = answers.map((a) => a.ms);
      const sizes = ok.length > 0 ? `${(Math.max(...ok.map((a) => a.bytes)) / 2 ** 20).toFixed(1)} MiB each` : 'no answer';
      const took = `${(Math.min(...times) / 1000).toFixed(1)} to ${(Math.max(...times) / 1000).toFixed(1)} s`;
      if (!serve.running) {
        const { code, signal } = await serve.exited;
        const why = serve.stderrHead.split('\n').find((l) => /FATAL|Error/.test(l)) ?? '';
        console.log(`${n} at once: ${sizes}, ${failed} failed, in ${took}; drainplane DOWN (${signal ?? `code ${code}`}): ${why}`);
        return 1;
      }
      console.log(
        `${n} at once: ${sizes}, ${failed} failed, in ${took}; ` +
          `RSS ${before} -> ${await statusMiB(serve.pid, 'VmRSS')} MiB, VmHWM ${await statusMiB(serve.pid, 'VmHWM')} MiB; drainplane up`,
      );
    }
    return 0;
  } finally {
    await serve.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`nodes-burst: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
