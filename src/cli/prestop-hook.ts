/**
 * `drainplane prestop-hook --endpoint HOST:PORT`: a backend pod's preStop for application images
 * without a drainplane command, as a sidecar serving an httpGet hook (api/endpoint-hook-app.ts).
 *
 * At start, it cancels the drains that still hold its endpoint: pod addresses are reused, and a
 * backend that starts where a stopped one was drained must get traffic. On the kubelet's
 * GET /v1/prestop, it drains the endpoint in every Envoy (once, however often it is asked) and
 * answers when that drain ended. It exits on SIGTERM, which a native sidecar gets after the app.
 */
import { buildEndpointHook, type EndpointHookResult } from '../api/endpoint-hook-app.js';
import { ApiClient } from './api-client.js';
import { integerFlag, parseFlags, portFlag } from './args.js';
import { daemonLogger } from './daemon-start.js';
import { CliError } from './errors.js';
import { drainEndpoint, releaseEndpoint } from './prestop-endpoint.js';

const HELP = `usage: drainplane prestop-hook --endpoint HOST:PORT [--port 9904] [--host 0.0.0.0] [--deadline SECONDS]
                             [--api URL] [--token-file FILE] [--ca-file FILE] [--log-level L]

A backend pod's preStop as an httpGet hook, for app images without drainplane: run it as a
sidecar; the app container's preStop is httpGet on --port, path /v1/prestop. That GET drains
HOST:PORT (the app's own endpoint, e.g. $(POD_IP):8080) in every Envoy whose EDS holds it and
answers once every Envoy reports no request and no connection open to it, or --deadline (default
300 s) ends; the kubelet then sends the app SIGTERM. At start, drains that still hold HOST:PORT
(a stopped pod's, at a reused address) are cancelled. GET /healthz answers 200.
--host defaults to every address: the kubelet calls the pod's IP. The API wants an admin token
when it takes tokens (--token-file or DRAINPLANE_API_TOKEN).`;

/** How often the start-up release is tried again while the API cannot be reached. */
const RELEASE_RETRY_MS = 5_000;

export async function prestopHookCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    'prestop-hook',
    args,
    {
      endpoint: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      deadline: { type: 'string' },
      api: { type: 'string' },
      'token-file': { type: 'string' },
      'ca-file': { type: 'string' },
      'log-level': { type: 'string' },
    },
    HELP,
  );
  if (!flags) return 0;
  const v = flags.values;
  const endpoint = v['endpoint'] as string | undefined;
  if (endpoint === undefined || endpoint.trim() === '') throw new CliError(`prestop-hook: --endpoint HOST:PORT is required\n\n${HELP}`);
  const port = portFlag('port', v['port'], 9904);
  const host = (v['host'] as string | undefined) ?? '0.0.0.0';
  const deadline = v['deadline'] === undefined ? undefined : integerFlag('deadline', v['deadline'], 300, 1);
  const api = await ApiClient.fromFlags(v);
  const logger = daemonLogger(v['log-level']);

  let drained: Promise<EndpointHookResult> | undefined;
  const prestop = (): Promise<EndpointHookResult> =>
    (drained ??= drainEndpoint(api, endpoint, deadline, (message) => logger.warn({ event: 'prestop_notice', endpoint }, message)).then(
      ({ drain, seconds, outcome }) => {
        logger.info({ event: 'prestop_done', endpoint, drain: drain.id, state: drain.state, seconds }, outcome);
        return { endpoint, drain: drain.id, state: drain.state, elapsedSeconds: seconds };
      },
      (err: unknown) => {
        // Asked again (the kubelet does not retry, a person might), the drain is tried again.
        drained = undefined;
        throw err;
      },
    ));

  const app = buildEndpointHook({ prestop, logger });
  try {
    await app.listen({ port, host });
  } catch (err) {
    throw new CliError(`prestop-hook: --port: cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  const release = startRelease(api, endpoint, logger, () => drained !== undefined);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  release.stop();
  await app.close();
  return 0;
}

/**
 * Cancels the drains left on the endpoint, trying again while the API cannot be reached (the
 * pod may start before drainplane does), and not once this pod's own preStop began.
 */
function startRelease(api: ApiClient, endpoint: string, logger: ReturnType<typeof daemonLogger>, stopping: () => boolean): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (): Promise<void> => {
    if (stopping()) return;
    try {
      const released = await releaseEndpoint(api, endpoint);
      if (released.length > 0) {
        logger.info(
          { event: 'endpoint_released', endpoint, drains: released },
          `endpoint ${endpoint} serves again: cancelled ${released.join(', ')}`,
        );
      }
    } catch (err) {
      logger.warn({ event: 'endpoint_release_failed', endpoint, error: (err as Error).message }, 'could not release the endpoint yet; trying again');
      timer = setTimeout(() => void attempt(), RELEASE_RETRY_MS);
    }
  };
  void attempt();
  return { stop: () => clearTimeout(timer) };
}
