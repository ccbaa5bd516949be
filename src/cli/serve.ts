import { DEFAULT_BODY_LIMIT_BYTES } from '../api/app.js';
import { DEFAULT_MUTATIONS_PER_MINUTE } from '../api/rate-limit.js';
import type { TokenSources } from '../api/token-store.js';
import { tokenProblem } from '../api/tokens.js';
import { isLoopback } from '../net/loopback.js';
import { DEFAULT_XDS_LIMITS } from '../xds/server.js';
import { hostListFlag, integerFlag, parseFlags, portFlag } from './args.js';
import { createDaemon, daemonLogger, exitAfterStop, listenDaemon } from './daemon-start.js';
import { CliError } from './errors.js';
import { RETENTION_FLAGS, RETENTION_HELP, retentionOptions } from './retention-flags.js';
import { STORE_FLAGS, STORE_HELP, storeOptions } from './store-flags.js';
import { TLS_FLAGS, TLS_HELP, tlsOptions } from './tls-flags.js';
import { XDS_LIMIT_FLAGS, XDS_LIMITS_HELP, XDS_LIMITS_USAGE, xdsLimitOptions } from './xds-limit-flags.js';

const HELP = `usage: drainplane serve --config FILE [--xds-port 18000] [--api-port 9902] [--state-dir DIR]
                       [--xds-host 0.0.0.0] [--api-host 127.0.0.1] [--log-level info]
                       [--api-tokens-file FILE] [--no-watch] [--insecure-api] [--api-allowed-hosts NAME,...]
                       [--api-rate-limit ${DEFAULT_MUTATIONS_PER_MINUTE}] [--api-body-limit ${DEFAULT_BODY_LIMIT_BYTES}]
                       [--xds-max-message-bytes ${DEFAULT_XDS_LIMITS.maxReceiveMessageBytes}] [--xds-max-queued-bytes ${DEFAULT_XDS_LIMITS.maxQueuedBytes}]
                       [--xds-max-streams-per-connection ${DEFAULT_XDS_LIMITS.maxConcurrentStreams}]
                       ${XDS_LIMITS_USAGE}
                       [--drain-history 100] [--drain-history-days 30]
                       [--api-tls-cert FILE --api-tls-key FILE]
                       [--xds-tls-cert FILE --xds-tls-key FILE [--xds-tls-ca FILE [--xds-node-identity T]]]

Runs the control plane: the xDS gRPC server Envoy connects to, and the HTTP API.
Port 0 picks a free port; the bound ports are in the first log lines ("xdsPort", "apiPort").
The config file is reloaded when it changes on disk (unless --no-watch) and on SIGHUP.
Files its secrets name are always watched: a changed certificate is pushed over SDS alone.
SIGTERM or SIGINT stops gracefully.

API tokens: --api-tokens-file FILE (alias --api-token-file) holds one "SCOPE TOKEN" per line,
scope read or admin (a line with a bare token is admin; # starts a comment line); it is re-read
when it changes and on SIGHUP. DRAINPLANE_API_TOKEN adds an admin token, DRAINPLANE_READ_TOKEN a
read token. With any token set, requests carry "Authorization: Bearer TOKEN": changes need an
admin token, everything else but /healthz and /readyz a read or admin token (GET /v1/prestop:
admin, or no token from loopback). drainplane refuses to serve the API beyond loopback without
a token, unless --insecure-api is given (and then says so at every start).

Host names: without tokens, the API answers only requests whose Host is localhost, 127.0.0.1,
[::1], the --api-host address or a name in --api-allowed-hosts (421 otherwise), so that a web
page cannot reach it through DNS rebinding. With tokens any Host is answered, unless
--api-allowed-hosts is given: then only those names and loopback. /healthz and /readyz are
never checked.

Limits: --api-rate-limit mutating requests per minute per token (or client address; 0 = off);
--api-body-limit bytes per request body; --xds-max-message-bytes per message received on the
xDS port; --xds-max-streams-per-connection concurrent gRPC streams per HTTP/2 connection;
--xds-max-queued-bytes of responses a node has not read before its stream is reset.

${XDS_LIMITS_HELP}

${RETENTION_HELP}

${TLS_HELP}

${STORE_HELP}`;

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
      'api-tokens-file': { type: 'string' },
      'api-token-file': { type: 'string' },
      'api-rate-limit': { type: 'string' },
      'api-body-limit': { type: 'string' },
      'xds-max-message-bytes': { type: 'string' },
      'xds-max-streams-per-connection': { type: 'string' },
      'xds-max-queued-bytes': { type: 'string' },
      ...XDS_LIMIT_FLAGS,
      'no-watch': { type: 'boolean' },
      'insecure-api': { type: 'boolean' },
      'api-allowed-hosts': { type: 'string' },
      ...STORE_FLAGS,
      ...TLS_FLAGS,
      ...RETENTION_FLAGS,
    },
    HELP,
    ['config'],
  );
  if (!flags) return 0;
  const v = flags.values;
  const logger = daemonLogger(v['log-level']);
  const apiHost = (v['api-host'] as string | undefined) ?? '127.0.0.1';
  const tokens = tokenSources(v['api-tokens-file'] as string | undefined, v['api-token-file'] as string | undefined);
  if (!isLoopback(apiHost) && tokens === undefined) {
    if (v['insecure-api'] !== true) {
      throw new CliError(
        `serve: refusing to serve the API on ${apiHost} without a token: whoever reaches it can drain the fleet. ` +
          'Set --api-tokens-file or DRAINPLANE_API_TOKEN, bind --api-host 127.0.0.1, or pass --insecure-api',
      );
    }
    logger.warn({ event: 'insecure_api', apiHost }, `the API on ${apiHost} takes mutating requests from anyone who reaches it (--insecure-api)`);
  }
  const stateDir = (v['state-dir'] as string | undefined) ?? '.drainplane';
  const store = storeOptions(v, stateDir);
  const daemon = await createDaemon({
    configFile: v['config'] as string,
    xdsHost: (v['xds-host'] as string | undefined) ?? '0.0.0.0',
    xdsPort: portFlag('xds-port', v['xds-port'], 18000),
    apiHost,
    apiPort: portFlag('api-port', v['api-port'], 9902),
    stateDir,
    store,
    logger,
    watchConfig: v['no-watch'] !== true,
    drainRetention: retentionOptions(v),
    ...(tokens !== undefined && { apiTokens: tokens }),
    apiRateLimit: integerFlag('api-rate-limit', v['api-rate-limit'], DEFAULT_MUTATIONS_PER_MINUTE, 0),
    apiBodyLimit: integerFlag('api-body-limit', v['api-body-limit'], DEFAULT_BODY_LIMIT_BYTES, 1),
    ...(v['api-allowed-hosts'] !== undefined && { apiAllowedHosts: hostListFlag('api-allowed-hosts', v['api-allowed-hosts']) }),
    xdsLimits: {
      maxReceiveMessageBytes: integerFlag('xds-max-message-bytes', v['xds-max-message-bytes'], DEFAULT_XDS_LIMITS.maxReceiveMessageBytes, 1),
      maxConcurrentStreams: integerFlag(
        'xds-max-streams-per-connection',
        v['xds-max-streams-per-connection'],
        DEFAULT_XDS_LIMITS.maxConcurrentStreams,
        1,
      ),
      maxQueuedBytes: integerFlag('xds-max-queued-bytes', v['xds-max-queued-bytes'], DEFAULT_XDS_LIMITS.maxQueuedBytes, 1),
      ...xdsLimitOptions(v),
    },
    ...(await tlsOptions(v, logger)),
  });
  await listenDaemon(daemon);
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ event: 'signal', signal }, `${signal} received`);
      daemon.close().then(
        () => resolve(exitAfterStop(0)),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(exitAfterStop(1));
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', () => void daemon.reload());
  });
}

/**
 * The API tokens: a tokens file (read by the daemon, which re-reads it on change) and the
 * DRAINPLANE_API_TOKEN (admin) and DRAINPLANE_READ_TOKEN (read) variables; undefined when
 * none is given.
 */
function tokenSources(file: string | undefined, legacyFile: string | undefined): TokenSources | undefined {
  if (file !== undefined && legacyFile !== undefined) {
    throw new CliError('serve: give --api-tokens-file or its alias --api-token-file, not both');
  }
  const tokensFile = file ?? legacyFile;
  const admin = envToken('DRAINPLANE_API_TOKEN');
  const read = envToken('DRAINPLANE_READ_TOKEN');
  if (tokensFile === undefined && admin === undefined && read === undefined) return undefined;
  return {
    ...(tokensFile !== undefined && { file: tokensFile }),
    ...(admin !== undefined && { admin: [admin] }),
    ...(read !== undefined && { read: [read] }),
  };
}

function envToken(name: string): string | undefined {
  const token = process.env[name]?.trim();
  if (token === undefined || token === '') return undefined;
  const problem = tokenProblem(token);
  if (problem) throw new CliError(`serve: ${name}: ${problem}`);
  return token;
}
