import { formatIssue, loadConfigFile } from '../fleet/config.js';
import { TypeUrl, type XdsTypeUrl } from '../resource/type-urls.js';
import { parseFlags } from './args.js';

const HELP = `usage: drainplane validate --config FILE

Checks a config file without serving it. Exits 0 with a summary, or 1 listing every error
with its path in the file.`;

export async function validateCommand(args: string[]): Promise<number> {
  const flags = parseFlags('validate', args, { config: { type: 'string' } }, HELP, ['config']);
  if (!flags) return 0;
  const file = flags.values['config'] as string;
  const loaded = await loadConfigFile(file);
  for (const w of loaded.ok ? loaded.config.warnings : loaded.warnings) {
    process.stderr.write(`warning: ${formatIssue(file, w)}\n`);
  }
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(`error: ${formatIssue(file, e)}\n`);
    process.stderr.write(`${file}: ${loaded.errors.length} error(s); nothing would be served\n`);
    return 1;
  }
  const { groups } = loaded.config;
  process.stdout.write(`${file}: valid, ${groups.length} group(s)\n`);
  for (const g of groups) {
    process.stdout.write(`  group ${g.name}\n`);
    for (const l of g.listeners) process.stdout.write(`    listener ${l.name}: ${l.role}, drain_type ${l.drainType}\n`);
    const count = (typeUrl: XdsTypeUrl): number => g.resources.get(typeUrl)?.length ?? 0;
    process.stdout.write(
      `    ${count(TypeUrl.Cluster)} cluster(s), ${count(TypeUrl.RouteConfiguration)} route config(s), ` +
        `${count(TypeUrl.ClusterLoadAssignment)} endpoint set(s), ${count(TypeUrl.Secret)} secret(s)\n`,
    );
  }
  return 0;
}
