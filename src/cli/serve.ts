import { readFile } from 'node:fs/promises';
import { isLoopback } from '../net/loopback.js';
import { parseFlags, portFlag } from './args.js';
import { daemonLogger, startDaemon } from './daemon-start.js';
import { CliError } from './errors.js';
import { TLS_FLAGS, TLS_HELP, tlsOptions } from './tls-flags.js';

const HELP = `usage: drainplane serve --config FILE [--xds-port 18000] [--api-port 9902] [--state-dir DIR]
                       [--xds-host 0.0.0.0] [--api-host 127.0.0.1] [--log-level info]
                       [--api-token-file FILE] [--no-watch] [--insecure-api]
                       [--api-tls-cert FILE --api-tls-key FILE]
                       [--xds-tls-cert FILE --xds-tls-key FILE [--xds-tls-ca FILE [--xds-node-identity T]]]

Runs the control plane: the xDS gRPC server Envoy connects to, and the HTTP API.
Port 0 picks a free port; the bound ports are in the first log lines ("xdsPort", "apiPort").
The config file is reloaded when it changes on disk (unless --no-watch) and on SIGHUP.
SIGTERM or SIGINT stops gracefully.

Mutating API requests need "Authorization: Bearer TOKEN" when a token is set, from
--api-token-file or the DRAINPLANE_API_TOKEN environment variable. drainplane refuses to serve
the API beyond loopback without a token, unless --insecure-api is given (and then says so at
every start).

${TLS_HELP}`;

export async function serveCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    'serve',
    args,
    {
      config: { type: 'string' },
      'xds-port': { type: 'string' },
      'xds-host': { type: 'string' },
      'api-port': { type: 'string' },
      'api-host': { type: 'string' },
      'state-dir': { type: 'string' },
      'log-level': { type: 'string' },
      'api-token-file': { type: 'string' },
      'no-watch': { type: 'boolean' },
      'insecure-api': { type: 'boolean' },
      ...TLS_FLAGS,
    },
    HELP,
    ['config'],
  );
  if (!flags) return 0;
  const v = flags.values;
  const logger = daemonLogger(v['log-level']);
  const apiHost = (v['api-host'] as string | undefined) ?? '127.0.0.1';
  const token = await apiToken(v['api-token-file'] as string | undefined);
  if (!isLoopback(apiHost) && token === undefined) {
    if (v['insecure-api'] !== true) {
      throw new CliError(
        `serve: refusing to serve the API on ${apiHost} without a token: whoever reaches it can drain the fleet. ` +
          'Set --api-token-file or DRAINPLANE_API_TOKEN, bind --api-host 127.0.0.1, or pass --insecure-api',
      );
    }
    logger.warn({ event: 'insecure_api', apiHost }, `the API on ${apiHost} takes mutating requests from anyone who reaches it (--insecure-api)`);
  }
  const daemon = await startDaemon({
    configFile: v['config'] as string,
    xdsHost: (v['xds-host'] as string | undefined) ?? '0.0.0.0',
    xdsPort: portFlag('xds-port', v['xds-port'], 18000),
    apiHost,
    apiPort: portFlag('api-port', v['api-port'], 9902),
    stateDir: (v['state-dir'] as string | undefined) ?? '.drainplane',
    logger,
    watchConfig: v['no-watch'] !== true,
    ...withToken(token),
    ...(await tlsOptions(v, logger)),
  });
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ event: 'signal', signal }, `${signal} received`);
      daemon.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', () => void daemon.reload());
  });
}

/** The admin token, from a file (trailing newline trimmed) or the environment. */
async function apiToken(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    const token = (await readFile(file, 'utf8').catch((err: Error) => {
      throw new CliError(`--api-token-file: cannot read ${file}: ${err.message}`);
    })).trim();
    if (token === '') throw new CliError(`--api-token-file: ${file} is empty`);
    return token;
  }
  const env = process.env['DRAINPLANE_API_TOKEN']?.trim();
  return env === '' ? undefined : env;
}

function withToken(token: string | undefined): { apiToken?: string } {
  return token === undefined ? {} : { apiToken: token };
}
