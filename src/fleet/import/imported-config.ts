/**
 * The drainplane config of an imported bootstrap: one group that matches that Envoy and holds
 * its static listeners, each with its role as `traffic_direction`, and its clusters, as the file
 * writes them. A route config or load assignment written inline stays inline, so Envoy answers as
 * it did. The text is checked as `drainplane validate` checks it, and every issue is reported at
 * the bootstrap field it comes from.
 */
import YAML from 'yaml';
import { parseConfig } from '../config.js';
import type { ConfigIssue } from '../config-issue.js';
import type { NodeMatch } from '../node-match.js';
import { locateIssues } from '../yaml-locations.js';
import { secretFilesBeside } from '../secrets/secret-files.js';
import { TRAFFIC_DIRECTION, type Role } from './listener-roles.js';
import { overAds } from './secret-references.js';
import type { StaticBootstrap, StaticListener, StaticResource } from './static-bootstrap.js';
import type { Json } from './written-message.js';

export interface ImportedGroup {
  readonly name: string;
  readonly match: NodeMatch;
  readonly listeners: readonly StaticListener[];
  readonly clusters: readonly StaticResource[];
  /** Static secrets drainplane serves over SDS; the listeners and clusters naming them ask ADS. */
  readonly secrets: readonly StaticResource[];
  /** Every listener's role, by name. */
  readonly roles: ReadonlyMap<string, Role>;
}

type Section = 'listeners' | 'clusters' | 'secrets';

export interface ImportedConfig {
  readonly text: string;
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

export function importedConfig(b: StaticBootstrap, group: ImportedGroup, header: string): ImportedConfig {
  const moved = new Set(group.secrets.map((s) => s.name));
  const document = {
    groups: [
      {
        name: group.name,
        match: group.match,
        ...(group.secrets.length > 0 && { secrets: group.secrets.map((s) => s.message.json) }),
        listeners: group.listeners.map((l) => overAds(withRole(l, group.roles.get(l.name)!), moved)),
        clusters: group.clusters.map((c) => overAds(c.message.json, moved)),
      },
    ],
  };
  const text = yamlText(document, header);
  // Files the secrets name are read from where the bootstrap is, as Envoy there would.
  const checked = parseConfig(text, b.source, secretFilesBeside(b.source));
  const back = (issues: readonly ConfigIssue[]): ConfigIssue[] =>
    locateIssues(
      issues.map((i) => fromBootstrap(i, group)),
      b.locate,
    );
  return checked.ok
    ? { text, errors: [], warnings: back(checked.config.warnings) }
    : { text, errors: back(checked.errors), warnings: back(checked.warnings) };
}

/** A YAML text that Envoy's reader takes as drainplane's does (YAML 1.1 quoting: `"on"` stays a string). */
export function yamlText(value: unknown, header: string): string {
  const doc = new YAML.Document(value, { version: '1.1' });
  doc.commentBefore = header
    .split('\n')
    .map((line) => ` ${line}`)
    .join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** The listener as written, with its role as traffic_direction (after its name) when it has none. */
function withRole(listener: StaticListener, role: Role): Json {
  const { json } = listener.message;
  if (listener.role !== 'unspecified') return json;
  const entries = Object.entries(json).filter(([key]) => listener.message.fieldOf(key) !== 'traffic_direction');
  const at = entries.findIndex(([key]) => listener.message.fieldOf(key) === 'name') + 1;
  entries.splice(at, 0, ['traffic_direction', TRAFFIC_DIRECTION[role]]);
  return Object.fromEntries(entries);
}

/** An issue of the imported config at the bootstrap field it comes from. */
function fromBootstrap(issue: ConfigIssue, group: ImportedGroup): ConfigIssue {
  const m = /^groups\[0\]\.(listeners|clusters|secrets)\[(\d+)\](.*)$/.exec(issue.path);
  const from = m ? { listeners: group.listeners, clusters: group.clusters, secrets: group.secrets }[m[1] as Section][Number(m[2])] : undefined;
  if (m && from) return { path: `${from.path}${m[3]}`, message: issue.message };
  return { path: '', message: `the imported config, at ${issue.path || 'its top'}: ${issue.message}` };
}
