import { access, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { formatIssue, type ConfigIssue } from '../fleet/config.js';
import { normalAddress } from '../fleet/endpoints/target.js';
import { importBootstrap, type ImportedFiles } from '../fleet/import/import-bootstrap.js';
import { resolveRoles, ROLES, type Role } from '../fleet/import/listener-roles.js';
import { readStaticBootstrap, type StaticListener } from '../fleet/import/static-bootstrap.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';

const CONFIG_FILE = 'drainplane.yaml';
const BOOTSTRAP_FILE = 'envoy-bootstrap.yaml';
const DEFAULT_XDS_ADDRESS = '127.0.0.1:18000';
const DEFAULT_XDS_PORT = 18000;

const HELP = `usage: drainplane import --bootstrap FILE [--group NAME] [--role LISTENER=ingress|egress ...]
                        [--node-cluster NAME] [--xds-address ${DEFAULT_XDS_ADDRESS}] [--xds-cluster drainplane]
                        [--out DIR [--force]]

Turns the static listeners, clusters and secrets of an Envoy bootstrap (YAML or JSON) into a
drainplane config, and the bootstrap into one that points the same Envoy at drainplane over ADS:
node, admin, stats and every other setting kept as written. Clusters the rest of the bootstrap
names (stats sinks, tracing, access log services) stay static, and so do secrets only they use.
Secrets are served over SDS, so a certificate rotation no longer drains; the files they name are
read by drainplane (relative paths from the config file's folder) and must be there.

A listener's role is its traffic_direction (INBOUND = ingress, OUTBOUND = egress). For a
listener without one, give --role NAME=ingress or --role NAME=egress (repeatable); in a terminal,
import asks. The role is written into the listener as its traffic_direction.

The group (--group, else the node's cluster, else "imported") matches the Envoy's node.cluster,
or its node.id when the bootstrap names no cluster; a bootstrap with neither needs --node-cluster,
which the new bootstrap then sets. Envoy reaches drainplane at --xds-address through a static
cluster named --xds-cluster.

With --out DIR, writes DIR/${CONFIG_FILE} and DIR/${BOOTSTRAP_FILE} (replacing files only with
--force); otherwise prints both to stdout as two YAML documents.

Exit codes: 0 imported; 1 the bootstrap cannot be imported (every problem is listed with its line
and column; nothing is written) or an output file exists; 2 usage error.`;

export async function importCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    'import',
    args,
    {
      bootstrap: { type: 'string' },
      group: { type: 'string' },
      role: { type: 'string', multiple: true },
      'node-cluster': { type: 'string' },
      'xds-address': { type: 'string' },
      'xds-cluster': { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
    },
    HELP,
    ['bootstrap'],
  );
  if (!flags) return 0;
  const file = flags.values['bootstrap'] as string;
  const given = roleFlags(flags.lists['role'] ?? []);
  const xds = { cluster: nameFlag('xds-cluster', flags.values['xds-cluster']) ?? 'drainplane', ...xdsAddress(flags.values['xds-address']) };
  const group = nameFlag('group', flags.values['group']);
  const nodeCluster = nameFlag('node-cluster', flags.values['node-cluster']);
  const out = flags.values['out'] as string | undefined;

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`import: cannot read ${file}: ${(err as Error).message}`, 1);
  }
  const read = readStaticBootstrap(text, file);
  if (!read.ok) return refuse(file, read.errors);
  const { missing } = resolveRoles(read.bootstrap.listeners, given);
  const asked = missing.length > 0 && process.stdin.isTTY && process.stdout.isTTY ? await askRoles(missing, process.stdin, process.stdout) : [];
  const result = importBootstrap(read.bootstrap, {
    roles: new Map([...given, ...asked]),
    xds,
    ...(group !== undefined && { group }),
    ...(nodeCluster !== undefined && { nodeCluster }),
  });
  for (const w of result.ok ? result.files.warnings : result.warnings) process.stderr.write(`warning: ${formatIssue(file, w)}\n`);
  if (!result.ok) {
    const code = refuse(file, result.errors);
    const unnamed = missing.filter((l) => !asked.some(([name]) => name === l.name));
    if (unnamed.length > 0) {
      const flagsToGive = unnamed.map((l) => `--role ${l.name}=ingress|egress`).join(' ');
      process.stderr.write(`give each listener without traffic_direction its role: ${flagsToGive} (in a terminal, import asks)\n`);
    }
    return code;
  }
  const files = result.files;
  const xdsPortFlag = xds.port === DEFAULT_XDS_PORT ? '' : ` --xds-port ${xds.port}`;
  if (out === undefined) {
    process.stdout.write(`# ${CONFIG_FILE}\n${files.config}---\n# ${BOOTSTRAP_FILE}\n${files.bootstrap}`);
    process.stderr.write(`${summary(file, files)}\nnext: save the documents as ${CONFIG_FILE} and ${BOOTSTRAP_FILE}, then run\n`);
    process.stderr.write(`  drainplane serve --config ${CONFIG_FILE}${xdsPortFlag}\n  envoy -c ${BOOTSTRAP_FILE}\n`);
    return 0;
  }
  const configFile = path.join(out, CONFIG_FILE);
  const bootstrapFile = path.join(out, BOOTSTRAP_FILE);
  if (flags.values['force'] !== true) {
    const existing = (await Promise.all([configFile, bootstrapFile].map(async (f) => ((await exists(f)) ? [f] : [])))).flat();
    if (existing.length > 0) throw new CliError(`import: ${existing.join(' and ')} already exist(s); give --force to replace`, 1);
  }
  await mkdir(out, { recursive: true });
  await writeFileAtomic(configFile, files.config);
  await writeFileAtomic(bootstrapFile, files.bootstrap);
  process.stdout.write(`${summary(file, files)}\nwrote ${configFile}\nwrote ${bootstrapFile}\nnext:\n`);
  process.stdout.write(`  drainplane serve --config ${configFile}${xdsPortFlag}\n  envoy -c ${bootstrapFile}\n`);
  return 0;
}

