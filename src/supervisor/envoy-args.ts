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

function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) return argv[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
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
