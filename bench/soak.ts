/**
 * The long forms of the crash and reconnect-storm tests, and the hostile-client soak (`npm run soak`):
 *
 *   KILLS=500 STORM_NODES=10000 SEED=N HOSTILE=1 node dist/bench/soak.js
 *
 * 1. drainplane SIGKILLed at KILLS random points under a random stream of drain and config
 *    operations, restarted on the same state folder each time (test/support/crash-scenario.ts);
 * 2. STORM_NODES simulated nodes reconnecting at once to a restarted drainplane
 *    (test/support/reconnect-storm.ts);
 * 3. unless HOSTILE=0, every hostile-client attack of bench/hostile/ at once against
 *    `drainplane serve` for HOSTILE_SECONDS (90), at HOSTILE_SCALE (10) times the sizes of the
 *    findings the xDS bounds answer, while HOSTILE_HONEST_NODES (200) honest nodes must get a
 *    config change and a drain within HOSTILE_DEADLINE_SECONDS (30) each, and the daemon's peak
 *    RSS must stay under HOSTILE_MAX_RSS_MIB (1280). `KILLS=0 STORM_NODES=0` runs it alone.
 *    More knobs: HOSTILE_ATTACKS (a comma-separated subset of metadata, nack, names, slow, stale,
 *    nodes-api), HOSTILE_API_CLIENTS (GET /v1/nodes pollers, 1), HOSTILE_BULK_MIB (listener bytes
 *    the slow streams ask for, 10), HOSTILE_SETTLE_SECONDS (10), HOSTILE_RESULT (a file for the
 *    numbers and every RSS and heap sample, as JSON).
 *
 * Prints the kill points tested and the violations found, the storm's numbers and the hostile
 * soak's; exits 1 if anything was violated. SEED replays the crash run. The crash run takes about
 * 3 s per kill point on two cores, the hostile soak two minutes. Ctrl-C stops the hostile soak's
 * processes and removes its folder.
 */
import { writeFile } from 'node:fs/promises';
import { ATTACK_KINDS, type AttackKind } from './hostile/protocol.js';
import { cleanUpNow, mib, runHostileSoak, type HostileResult } from './hostile/soak.js';
import { runCrashScenario } from '../test/support/crash-scenario.js';
import { runReconnectStorm } from '../test/support/reconnect-storm.js';

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0, not "${process.env[name]}"`);
  return value;
};
const kills = env('KILLS', 500);
const stormNodes = env('STORM_NODES', 10_000);
const seed = env('SEED', Math.floor(Math.random() * 2 ** 31));
const hostile = env('HOSTILE', 1) > 0;
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function main(): Promise<number> {
  const sections = [kills > 0 && crashSoak, stormNodes > 0 && reconnectStorm, hostile && hostileClients].filter((f) => f !== false);
  let failed = false;
  for (const section of sections) {
    // A section that breaks (a harness timeout, say) fails the run; the others still run.
    const ok = await section().catch((err: unknown) => {
      console.log(`${section.name}: could not finish: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return false;
    });
    failed ||= !ok;
  }
  return failed ? 1 : 0;
}

/** Each section says whether it passed. */
async function crashSoak(): Promise<boolean> {
  log(`crash soak: ${kills} kill points, seed ${seed}`);
  const crash = await runCrashScenario({ kills, seed, log: (l) => l.includes('kill point') && log(l) });
  console.log(
    `crash: ${crash.killPoints} kill points tested (${crash.killsInFlight} cut an operation short, ${crash.killsAtStartup} during start-up), ` +
      `${crash.operations} operations, ${crash.listenerSets} listener sets judged, ${crash.violations.length} violation(s) found, ` +
      `${crash.leftoverTempFiles} temporary file(s) left; seed ${seed}`,
  );
  for (const v of crash.violations) console.log(`  violation: ${v}`);
  return crash.violations.length === 0;
}

async function reconnectStorm(): Promise<boolean> {
  log(`reconnect storm: ${stormNodes} nodes`);
  const storm = await runReconnectStorm({ nodes: stormNodes, workers: 2, streamsPerConnection: 500, log });
  console.log(
    `storm: ${storm.nodes} nodes (${storm.drained} drained) over ${storm.connections} connections reconnected in ${storm.reconnectMs} ms; ` +
      `drainplane ${storm.daemonAlive ? 'up' : 'DOWN'}; ${storm.wrongCount} node(s) with a wrong listener set; drain ${storm.drainState}; ` +
      `RSS ${mib(storm.baselineRssBytes)} before, ${mib(storm.rssBytes)} after (bound ${mib(storm.rssBoundBytes)})`,
  );
  for (const w of storm.wrong) console.log(`  wrong: ${w}`);
  return storm.daemonAlive && storm.wrongCount === 0 && storm.drainState === 'completed' && storm.rssBytes < storm.rssBoundBytes;
}

