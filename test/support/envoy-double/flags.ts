/**
 * The Envoy command-line flags the test double understands, parsed the way Envoy's TCLAP parser
 * takes them (docs: operations/cli, source/server/options_impl.cc): `--flag value` only, since
 * `--flag=value` is "Couldn't find match for argument" and a flag given twice "Argument already
 * set!" (seen on Envoy 1.36.2, 1.37.0 and 1.40.0: test/e2e-envoy/drain-flags.test.ts).
 * Every other Envoy flag is accepted and ignored, and reported back so a test can see it.
 */
import type { DrainStrategy } from './events.js';

export interface DoubleFlags {
  /** -c / --config-path: the bootstrap file (YAML or JSON). */
  configPath: string;
  /** --drain-time-s, default 600 (ENVOY-FACTS "LDS removal of a listener"). */
  drainTimeS: number;
  /** --drain-strategy, default gradual (ENVOY-FACTS "What clients see while a listener drains"). */
  drainStrategy: DrainStrategy;
  /** --parent-shutdown-time-s, default 900; only reported by /server_info. */
  parentShutdownTimeS: number;
  /** --service-node / --service-cluster / --service-zone override the bootstrap's node. */
  serviceNode?: string;
  serviceCluster?: string;
  serviceZone?: string;
  /** --admin-address-path: a file Envoy writes its admin `host:port` to once listening. */
  adminAddressPath?: string;
  /** Arguments of flags the double does not model, in the order given. */
  ignored: string[];
}

export class FlagError extends Error {}

type Setter = (flags: DoubleFlags, value: string) => void;

const WITH_VALUE: Record<string, Setter> = {
  '-c': (f, v) => (f.configPath = v),
  '--config-path': (f, v) => (f.configPath = v),
  '--drain-time-s': (f, v) => (f.drainTimeS = seconds('--drain-time-s', v)),
  '--drain-strategy': (f, v) => (f.drainStrategy = drainStrategy(v)),
  '--parent-shutdown-time-s': (f, v) => (f.parentShutdownTimeS = seconds('--parent-shutdown-time-s', v)),
  '--service-node': (f, v) => (f.serviceNode = v),
  '--service-cluster': (f, v) => (f.serviceCluster = v),
  '--service-zone': (f, v) => (f.serviceZone = v),
  '--admin-address-path': (f, v) => (f.adminAddressPath = v),
};

/**
 * Envoy's switches (flags without a value). Any other unknown flag followed by an argument that
 * does not start with "-" is taken to carry that argument as its value (`--concurrency 2`).
 */
const SWITCHES = new Set([
  '--allow-unknown-static-fields',
  '--reject-unknown-dynamic-fields',
  '--ignore-unknown-dynamic-fields',
  '--disable-hot-restart',
  '--enable-mutex-tracing',
  '--enable-fine-grain-logging',
  '--enable-core-dump',
  '--cpuset-threads',
  '--use-dynamic-base-id',
  '--skip-hot-restart-on-no-parent',
  '--skip-hot-restart-parent-stats',
  '--skip-deprecated-logs',
  '--log-format-escaped',
]);

export function parseFlags(argv: readonly string[]): DoubleFlags {
  const flags: DoubleFlags = {
    configPath: '',
    drainTimeS: 600,
    drainStrategy: 'gradual',
    parentShutdownTimeS: 900,
    ignored: [],
  };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--') && arg.includes('=')) {
      throw new FlagError(`PARSE ERROR: Argument: ${arg}\n             Couldn't find match for argument`);
    }
    const set = WITH_VALUE[arg];
    if (set) {
      if (seen.has(arg)) throw new FlagError(`PARSE ERROR: Argument: (${arg})\n             Argument already set!`);
      seen.add(arg);
      const value = argv[++i];
      if (value === undefined) throw new FlagError(`error: missing value for ${arg}`);
      set(flags, value);
    } else if (!SWITCHES.has(arg) && arg.startsWith('-') && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) {
      flags.ignored.push(arg, argv[++i]!);
    } else {
      flags.ignored.push(arg);
    }
  }
  if (!flags.configPath) throw new FlagError('error: a bootstrap is required: -c BOOTSTRAP.yaml');
  return flags;
}

/** Envoy takes these as uint32 (options_impl.cc). */
function seconds(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) {
    throw new FlagError(`error: ${flag} needs a whole number of seconds, got "${value}"`);
  }
  return Number(value);
}

/** options_impl.cc: "gradual" or "immediate", anything else is "unknown drain strategy". */
function drainStrategy(value: string): DrainStrategy {
  if (value === 'gradual' || value === 'immediate') return value;
  throw new FlagError(`error: unknown drain strategy ${value}`);
}
