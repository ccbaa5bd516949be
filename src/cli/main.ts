/**
 * The `drainplane` command line: one sub-command per file, dispatched here.
 */
import { CliError } from './errors.js';
import { versionText } from './version.js';

type Run = (args: string[]) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: the client commands then start without
 * loading the daemon's gRPC server and Envoy's protos, which take most of a second.
 */
const COMMANDS: Readonly<Record<string, { load: () => Promise<Run>; summary: string }>> = {
  serve: {
    load: async () => (await import('./serve.js')).serveCommand,
    summary: 'run the control plane: xDS gRPC server and HTTP API',
  },
  validate: {
    load: async () => (await import('./validate.js')).validateCommand,
    summary: 'check a config file; list every error with its path',
  },
  render: {
    load: async () => (await import('./render.js')).renderCommand,
    summary: 'print the resources a node would be sent, as Envoy proto3 JSON',
  },
  import: {
    load: async () => (await import('./import.js')).importCommand,
    summary: 'turn a static Envoy bootstrap into a drainplane config and a bootstrap that uses it',
  },
  drain: {
    load: async () => (await import('./drain.js')).drainCommand,
    summary: 'start a drain through the API; with --wait, follow it to the end',
  },
  drains: {
    load: async () => (await import('./drains.js')).drainsCommand,
    summary: 'list drains; cancel or advance one',
  },
  nodes: {
    load: async () => (await import('./nodes.js')).nodesCommand,
    summary: 'list the nodes that are or were connected, with their LDS state',
  },
  run: {
    load: async () => (await import('./run.js')).runCommand,
    summary: 'supervise Envoy in a pod: serve its config, drain it on SIGTERM, then stop it',
  },
  prestop: {
    load: async () => (await import('./prestop.js')).prestopCommand,
    summary: 'for a preStop hook: block until the local drain is complete',
  },
  'prestop-hook': {
    load: async () => (await import('./prestop-hook.js')).prestopHookCommand,
    summary: "a backend's preStop as an httpGet hook (a sidecar): drain its endpoint in every Envoy",
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: drainplane <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'drainplane <command> --help' for a command's options; 'drainplane --version' for the version and the Envoy API it is built on.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(versionText());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`drainplane: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  return (await command.load())(rest);
}

// `drainplane render ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`drainplane: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`drainplane: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