async function hostileClients(): Promise<boolean> {
  const seconds = env('HOSTILE_SECONDS', 90);
  log(`hostile clients: ${seconds} s`);
  const result = await runHostileSoak({
    seconds,
    scale: env('HOSTILE_SCALE', 10),
    honestNodes: env('HOSTILE_HONEST_NODES', 200),
    deltaPercent: 50,
    bulkBytes: env('HOSTILE_BULK_MIB', 10) * 2 ** 20,
    deadlineSeconds: env('HOSTILE_DEADLINE_SECONDS', 30),
    maxRssBytes: env('HOSTILE_MAX_RSS_MIB', 1280) * 2 ** 20,
    settleSeconds: env('HOSTILE_SETTLE_SECONDS', 10),
    nodesApiClients: env('HOSTILE_API_CLIENTS', 1),
    ...(process.env['HOSTILE_ATTACKS'] && { attacks: attackKinds(process.env['HOSTILE_ATTACKS']) }),
    log,
  });
  const failed = reportHostile(result);
  const file = process.env['HOSTILE_RESULT'];
  if (file) {
    await writeFile(file, `${JSON.stringify(result, null, 1)}\n`);
    log(`hostile: the numbers and every sample written to ${file}`);
  }
  return !failed;
}

/** HOSTILE_ATTACKS: a comma-separated list of attack kinds. */
function attackKinds(list: string): AttackKind[] {
  const kinds = list.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(ATTACK_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`HOSTILE_ATTACKS: unknown attack(s) ${unknown.join(', ')}; known: ${ATTACK_KINDS.join(', ')}`);
  return kinds as AttackKind[];
}

/** Prints the hostile soak's numbers; true if it failed. */
function reportHostile(r: HostileResult): boolean {
  const c = r.counts;
  const n = (key: string): string => (c[key] ?? 0).toLocaleString('en-US');
  const of = (key: string, kind: string): string => `${n(key)} of ${(r.targets[kind] ?? 0).toLocaleString('en-US')}`;
  console.log(
    `hostile: RSS peak ${mib(r.peakRssBytes)}${Number.isNaN(r.peakAtMs) ? ' (VmHWM)' : ` at +${(r.peakAtMs / 1000).toFixed(1)} s`} (bound ${mib(r.maxRssBytes)}), ` +
      `${mib(r.baselineRssBytes)} before the attack, ${mib(r.endRssBytes)} at its end, ${mib(r.settledRssBytes)} ${r.settleSeconds} s later; ` +
      `heap live after full GCs at most ${mib(r.liveHeapMaxBytes)} (${r.fullGcs} full GCs), ${mib(r.liveHeapEndBytes)} after the last; ` +
      `log ${(r.logBytes / 2 ** 20).toFixed(1)} MiB in ${r.logLines.toLocaleString('en-US')} lines; ` +
      `CPU ${(r.attackCpuShare * 100).toFixed(0)}% of one core during the attack; drainplane ${r.daemonAlive ? 'up' : 'DOWN'}`,
  );
  console.log(
    `  attacks: ${of('metadata.connections', 'metadata')} nodes with 3.9 MB of metadata (${n('metadata.served')} served); ` +
      `${of('nack.sent', 'nack')} NACKs of 3.9 MB; ${of('names.requests', 'names')} requests of 2,000 new names (${n('names.responses')} answered); ` +
      `${n('slow.opened')} slow streams opened, ${r.targets['slow']} at a time (${n('slow.reset')} reset by drainplane); ` +
      `${of('stale.requests', 'stale')} stale-nonce requests; ${n('nodes-api.requests')} GET /v1/nodes ` +
      `(largest ${mib(c['nodes-api.bytesMax'] ?? 0)}, slowest ${((c['nodes-api.msMax'] ?? 0) / 1000).toFixed(1)} s, ${n('nodes-api.errors')} failed); ` +
      `attacker RSS at most ${mib(c['attacker.rssBytesMax'] ?? 0)}`,
  );
  const lines = Object.entries(r.bytesByEvent)
    .slice(0, 8)
    .map(([e, bytes]) => `${e} ${(r.linesByEvent[e] ?? 0).toLocaleString('en-US')} (${(bytes / 2 ** 20).toFixed(1)} MiB)`)
    .join(', ');
  console.log(`  log lines by event, most bytes first: ${lines}`);
  console.log(`  honest nodes: config change at +${(r.config.atMs / 1000).toFixed(1)} s: ${r.config.detail}`);
  console.log(`  honest nodes: drain at +${(r.drain.atMs / 1000).toFixed(1)} s: ${r.drain.detail}`);
  console.log(
    `  honest nodes: ${r.honestDrainedAtEnd} of ${r.honestNodes} on their drained listener set at the end; ${r.honestFailures.length} stream failure(s)`,
  );
  for (const f of r.honestFailures) console.log(`  honest failure: ${f}`);
  for (const f of r.failures) console.log(`  soak failure: ${f}`);
  const problems = [
    r.peakRssBytes > r.maxRssBytes && `peak RSS ${mib(r.peakRssBytes)} over the bound of ${mib(r.maxRssBytes)}`,
    r.config.ms === undefined && `the config change did not reach every honest node`,
    (r.drain.state !== 'completed' || r.drain.done < r.honestNodes) && `the drain did not complete on every honest node`,
    r.honestDrainedAtEnd < r.honestNodes && `${r.honestNodes - r.honestDrainedAtEnd} honest node(s) not on their drained set at the end`,
    r.honestFailures.length > 0 && `honest streams failed`,
    !r.daemonAlive && `drainplane is down${r.daemonExit ? `: ${r.daemonExit}` : ''}`,
    r.failures.length > 0 && 'the soak itself failed',
  ].filter((p): p is string => typeof p === 'string');
  for (const p of problems) console.log(`  VIOLATION: ${p}`);
  if (problems.length > 0) for (const w of r.warnings.slice(-5)) console.log(`  drainplane said: ${w}`);
  return problems.length > 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    cleanUpNow();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    cleanUpNow();
    process.exit(1);
  },
);
