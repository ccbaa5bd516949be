import { ApiClient, type DrainDigest } from './api-client.js';
import { parseFlags } from './args.js';
import { drainRequest } from './drain-request.js';
import { createDrain, watchDrainSummary } from './drain-watch.js';
import { CliError } from './errors.js';
import { heldBy, progressRenderer, ROWS_PER_PHASE } from './progress.js';

const HELP = `usage: drainplane drain --selector K=V[,K=V...] --scope ingress|egress|all|listener:NAME[,NAME...]
                       [--api http://127.0.0.1:9902] [--method remove|modify|healthcheck-fail|drain-listeners]
                       [--batch N|N%] [--deadline SECONDS] [--threshold N]
                       [--egress-after ingress-complete|advance|egress-idle|DELAY_SECONDS] [--confirm]
                       [--token-file FILE] [--ca-file FILE] [--wait]
       drainplane drain --endpoint HOST:PORT[,HOST:PORT...] [--remove] [--selector K=V[,K=V...]]
                       [--deadline SECONDS] [--threshold N] [--api URL] [--token-file FILE] [--ca-file FILE] [--wait]

Starts a drain through the API and prints its id. With --wait, follows it to the end: node
by node in a phase of up to ${ROWS_PER_PHASE} nodes, by tenths drained (and each node that fails) beyond.
With --endpoint, an endpoint (upstream) drain: those backends become DRAINING in the EDS of
every Envoy that holds them (of the selector's nodes, if one is given), and the drain completes
when each such Envoy has no request and no connection open to them; --remove then leaves them
out of the assignments. drainplane drains cancel ID restores them.

Selector keys (every one given must match): id (repeatable), ids=a|b|c, cluster, region,
zone, sub_zone, metadata.KEY. Example: --selector cluster=edge,zone=eu-west-1a
The admin token comes from --token-file or the DRAINPLANE_API_TOKEN environment variable.
--ca-file (or DRAINPLANE_CA_FILE) names the CA that an https API's certificate must chain to.

Exit codes: 0 the drain was started (with --wait: it completed); 1 with --wait, it timed
out, failed or was cancelled (the nodes and listeners that held it are listed); 2 usage
error; 3 the API could not be reached or refused the drain (its message is printed).`;

export async function drainCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    'drain',
    args,
    {
      api: { type: 'string' },
      selector: { type: 'string' },
      scope: { type: 'string' },
      endpoint: { type: 'string' },
      remove: { type: 'boolean' },
      method: { type: 'string' },
      batch: { type: 'string' },
      deadline: { type: 'string' },
      threshold: { type: 'string' },
      'egress-after': { type: 'string' },
      confirm: { type: 'boolean' },
      'token-file': { type: 'string' },
      'ca-file': { type: 'string' },
      wait: { type: 'boolean' },
    },
    HELP,
  );
  if (!flags) return 0;
  if (flags.positionals.length > 0) throw new CliError(`drain: unexpected argument "${flags.positionals[0]}"\n\n${HELP}`);
  const body = drainRequest(flags.values);
  const api = await ApiClient.fromFlags(flags.values);
  const drain = await createDrain(api, body, ROWS_PER_PHASE);
  process.stdout.write(`${drain.id}\n`);
  for (const w of drain.warnings) process.stderr.write(`warning: ${w}\n`);
  return flags.values['wait'] === true ? follow(api, drain) : 0;
}

/** Shows the drain's progress until it ends; the exit code says how it ended. */
async function follow(api: ApiClient, created: DrainDigest): Promise<number> {
  const progress = progressRenderer(process.stdout, process.stderr);
  // Stopping the watch does not stop the drain: say so, and how to end it.
  const interrupted = (): void => {
    process.stderr.write(`\ndrainplane: stopped watching; drain ${created.id} keeps running (drainplane drains cancel ${created.id} ends it)\n`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  let last = created;
  try {
    progress.update(created);
    for await (const drain of watchDrainSummary(api, created.id, ROWS_PER_PHASE, (message) => progress.note(message))) {
      progress.update(drain);
      last = drain;
    }
  } finally {
    process.off('SIGINT', interrupted);
  }
  if (last.state === 'completed') return 0;
  const held = heldBy(last);
  const state = last.state === 'timed_out' ? 'timed out' : last.state;
  process.stderr.write(`drainplane: drain ${last.id} ${state}${held.length > 0 ? '; held by:' : ''}\n`);
  for (const line of held) process.stderr.write(`  ${line}\n`);
  return 1;
}
