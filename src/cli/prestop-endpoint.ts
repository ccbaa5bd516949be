/**
 * `drainplane prestop --endpoint HOST:PORT`: a backend's preStop. Starts an endpoint drain of
 * its own address and blocks until every Envoy holding it reports it idle, or the drain's
 * deadline ends. Exit 0 either way (Kubernetes stops the container next, and a backend that
 * waited its budget stops no worse than one that did not wait); 3 when the API cannot be
 * reached or refuses the drain.
 */
import { ApiClient, type DrainDigest } from './api-client.js';
import { integerFlag } from './args.js';
import { createDrain, watchDrainSummary } from './drain-watch.js';
import { endpointTarget } from './drain-request.js';
import { heldBy } from './progress.js';

export async function endpointPrestop(values: Readonly<Record<string, string | boolean | undefined>>, endpoint: string): Promise<number> {
  const deadline = values['deadline'] === undefined ? undefined : integerFlag('deadline', values['deadline'], 300, 1);
  const api = await ApiClient.fromFlags(values);
  const drained = await drainEndpoint(api, endpoint, deadline, (message) => process.stderr.write(`prestop: ${message}\n`));
  process.stdout.write(`prestop: ${drained.outcome}\n`);
  for (const line of heldBy(drained.drain)) process.stderr.write(`  ${line}\n`);
  return 0;
}

/**
 * Node rows per phase the preStop follows its drain with: the nodes still holding the endpoint
 * (then those that failed) come first, and the counts cover the rest. An endpoint drain spans
 * every Envoy that routes to the backend, thousands in a fleet, and changes on most ticks.
 */
const FOLLOWED_ROWS = 20;

export interface EndpointDrained {
  /** Its summary, as it ended. */
  readonly drain: DrainDigest;
  readonly seconds: number;
  /** One line: the endpoint, how its drain ended, in how many Envoys, after how long. */
  readonly outcome: string;
}

/** Drains `endpoint` in every Envoy whose EDS holds it and follows the drain to its end. */
export async function drainEndpoint(
  api: ApiClient,
  endpoint: string,
  deadlineSeconds: number | undefined,
  notice: (message: string) => void,
): Promise<EndpointDrained> {
  const started = Date.now();
  const body = { endpoints: endpointTarget(endpoint, false), ...(deadlineSeconds !== undefined && { deadlineSeconds }) };
  const created = await createDrain(api, body, FOLLOWED_ROWS);
  for (const w of created.warnings) notice(`warning: ${w}`);
  let drain = created;
  for await (const seen of watchDrainSummary(api, created.id, FOLLOWED_ROWS, notice)) drain = seen;
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const envoys = drain.phases[0]?.total ?? 0;
  return { drain, seconds, outcome: `endpoint ${endpoint} ${drain.state} in ${envoys} Envoy(s) after ${seconds}s (drain ${drain.id})` };
}

/**
 * Cancels the drains of exactly this endpoint that still hold it (running, or completed and
 * kept): a backend that starts at an address a stopped one drained serves again. Returns their ids.
 */
export async function releaseEndpoint(api: ApiClient, endpoint: string): Promise<string[]> {
  const { drains } = await api.get<{ drains: DrainDigest[] }>('/v1/drains?nodes=0');
  const holding = drains.filter((d) => {
    const scope = d.spec.scope;
    const addresses = typeof scope === 'object' && 'endpoints' in scope ? scope.endpoints.addresses : undefined;
    return d.state !== 'cancelled' && addresses?.length === 1 && addresses[0] === endpoint;
  });
  for (const d of holding) await api.post(`/v1/drains/${encodeURIComponent(d.id)}/cancel`);
  return holding.map((d) => d.id);
}
