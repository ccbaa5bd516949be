/**
 * Reading an Envoy bootstrap for `drainplane import`: what it has that import moves (static
 * listeners, clusters and secrets), what import keeps (everything else), and what it cannot import.
 * Every refusal names the field and where the file writes it.
 */
import { envoyProtos } from '../../resource/protos.js';
import type { ConfigIssue } from '../config-issue.js';
import { roleOf, type ListenerRole } from '../roles.js';
import { locateIssues, readLocatedYaml, type Location } from '../yaml-locations.js';
import { collectClusterNames } from './cluster-references.js';
import { isObject, WrittenMessage } from './written-message.js';

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';

/** DynamicResources fields that give Envoy its listeners or clusters from a control plane. */
const DYNAMIC_SOURCES = ['lds_config', 'lds_resources_locator', 'cds_config', 'cds_resources_locator', 'ads_config'];

export interface StaticResource {
  readonly name: string;
  /** Its path in the bootstrap (`static_resources.listeners[0]`). */
  readonly path: string;
  /** As the file writes it. */
  readonly message: WrittenMessage;
}

export interface StaticListener extends StaticResource {
  /** From its `traffic_direction`: unspecified when the file gives none. */
  readonly role: ListenerRole;
}

export interface StaticBootstrap {
  /** The file, as named to the command (for messages). */
  readonly source: string;
  readonly root: WrittenMessage;
  readonly locate: (path: string) => Location | undefined;
  readonly listeners: readonly StaticListener[];
  readonly clusters: readonly StaticResource[];
  /** Its static secrets (TLS certificates, validation contexts, ...), which drainplane serves over SDS. */
  readonly secrets: readonly StaticResource[];
  readonly node: { readonly id?: string; readonly cluster?: string };
  /**
   * Static clusters the bootstrap names outside static_resources (stats sinks, tracing, access
   * log services, the cluster manager), each with the first path that names it: Envoy needs
   * them before any control plane answers.
   */
  readonly namedOutside: ReadonlyMap<string, string>;
}

export type BootstrapRead =
  { readonly ok: true; readonly bootstrap: StaticBootstrap } | { readonly ok: false; readonly errors: readonly ConfigIssue[] };

/** Reads a YAML or JSON bootstrap; every problem import has with it is listed, with its place. */
export function readStaticBootstrap(text: string, source: string): BootstrapRead {
  const read = readLocatedYaml(text);
  if (!read.ok) return read;
  const errors: ConfigIssue[] = [];
  const fail = (path: string, message: string): BootstrapRead => ({ ok: false, errors: locateIssues([{ path, message }], read.locate) });
  if (!isObject(read.value)) return fail('', `not an Envoy bootstrap: expected a mapping of ${BOOTSTRAP} fields`);
  const root = new WrittenMessage(read.value, envoyProtos().type(BOOTSTRAP), '');
  for (const key of Object.keys(root.json)) {
    if (root.fieldOf(key) === undefined) errors.push({ path: key, message: `unknown field "${key}": not an Envoy bootstrap (${BOOTSTRAP})` });
  }
  const dynamic = root.message('dynamic_resources');
  for (const field of DYNAMIC_SOURCES) {
    if (dynamic?.key(field) === undefined) continue;
    errors.push({
      path: dynamic.pathOf(field),
      message: 'this Envoy already takes its config from a control plane: import moves static listeners and clusters only',
    });
  }
  const resources = root.message('static_resources');
  const listeners = named(resources, 'listeners', errors).map((l): StaticListener => ({ ...l, role: roleOf(l.message.get('traffic_direction')) }));
  if (listeners.length === 0 && !errors.some((e) => e.path.startsWith('static_resources.listeners'))) {
    errors.push({ path: resources?.pathOf('listeners') ?? 'static_resources', message: 'no static listeners: there is nothing to import' });
  }
  const clusters = named(resources, 'clusters', errors);
  const secrets = named(resources, 'secrets', errors);
  if (errors.length > 0) return { ok: false, errors: locateIssues(errors, read.locate) };

  const referenced = new Map<string, string>();
  for (const [key, value] of Object.entries(root.json)) {
    const field = root.fieldOf(key);
    if (field !== 'node' && field !== 'static_resources') collectClusterNames(value, root.pathOf(field!), referenced);
  }
  const clusterNames = new Set(clusters.map((c) => c.name));
  const node = root.message('node');
  return {
    ok: true,
    bootstrap: {
      source,
      root,
      locate: read.locate,
      listeners,
      clusters,
      secrets,
      node: { ...(node?.string('id') && { id: node.string('id') }), ...(node?.string('cluster') && { cluster: node.string('cluster') }) },
      namedOutside: new Map([...referenced].filter(([name]) => clusterNames.has(name))),
    },
  };
}

/** The resources of a static_resources list; each must have a name, which xDS and drains go by. */
function named(resources: WrittenMessage | undefined, field: 'listeners' | 'clusters' | 'secrets', errors: ConfigIssue[]): StaticResource[] {
  const list = resources?.get(field);
  if (list !== undefined && !Array.isArray(list)) {
    errors.push({ path: resources!.pathOf(field), message: `must be a list of ${field}` });
    return [];
  }
  return (resources?.entries(field) ?? []).flatMap(({ path, message }): StaticResource[] => {
    const name = message?.string('name');
    if (message && name !== undefined) return [{ name, path, message }];
    errors.push(
      message
        ? { path: `${path}.name`, message: `is required: drainplane serves and drains ${field} by name` }
        : { path, message: 'must be a mapping' },
    );
    return [];
  });
}
