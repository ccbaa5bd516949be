/**
 * Crash safety: drainplane is SIGKILLed at many points while drains are created, cancelled and
 * advanced and its config replaced, and started again on the same state folder each time
 * (test/support/crash-scenario.ts). The state files always hold the committed operations, no
 * node is ever sent a listener set it was not meant to have, and drains complete after each
 * restart. CRASH_SEED replays a run; `npm run soak` runs hundreds of kill points.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashScenario } from '../support/crash-scenario.js';

const KILLS = Number(process.env['CRASH_KILLS'] ?? 25);
const SEED = Number(process.env['CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

test(
  `SIGKILL at ${KILLS} random points: state files committed, no listener set a node should not have, drains complete (seed ${SEED})`,
  { timeout: 120_000 + KILLS * 20_000 },
  async () => {
    const result = await runCrashScenario({ kills: KILLS, seed: SEED, ...(process.env['CRASH_VERBOSE'] && { log: (l: string) => console.log(l) }) });
    console.log(
      `crash: seed ${SEED}: ${result.killPoints} kill points (${result.killsInFlight} cut an operation short, ${result.killsAtStartup} during start-up), ` +
        `${result.operations} operations, ${result.listenerSets} listener sets received, ${result.leftoverTempFiles} temporary files left`,
    );
    assert.deepEqual(result.violations, [], `seed ${SEED} (replay with CRASH_SEED=${SEED})`);
    assert.equal(result.killPoints, KILLS);
    assert.equal(result.leftoverTempFiles, 0, 'a restarted drainplane removes the temporary files of writes a kill cut short');
  },
);
