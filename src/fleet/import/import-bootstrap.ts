/**
 * `drainplane import`: an Envoy bootstrap's static listeners and clusters become a drainplane
 * config, and the bootstrap one that points the same Envoy at drainplane over ADS. Pure: text in,
 * texts out, every problem listed with its place in the bootstrap.
 */
import type { ConfigIssue } from '../config-issue.js';
import type { NodeMatch } from '../node-match.js';
import { locateIssues } from '../yaml-locations.js';
import { collectClusterNames } from './cluster-references.js';
import { hostPort } from '../endpoints/assignment.js';
import type { XdsTarget } from './drainplane-source.js';
import { importedConfig, yamlText } from './imported-config.js';
import { resolveRoles, type Role } from './listener-roles.js';
import { staticSecretNames } from './secret-references.js';
import { servedBootstrap } from './served-bootstrap.js';
import type { StaticBootstrap } from './static-bootstrap.js';

export interface ImportOptions {
  /** Roles for listeners without a traffic_direction, by listener name. */
  readonly roles: ReadonlyMap<string, Role>;
  /** The group's name; by default the node's cluster, else "imported". */
  readonly group?: string;
  /** node.cluster to set, for a bootstrap that names none. */
  readonly nodeCluster?: string;
  readonly xds: XdsTarget;
}

export interface ImportedFiles {
  /** The drainplane config (YAML). */
  readonly config: string;
  /** The new Envoy bootstrap (YAML). */
  readonly bootstrap: string;
  readonly group: string;
  readonly listeners: readonly string[];
  /** The clusters drainplane serves now. */
  readonly clusters: readonly string[];
  /** The secrets drainplane serves now, over SDS. */
  readonly secrets: readonly string[];
  /** Static clusters left in the bootstrap, each with the first field that names it. */
  readonly kept: ReadonlyMap<string, string>;
  readonly warnings: readonly ConfigIssue[];
}

export type ImportResult =
  | { readonly ok: true; readonly files: ImportedFiles }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };

export function importBootstrap(b: StaticBootstrap, o: ImportOptions): ImportResult {
  const errors: ConfigIssue[] = [];
  const { roles, missing, errors: roleErrors } = resolveRoles(b.listeners, o.roles);
  errors.push(...roleErrors);
  for (const listener of missing) {
    errors.push({
      path: listener.path,
      message: `listener "${listener.name}" has no traffic_direction and no role is given for it: ingress or egress?`,
    });
  }
  const match = nodeMatch(b, o, errors);
  for (const cluster of b.clusters) {
    if (cluster.name !== o.xds.cluster) continue;
    errors.push({
      path: `${cluster.path}.name`,
      message: `a static cluster is already named "${o.xds.cluster}", the name of the cluster Envoy reaches drainplane through: name that one otherwise (--xds-cluster NAME)`,
    });
  }
  if (errors.length > 0 || !match) return { ok: false, errors: locateIssues(errors, b.locate), warnings: [] };

  // A cluster the rest of the bootstrap names stays static; a listener naming it too gets a copy
  // in the group (Envoy keeps the static one and skips a CDS cluster of the same name).
  const namedByListeners = new Map<string, string>();
  for (const l of b.listeners) collectClusterNames(l.message.json, l.path, namedByListeners);
  const clusters = b.clusters.filter((c) => !b.namedOutside.has(c.name) || namedByListeners.has(c.name));
  // Secrets move to drainplane (SDS), but for those only clusters kept static name: they stay.
  const keptSecrets = new Set<string>();
  for (const c of b.clusters) if (b.namedOutside.has(c.name)) staticSecretNames(c.message.json, keptSecrets);
  const servedSecrets = new Set<string>();
  for (const r of [...b.listeners, ...clusters]) staticSecretNames(r.message.json, servedSecrets);
  const secrets = b.secrets.filter((s) => servedSecrets.has(s.name) || !keptSecrets.has(s.name));
  const group = o.group ?? b.node.cluster ?? o.nodeCluster ?? 'imported';
  const whom = match.cluster !== undefined ? `node.cluster is "${match.cluster}"` : `node.id is "${match.ids![0]}"`;
  const config = importedConfig(
    b,
    { name: group, match, listeners: b.listeners, clusters, secrets, roles },
    `drainplane config imported from ${b.source} by \`drainplane import\`: the static listeners and\nclusters of that bootstrap, for the Envoy whose ${whom}.`,
  );
  if (config.errors.length > 0) return { ok: false, errors: config.errors, warnings: config.warnings };

  const kept = b.namedOutside;
  const keptLine = kept.size === 0 ? '' : `\nKept static, since the bootstrap names them: ${[...kept.keys()].join(', ')}.`;
  const bootstrap = yamlText(
    servedBootstrap(b, {
      xds: o.xds,
      kept: new Set(kept.keys()),
      keptSecrets,
      ...(o.nodeCluster !== undefined && { nodeCluster: o.nodeCluster }),
    }),
    `Envoy bootstrap imported from ${b.source} by \`drainplane import\`: its settings as written, with\n` +
      `listeners, clusters and secrets from drainplane over ADS (cluster "${o.xds.cluster}", ${hostPort(o.xds.host, o.xds.port)}).${keptLine}`,
  );
  return {
    ok: true,
    files: {
      config: config.text,
      bootstrap,
      group,
      listeners: b.listeners.map((l) => l.name),
      clusters: clusters.map((c) => c.name),
      secrets: secrets.map((s) => s.name),
      kept,
      warnings: config.warnings,
    },
  };
}

/**
 * The group matches the Envoy by its node.cluster, or by its node.id when it names no cluster.
 * A node cluster given for a bootstrap without one is set in the new bootstrap.
 */
function nodeMatch(b: StaticBootstrap, o: ImportOptions, errors: ConfigIssue[]): NodeMatch | undefined {
  const { cluster, id } = b.node;
  if (o.nodeCluster !== undefined && cluster !== undefined && o.nodeCluster !== cluster) {
    errors.push({
      path: 'node.cluster',
      message: `the bootstrap names node.cluster "${cluster}"; the node cluster "${o.nodeCluster}" given differs`,
    });
    return undefined;
  }
  const matched = cluster ?? o.nodeCluster;
  if (matched !== undefined) return { cluster: matched };
  if (id !== undefined) return { ids: [id] };
  errors.push({
    path: b.root.key('node') === undefined ? '' : 'node',
    message: 'the bootstrap names neither node.cluster nor node.id, so no group could match this Envoy: give it a cluster (--node-cluster NAME)',
  });
  return undefined;
}
