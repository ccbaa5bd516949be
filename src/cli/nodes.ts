import { MAX_NODE_PAGE } from '../api/schemas/fleet.js';
import { ApiClient, type NodePage, type NodeView } from './api-client.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { formatTable, shorten } from './table.js';

const HELP = `usage: drainplane nodes [--api http://127.0.0.1:9902] [--token-file FILE] [--ca-file FILE] [--json]

Lists the nodes that are or were connected: id, cluster, whether connected, stream protocol,
the listener (LDS) version the node ACKed, and its last NACK: every node, read page by page.
--json prints the API's answer, its pages joined into one.
When the API takes tokens, a read (or admin) token comes from --token-file, else the
DRAINPLANE_API_TOKEN or DRAINPLANE_READ_TOKEN environment variable.
--ca-file (or DRAINPLANE_CA_FILE) names the CA that an https API's certificate must chain to.
Exit code 3 when the API cannot be reached or answers an error.`;

const NACK_WIDTH = 60;

export async function nodesCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    'nodes',
    args,
    { api: { type: 'string' }, 'ca-file': { type: 'string' }, json: { type: 'boolean' }, 'token-file': { type: 'string' } },
    HELP,
  );
  if (!flags) return 0;
  if (flags.positionals.length > 0) throw new CliError(`nodes: unexpected argument "${flags.positionals[0]}"\n\n${HELP}`);
  const api = await ApiClient.fromFlags(flags.values);
  const answer = await allNodes(api);
  if (flags.values['json'] === true) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  }
  const rows = answer.nodes.map((n) => [
    n.id,
    n.cluster || '-',
    n.connected ? 'yes' : 'no',
    streams(n),
    n.types.lds?.acked?.version ?? '-',
    lastNack(n),
  ]);
  process.stdout.write(`${formatTable(['ID', 'CLUSTER', 'CONNECTED', 'STREAM', 'LDS ACKED', 'LAST NACK'], rows)}\n`);
  return 0;
}

/** Every node, as one page: GET /v1/nodes answers at most MAX_NODE_PAGE at a time. */
async function allNodes(api: ApiClient): Promise<NodePage> {
  const nodes: NodeView[] = [];
  let page: NodePage | undefined;
  do {
    const cursor = page?.nextCursor;
    page = await api.get<NodePage>(`/v1/nodes?limit=${MAX_NODE_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    nodes.push(...page.nodes);
  } while (page.nextCursor !== null);
  return { ...page, nodes, total: nodes.length };
}

/** `sotw ads`, `delta per-type`: how the node talks xDS (a node may hold several streams). */
function streams(n: NodeView): string {
  if (!n.connected || n.streams.length === 0) return '-';
  return [...new Set(n.streams.map((s) => `${s.protocol} ${s.aggregated ? 'ads' : 'per-type'}`))].join(', ');
}

/** The most recent NACK of any type, as `type: message`. */
function lastNack(n: NodeView): string {
  const nacks = Object.entries(n.types).flatMap(([type, status]) => (status?.lastNack ? [{ type, ...status.lastNack }] : []));
  const latest = nacks.sort((a, b) => b.at.localeCompare(a.at))[0];
  return latest ? shorten(`${latest.type}: ${latest.message}`, NACK_WIDTH) : '-';
}
