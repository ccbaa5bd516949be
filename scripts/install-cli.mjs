// What the install scripts (envoy.mjs, kube.mjs) share as commands: the outcome of an install
// as an exit status (a missing prerequisite is one `skipped:` line with --optional, except
// under CI=true, where it is an error), and running a script's main when it is the program.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `found`: { skipped: reason } or what was installed; `print`: the line `path` prints. */
export function installOutcome(found, { optional, print }) {
  if ('skipped' in found) {
    if (optional && process.env.CI !== 'true') {
      console.log(`skipped: ${found.skipped}`);
      return 0;
    }
    console.error(`error: ${found.skipped}`);
    return 1;
  }
  if (print !== undefined) console.log(print(found));
  return 0;
}

/** Runs `main(argv)` as the process's exit status when the module at `url` is the program. */
export function runAsProgram(url, main) {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(url)) return;
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  }
}