function refuse(file: string, errors: readonly ConfigIssue[]): number {
  for (const e of errors) process.stderr.write(`error: ${formatIssue(file, e)}\n`);
  process.stderr.write(`${file}: ${errors.length} error(s); nothing was written\n`);
  return 1;
}

function summary(file: string, files: ImportedFiles): string {
  const kept = [...files.kept].map(([name, at]) => `${name} (named by ${at})`);
  return (
    `imported ${file} into group "${files.group}": listeners ${files.listeners.join(', ')}; clusters ${files.clusters.join(', ') || 'none'}` +
    (files.secrets.length > 0 ? `; secrets ${files.secrets.join(', ')} (over SDS)` : '') +
    (kept.length > 0 ? `\nkept static in the bootstrap: ${kept.join(', ')}` : '')
  );
}

/** `--role NAME=ingress|egress`, repeatable; a listener named twice is an error. */
function roleFlags(values: readonly string[]): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const value of values) {
    const at = value.lastIndexOf('=');
    const name = value.slice(0, at);
    const role = value.slice(at + 1);
    if (at <= 0 || !isRole(role)) throw new CliError(`import: --role takes LISTENER=ingress or LISTENER=egress, got "${value}"`);
    if (roles.has(name)) throw new CliError(`import: --role gives listener "${name}" a role twice`);
    roles.set(name, role);
  }
  return roles;
}

function xdsAddress(value: string | boolean | undefined): { host: string; port: number } {
  const given = typeof value === 'string' ? value : DEFAULT_XDS_ADDRESS;
  const normal = normalAddress(given);
  if (normal === undefined) throw new CliError(`import: --xds-address takes HOST:PORT (IPv6 as [::1]:18000), got "${given}"`);
  const colon = normal.lastIndexOf(':');
  return { host: normal.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(normal.slice(colon + 1)) };
}

function nameFlag(name: string, value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new CliError(`import: --${name} must not be empty`);
  return value;
}

/**
 * Asks for the role of each listener, until each answer is one; ends with an error when the
 * input ends first. Lines are read through the interface's iterator, which keeps lines typed
 * ahead of their question.
 */
export async function askRoles(
  listeners: readonly StaticListener[],
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<[string, Role][]> {
  const rl = createInterface({ input, output });
  const lines = rl[Symbol.asyncIterator]();
  const answers: [string, Role][] = [];
  try {
    for (const listener of listeners) {
      for (;;) {
        output.write(`listener "${listener.name}" has no traffic_direction: ingress or egress? `);
        const line = await lines.next();
        if (line.done === true) throw new CliError(`import: no role for listener "${listener.name}": the input ended`, 1);
        const answer = line.value.trim().toLowerCase();
        if (isRole(answer)) {
          answers.push([listener.name, answer]);
          break;
        }
        output.write('  ingress: traffic into this host (INBOUND); egress: calls it makes out (OUTBOUND)\n');
      }
    }
  } finally {
    rl.close();
  }
  return answers;
}

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
