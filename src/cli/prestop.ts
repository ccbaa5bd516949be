import { request } from 'undici';
import { readToken } from './api-client.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { endpointPrestop } from './prestop-endpoint.js';

const HELP = `usage: drainplane prestop [--api URL] [--token-file FILE]
       drainplane prestop --endpoint HOST:PORT [--deadline SECONDS] [--api URL] [--token-file FILE] [--ca-file FILE]

For an exec preStop hook: asks the local drainplane (drainplane run) to drain its Envoy and
blocks until the drain is complete or the shutdown budget ends. Exit 0 either way (Kubernetes
sends SIGTERM next, which joins the same shutdown); 3 when drainplane cannot be reached.
From loopback no token is needed; from elsewhere, an API that takes tokens wants an admin
token, from --token-file or the DRAINPLANE_API_TOKEN environment variable.

With --endpoint, a backend's own preStop: drains HOST:PORT (an endpoint drain) in every Envoy
whose EDS holds it and blocks until each reports no request and no connection open to it, or
--deadline (default 300 s) ends. Exit 0 either way; 3 when the API cannot be reached or
refuses the drain (a HOST:PORT no EDS of the config holds, say).`;

export async function prestopCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    'prestop',
    args,
    {
      api: { type: 'string' },
      'token-file': { type: 'string' },
      endpoint: { type: 'string' },
      deadline: { type: 'string' },
      'ca-file': { type: 'string' },
    },
    HELP,
  );
  if (!flags) return 0;
  const endpoint = flags.values['endpoint'] as string | undefined;
  if (endpoint !== undefined) return endpointPrestop(flags.values, endpoint);
  if (flags.values['deadline'] !== undefined)
    throw new CliError('prestop: --deadline applies to --endpoint (the local drain follows its shutdown plan)');
  const api = (flags.values['api'] as string | undefined) ?? 'http://127.0.0.1:9902';
  const token = await readToken(flags.values['token-file'] as string | undefined);
  try {
    // The drain takes as long as the plan says: no client-side timeout beyond the kubelet's.
    const res = await request(`${api.replace(/\/$/, '')}/v1/prestop`, {
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(token !== undefined && { headers: { authorization: `Bearer ${token}` } }),
    });
    const body = (await res.body.json()) as { outcome?: string; elapsedSeconds?: number };
    if (res.statusCode !== 200) throw new CliError(`prestop: ${api} answered ${res.statusCode}`, 3);
    process.stdout.write(`prestop: ${body.outcome} after ${body.elapsedSeconds}s\n`);
    return 0;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`prestop: cannot reach drainplane at ${api}: ${(err as Error).message}`, 3);
  }
}
