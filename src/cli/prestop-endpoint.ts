/**
 * `drainplane prestop --endpoint HOST:PORT`: a backend's preStop. Starts an endpoint drain of
 * its own address and blocks until every Envoy holding it reports it idle, or the drain's
 * deadline ends. Exit 0 either way (Kubernetes stops the container next, and a backend that
 * waited its budget stops no worse than one that did not wait); 3 when the API cannot be
 * reached or refuses the drain.
 */
import { ApiClient, type DrainView } from './api-client.js';
import { watchDrain } from './drain-watch.js';
import { endpointTarget } from './drain-request.js';
import { heldBy } from './progress.js';

export async function endpointPrestop(values: Readonly<Record<string, string | boolean | undefined>>, endpoint: string): Promise<number> {
  const deadline = values['deadline'] as string | undefined;
  const api = await ApiClient.fromFlags(values);
  const started = Date.now();
  const created = await api.post<DrainView>('/v1/drains', {
    endpoints: endpointTarget(endpoint, false),
    ...(deadline !== undefined && { deadlineSeconds: Number(deadline) }),
  });
  for (const w of created.warnings) process.stderr.write(`prestop: warning: ${w}\n`);
  let last = created;
  for await (const drain of watchDrain(api, created.id, (message) => process.stderr.write(`prestop: ${message}\n`))) last = drain;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const envoys = last.phases[0]?.nodes.length ?? 0;
  process.stdout.write(`prestop: endpoint ${endpoint} ${last.state} in ${envoys} Envoy(s) after ${seconds}s (drain ${last.id})\n`);
  for (const line of heldBy(last)) process.stderr.write(`  ${line}\n`);
  return 0;
}
