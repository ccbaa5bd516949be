/**
 * `envoy --mode validate` on a bootstrap: Envoy builds every static listener and cluster as it
 * would to serve them (extensions included) without binding a socket or connecting anywhere, and
 * exits 0, or 1 with the first error it met. About 50 ms a run on this machine kind.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface EnvoyVerdict {
  readonly ok: boolean;
  /** Envoy's error (its first), or '' when it accepted the bootstrap. */
  readonly error: string;
  readonly ms: number;
}

const TIMEOUT_MS = 30_000;

/** Writes the bootstrap as `DIR/NAME.json` (JSON: no YAML reading of Envoy's own in between) and validates it. */
export async function envoyValidate(bin: string, bootstrap: unknown, dir: string, name: string): Promise<EnvoyVerdict> {
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(bootstrap));
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(bin, ['--mode', 'validate', '-c', file, '-l', 'critical', '--log-format', '%v'], { timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
      const ms = performance.now() - started;
      if (!err) return resolve({ ok: true, error: '', ms });
      if (typeof err.code !== 'number') return reject(new Error(`${bin} --mode validate ${file}: ${err.message}`));
      const output = `${stderr}${stdout}`.trim();
      // "error initializing configuration 'FILE': <what Envoy found>"
      const error = /error initializing configuration '[^']*': ([\s\S]*)/.exec(output)?.[1] ?? output;
      resolve({ ok: false, error: error.trim(), ms });
    });
  });
}
