/**
 * The long forms of the crash and reconnect-storm tests (`npm run soak`):
 *
 *   KILLS=500 STORM_NODES=10000 SEED=N node dist/bench/soak.js
 *
 * 1. drainplane SIGKILLed at KILLS random points under a random stream of drain and config
 *    operations, restarted on the same state folder each time (test/support/crash-scenario.ts);
 * 2. STORM_NODES simulated nodes reconnecting at once to a restarted drainplane
 *    (test/support/reconnect-storm.ts).
 *
 * Prints the kill points tested and the violations found, and the storm's numbers; exits 1 if
 * anything was violated. SEED replays the crash run. Takes about 3 s per kill point on two cores.
 */
import { runCrashScenario } from '../test/support/crash-scenario.js';
import { runReconnectStorm } from '../test/support/reconnect-storm.js';

const kills = Number(process.env['KILLS'] ?? 500);
const stormNodes = Number(process.env['STORM_NODES'] ?? 10_000);
const seed = Number(process.env['SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function main(): Promise<number> {
  let failed = false;
  if (kills > 0) {
    log(`crash soak: ${kills} kill points, seed ${seed}`);
    const crash = await runCrashScenario({ kills, seed, log: (l) => l.includes('kill point') && log(l) });
    console.log(
      `crash: ${crash.killPoints} kill points tested (${crash.killsInFlight} cut an operation short, ${crash.killsAtStartup} during start-up), ` +
        `${crash.operations} operations, ${crash.listenerSets} listener sets judged, ${crash.violations.length} violation(s) found, ` +
        `${crash.leftoverTempFiles} temporary file(s) left; seed ${seed}`,
    );
    for (const v of crash.violations) console.log(`  violation: ${v}`);
    failed ||= crash.violations.length > 0;
  }
  if (stormNodes > 0) {
    log(`reconnect storm: ${stormNodes} nodes`);
    const storm = await runReconnectStorm({ nodes: stormNodes, workers: 2, streamsPerConnection: 500, log });
    const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(
      `storm: ${storm.nodes} nodes (${storm.drained} drained) over ${storm.connections} connections reconnected in ${storm.reconnectMs} ms; ` +
        `drainplane ${storm.daemonAlive ? 'up' : 'DOWN'}; ${storm.wrongCount} node(s) with a wrong listener set; drain ${storm.drainState}; ` +
        `RSS ${mib(storm.baselineRssBytes)} before, ${mib(storm.rssBytes)} after (bound ${mib(storm.rssBoundBytes)})`,
    );
    for (const w of storm.wrong) console.log(`  wrong: ${w}`);
    failed ||= !storm.daemonAlive || storm.wrongCount > 0 || storm.drainState !== 'completed' || storm.rssBytes >= storm.rssBoundBytes;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
