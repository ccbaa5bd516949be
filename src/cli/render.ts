import YAML from 'yaml';
import { formatIssue, loadConfigFile } from '../fleet/config.js';
import { groupSnapshots } from '../fleet/desired-state/group-snapshots.js';
import { messageToJson } from '../resource/json-mapping.js';
import { envoyProtos } from '../resource/protos.js';
import { PUSH_ORDER, TypeUrl, messageName } from '../resource/type-urls.js';
import { redactSecret } from '../fleet/secrets/redact.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';

const HELP = `usage: drainplane render --config FILE --node-id ID [--node-cluster C] [--format json|yaml]

Prints the resources the server would send to that node, as Envoy proto3 JSON grouped by
type URL, decoded from the very bytes the server sends. Private keys, passwords and other
private material in secrets are shown as "[redacted]".`;

export async function renderCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    'render',
    args,
    {
      config: { type: 'string' },
      'node-id': { type: 'string' },
      'node-cluster': { type: 'string' },
      format: { type: 'string' },
    },
    HELP,
    ['config', 'node-id'],
  );
  if (!flags) return 0;
  const file = flags.values['config'] as string;
  const format = (flags.values['format'] as string | undefined) ?? 'json';
  if (format !== 'json' && format !== 'yaml') throw new CliError(`render: --format must be json or yaml, got "${format}"`);
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(`error: ${formatIssue(file, e)}\n`);
    return 1;
  }
  const node = {
    id: flags.values['node-id'] as string,
    cluster: (flags.values['node-cluster'] as string | undefined) ?? '',
    metadata: {},
    locality: { region: '', zone: '', subZone: '' },
    userAgentName: '',
    userAgentVersion: '',
  };
  const snapshot = groupSnapshots(loaded.config)(node);
  if (!snapshot) {
    throw new CliError(`render: node "${node.id}" (cluster "${node.cluster}") matches no group in ${file}; it would be sent nothing`, 1);
  }
  const protos = envoyProtos();
  const out: Record<string, unknown> = {};
  for (const typeUrl of PUSH_ORDER) {
    const type = protos.type(messageName(typeUrl));
    out[typeUrl] = snapshot.get(typeUrl).sorted.map((r) => {
      const json = messageToJson(protos, type, r.bytes);
      return typeUrl === TypeUrl.Secret ? redactSecret(json) : json;
    });
  }
  process.stdout.write(format === 'json' ? `${JSON.stringify(out, null, 2)}\n` : YAML.stringify(out));
  return 0;
}
