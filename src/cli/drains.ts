import { describeTarget } from '../fleet/endpoints/target.js';
import { NODE_PHASE_STATES, type Scope } from '../fleet/drain/model.js';
import { ApiClient, type DrainDigest, type DrainView } from './api-client.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { formatTable } from './table.js';

const HELP = `usage: drainplane drains [--api http://127.0.0.1:9902] [--ca-file FILE] [--token-file FILE] [--json]
       drainplane drains cancel ID [--api URL] [--ca-file FILE] [--token-file FILE]
       drainplane drains advance|pause|resume ID [--api URL] [--ca-file FILE] [--token-file FILE]
       drainplane drains skip|retry ID NODE [--api URL] [--ca-file FILE] [--token-file FILE]

Lists drains (id, state, method, scope, current phase, its node counts by state);
--json prints the API's answer.
cancel ends a drain and restores the listeners it removed or changed.
advance starts the egress phase of a scope "all" drain started with --egress-after advance.
pause holds a running drain: no batch or phase starts (nodes under way finish); resume goes on.
skip stops waiting for a node (one skipped before its batch is never drained); retry starts a
node that timed out or failed again, with a new deadline (reopening a drain that had ended).
The token comes from --token-file, else the DRAINPLANE_API_TOKEN environment variable (admin),
else DRAINPLANE_READ_TOKEN (enough to list drains).
--ca-file (or DRAINPLANE_CA_FILE) names the CA that an https API's certificate must chain to.
Exit code 2 for a usage error, 3 when the API cannot be reached or answers an error.`;

export async function drainsCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    'drains',
    args,
    { api: { type: 'string' }, json: { type: 'boolean' }, 'token-file': { type: 'string' }, 'ca-file': { type: 'string' } },
    HELP,
  );
  if (!flags) return 0;
  const [action, id, ...rest] = flags.positionals;
  if (action !== undefined && !ACTIONS.has(action)) {
    throw new CliError(`drains: unknown action "${action}" (${[...ACTIONS].join(', ')})\n\n${HELP}`);
  }
  if (action !== undefined && id === undefined) throw new CliError(`drains ${action}: give the drain's ID\n\n${HELP}`);
  const onNode = action === 'skip' || action === 'retry';
  const [node, ...extra] = onNode ? rest : [undefined, ...rest];
  if (onNode && node === undefined) throw new CliError(`drains ${action}: give the drain's ID and the node's id\n\n${HELP}`);
  if (extra.length > 0) throw new CliError(`drains: unexpected argument "${extra[0]}"\n\n${HELP}`);
  const api = await ApiClient.fromFlags(flags.values);

  if (action === undefined) {
    if (flags.values['json'] === true) {
      process.stdout.write(`${JSON.stringify(await api.get<{ drains: DrainView[] }>('/v1/drains'), null, 2)}\n`);
    } else {
      // Counts are all the table shows: summaries without node rows, not every node of every drain.
      process.stdout.write(`${table((await api.get<{ drains: DrainDigest[] }>('/v1/drains?nodes=0')).drains)}\n`);
    }
    return 0;
  }
  const path = `/v1/drains/${encodeURIComponent(id!)}${node === undefined ? '' : `/nodes/${encodeURIComponent(node)}`}/${action}`;
  const drain = await api.post<DrainView>(path);
  process.stdout.write(`${DONE[action as Action](drain, node ?? '')}\n`);
  for (const w of drain.warnings) process.stderr.write(`warning: ${w}\n`);
  return 0;
}

type Action = 'cancel' | 'advance' | 'pause' | 'resume' | 'skip' | 'retry';

/** What each action says it did. */
const DONE: Readonly<Record<Action, (drain: DrainView, node: string) => string>> = {
  cancel: (d) => `drain ${d.id} cancelled; what it changed (listeners, endpoints) is restored`,
  advance: (d) => `drain ${d.id}: egress phase started`,
  pause: (d) => `drain ${d.id} paused: no batch or phase starts until it is resumed`,
  resume: (d) => `drain ${d.id} resumed`,
  skip: (d, node) => `drain ${d.id}: node ${node} skipped`,
  retry: (d, node) => `drain ${d.id}: node ${node} started again; the drain is ${d.state}`,
};

const ACTIONS: ReadonlySet<string> = new Set(Object.keys(DONE));

function table(drains: readonly DrainDigest[]): string {
  const rows = drains.map((d) => {
    const phase = d.phases[d.phase];
    return [
      d.id,
      // A retired drain keeps the state it ended in, but acts on nothing any more.
      d.retired ? `${d.state} (history)` : d.paused ? `${d.state} (paused)` : d.state,
      d.spec.method,
      scope(d.spec.scope),
      phase ? `${phase.name}${d.phases.length > 1 ? ` (${d.phase + 1}/${d.phases.length})` : ''}` : '-',
      phase ? counts(phase.counts) : '-',
    ];
  });
  return formatTable(['ID', 'STATE', 'METHOD', 'SCOPE', 'PHASE', 'NODES'], rows);
}

function scope(s: Scope): string {
  if (typeof s === 'string') return s;
  return 'listeners' in s ? `listener:${s.listeners.join(',')}` : `endpoint:${describeTarget(s.endpoints)}`;
}

/** `drained=3 acked=1`: the phase's nodes by state, none when it has no nodes. */
function counts(byState: Readonly<Record<string, number>>): string {
  // NODE_PHASE_STATES lists the states in the order a node goes through them.
  const parts = NODE_PHASE_STATES.filter((s) => (byState[s] ?? 0) > 0).map((s) => `${s}=${byState[s]}`);
  return parts.length > 0 ? parts.join(' ') : 'none';
}
