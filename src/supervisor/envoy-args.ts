/**
 * Envoy's own drain settings, made to agree with the shutdown plan: `--drain-time-s` is how long
 * Envoy keeps a removed listener's connections before closing them (default 600 s), and
 * `--drain-strategy immediate` tells every response from the start of a drain to close its
 * connection (the default, gradual, only tells a growing fraction over the drain time).
 */

export interface EnvoyArgs {
  readonly argv: readonly string[];
  readonly warnings: readonly string[];
}

const DRAIN_FLAGS = ['--drain-time-s', '--drain-strategy'];

/**
 * Throws a RangeError for a drain flag Envoy would refuse to start with, before anything starts.
 * Envoy's parser (TCLAP) takes `--drain-time-s 5` only: `--drain-time-s=5` is "Couldn't find
 * match for argument", and a flag given twice is "Argument already set!" (seen on 1.36.2, 1.37.0
 * and 1.40.0).
 */
export function checkDrainFlags(argv: readonly string[]): void {
  for (const flag of DRAIN_FLAGS) {
    const joined = argv.find((a) => a.startsWith(`${flag}=`));
    if (joined !== undefined) {
      throw new RangeError(`Envoy does not take ${joined}: write it as two arguments, ${flag} ${joined.slice(flag.length + 1)}`);
    }
    if (argv.filter((a) => a === flag).length > 1) throw new RangeError(`Envoy refuses ${flag} given twice`);
  }
}

function flagValue(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at < 0 ? undefined : argv[at + 1];
}

export function withDrainFlags(argv: readonly string[], drainTimeSeconds: number): EnvoyArgs {
  const out = [...argv];
  const warnings: string[] = [];
  const time = flagValue(argv, '--drain-time-s');
  if (time === undefined) {
    out.push('--drain-time-s', String(drainTimeSeconds));
  } else if (Number(time) < drainTimeSeconds) {
    warnings.push(
      `--drain-time-s ${time} is shorter than the shutdown plan's drain phases (${drainTimeSeconds}s): ` +
        'Envoy will close connections of removed listeners before the plan waits for them',
    );
  } else if (Number(time) > drainTimeSeconds * 4) {
    warnings.push(`--drain-time-s ${time} is far longer than the shutdown plan's drain phases (${drainTimeSeconds}s)`);
  }
  const strategy = flagValue(argv, '--drain-strategy');
  if (strategy === undefined) {
    out.push('--drain-strategy', 'immediate');
  } else if (strategy !== 'immediate') {
    warnings.push(
      `--drain-strategy ${strategy}: keep-alive clients are told to reconnect only gradually over the drain time; ` +
        'immediate tells every one of them from the start',
    );
  }
  return { argv: out, warnings };
}
