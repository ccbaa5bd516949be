/**
 * The drain flags `drainplane run` adds to the Envoy command, and the forms it refuses up front
 * (src/supervisor/envoy-args.ts), against what the real Envoy accepts: `envoy --mode validate`
 * parses the whole command line and checks the bootstrap without starting.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { releaseFromVersionString } from '../../src/admin/server-info.js';
import { checkDrainFlags, withDrainFlags } from '../../src/supervisor/envoy-args.js';
import { withRealEnvoy } from './envoy-binary.js';

const BOOTSTRAP = fileURLToPath(new URL('../../../envoy/bootstrap.yaml', import.meta.url));

withRealEnvoy('drain flags', (envoy) => {
  const validate = (argv: readonly string[]): { ok: boolean; output: string } => {
    const run = spawnSync(envoy.bin, ['--mode', 'validate', ...argv], { encoding: 'utf8', timeout: 15_000 });
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
  };
  const refusedUpFront = (argv: readonly string[]): boolean => {
    try {
      checkDrainFlags(argv);
      return false;
    } catch {
      return true;
    }
  };

  test(`Envoy ${releaseFromVersionString(envoy.version) ?? envoy.version} starts with the flags drainplane adds, and refuses exactly the forms drainplane refuses`, () => {
    const added = withDrainFlags(['-c', BOOTSTRAP], 26).argv;
    assert.deepEqual(added.slice(2), ['--drain-time-s', '26', '--drain-strategy', 'immediate']);
    const cases: { argv: string[]; envoySays?: RegExp }[] = [
      { argv: [...added] },
      { argv: ['-c', BOOTSTRAP, '--drain-time-s', '5', '--drain-strategy', 'gradual'] },
      { argv: ['-c', BOOTSTRAP, '--drain-time-s=5'], envoySays: /Couldn't find match for argument/ },
      { argv: ['-c', BOOTSTRAP, '--drain-strategy=immediate'], envoySays: /Couldn't find match for argument/ },
      { argv: ['-c', BOOTSTRAP, '--drain-time-s', '5', '--drain-time-s', '6'], envoySays: /Argument already set!/ },
    ];
    for (const { argv, envoySays } of cases) {
      const envoyVerdict = validate(argv);
      const shown = argv.slice(2).join(' ');
      assert.equal(envoyVerdict.ok, envoySays === undefined, `envoy ${shown}: ${envoyVerdict.output.slice(0, 400)}`);
      if (envoySays) assert.match(envoyVerdict.output, envoySays, shown);
      assert.equal(refusedUpFront(argv), !envoyVerdict.ok, `drainplane run refuses ${shown} up front exactly when Envoy does`);
    }
  });
});
