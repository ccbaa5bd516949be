import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a sub-command's flags; `--help` prints its usage. Unknown flags are errors that
 * name the flag, and missing required flags are named too. A flag that may be repeated
 * (`multiple: true`) is in `lists`, every other one in `values`.
 */
export function parseFlags<O extends Options>(
  command: string,
  args: string[],
  options: O,
  help: string,
  required: readonly (keyof O & string)[] = [],
): { values: Record<string, string | boolean | undefined>; lists: Record<string, string[]>; positionals: string[] } | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${command}: ${(err as Error).message}\n\n${help}`);
  }
  const values: Record<string, string | boolean | undefined> = {};
  const lists: Record<string, string[]> = {};
  for (const [name, value] of Object.entries<string | boolean | (string | boolean)[] | undefined>(parsed.values)) {
    if (Array.isArray(value)) lists[name] = value.filter((v): v is string => typeof v === 'string');
    else values[name] = value;
  }
  if (values['help']) {
    process.stdout.write(`${help}\n`);
    return undefined;
  }
  for (const name of required) {
    if (values[name] === undefined) throw new CliError(`${command}: --${name} is required\n\n${help}`);
  }
  return { values, lists, positionals: parsed.positionals };
}

/** A TCP port flag: 0 picks a free port. */
export function portFlag(name: string, value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--${name} must be a port number from 0 to 65535, got "${String(value)}"`);
  }
  return port;
}

/** A whole-number flag (a count or a size in bytes) of at least `min`. */
export function integerFlag(name: string, value: string | boolean | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    throw new CliError(`--${name} must be a whole number of at least ${min}, got "${String(value)}"`);
  }
  return n;
}

/** A list of host names separated by commas (`drainplane.internal,10.0.0.5`): no scheme, path or empty entry. */
export function hostListFlag(name: string, value: string | boolean | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const hosts = typeof value === 'string' ? value.split(',').map((h) => h.trim()) : [''];
  if (hosts.some((h) => h === '' || /[\s/@]/.test(h))) {
    throw new CliError(`--${name} takes host names separated by commas, such as drainplane.internal,10.0.0.5; got "${String(value)}"`);
  }
  return hosts;
}
