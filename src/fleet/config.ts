import { readFile } from 'node:fs/promises';
import { EncodedResource } from '../resource/encoded-resource.js';
import { encodeChecked } from '../resource/checked-resource.js';
import { envoyProtos } from '../resource/protos.js';
import { TypeUrl, messageName, type XdsTypeUrl } from '../resource/type-urls.js';
import type { NodeMatch } from './node-match.js';
import { checkFilterChainMatches } from './filter-chains.js';
import { checkReferences, inlineRouteConfigs, type LocatedResource, type Section } from './references.js';
import { checkClusterShape } from './cluster-shape.js';
import { checkFilterOrder } from './filter-order.js';
import { checkListenerShape } from './listener-shape.js';
import { checkDomains } from './route-domains.js';
import { listenerStatNames, type ListenerStatNames } from './listener-stats.js';
import { tcpProxyFilters, withDrainClose, type TcpProxyFilters } from './tcp-proxy.js';
import { locateIssues, readLocatedYaml } from './yaml-locations.js';
import { canonical, checkedResources, resourceKey } from './checked-resources.js';
import { inlineSecretFiles } from './secrets/inline-files.js';
import { checkKeyPair } from './secrets/key-pair.js';
import { secretFilesBeside, type SecretFiles } from './secrets/secret-files.js';
import { checkSecretReferences } from './secrets/secret-references.js';
import { defaultDrainType, drainTypeName, roleOf, type DrainType, type ListenerRole } from './roles.js';
import type { ConfigIssue } from './config-issue.js';
import { isObject, unknownKeyIssues } from './json-shape.js';
import { readKubernetesSettings, readServiceEndpoints, type KubernetesSettings } from './service-endpoints/config-section.js';
import type { ServiceEndpointsRef } from './service-endpoints/service-ref.js';
import type { GroupServiceAssignments } from './service-endpoints/service-assignments.js';

// Callers of parseConfig keep importing the issue type from here.
export type { ConfigIssue } from './config-issue.js';

export interface ListenerInfo extends ListenerStatNames {
  readonly name: string;
  readonly role: ListenerRole;
  readonly drainType: DrainType;
  /** Its TcpProxy filters; null for a listener without one. */
  readonly tcpProxy: TcpProxyFilters | null;
}

/** A node group: who it matches, and the resources (encoded once) every node in it gets. */
export interface GroupConfig {
  readonly name: string;
  readonly match: NodeMatch;
  readonly resources: ReadonlyMap<XdsTypeUrl, readonly EncodedResource[]>;
  readonly listeners: readonly ListenerInfo[];
  /**
   * The listeners that Envoy 1.39 and later get otherwise (TcpProxy `check_drain_close` set,
   * see tcp-proxy.ts), by name; the others are the same for every node.
   */
  readonly drainCloseListeners: ReadonlyMap<string, EncodedResource>;
  /** Assignments whose endpoints come from Kubernetes Services (served beside `endpoints`). */
  readonly serviceEndpoints: readonly ServiceEndpointsRef[];
  /**
   * What those Services hold now: set on the running config as the desired state serves it
   * (see desired-state/with-services.ts), absent on a config as read.
   */
  readonly fromServices?: GroupServiceAssignments;
}

/** The group's endpoint assignments: those its config writes, then those its Services hold now. */
export function groupAssignments(group: GroupConfig): EncodedResource[] {
  return [...(group.resources.get(TypeUrl.ClusterLoadAssignment) ?? []), ...(group.fromServices?.resources ?? [])];
}

export interface FleetConfig {
  /** Where the config came from (a file path, or a request). */
  readonly source: string;
  readonly groups: readonly GroupConfig[];
  readonly envoyAdmin: EnvoyAdminSettings;
  readonly dependents: readonly DependentConfig[];
  /** How the Kubernetes API is reached, when the config says; groups' serviceEndpoints use it. */
  readonly kubernetes: KubernetesSettings | undefined;
  /** The document as parsed, for GET /v1/config. */
  readonly document: Readonly<Record<string, unknown>>;
  readonly warnings: readonly ConfigIssue[];
  /** The files its secrets were read from (absolute, sorted): a change to one is a new Secret. */
  readonly secretFiles: readonly string[];
}

export type ConfigResult =
  | { readonly ok: true; readonly config: FleetConfig }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };

/** The resource sections of a group, the type each holds, and the field that names a resource. */
const SECTIONS: readonly { readonly key: Section; readonly typeUrl: XdsTypeUrl; readonly nameField: string }[] = [
  { key: 'listeners', typeUrl: TypeUrl.Listener, nameField: 'name' },
  { key: 'clusters', typeUrl: TypeUrl.Cluster, nameField: 'name' },
  { key: 'routes', typeUrl: TypeUrl.RouteConfiguration, nameField: 'name' },
  { key: 'endpoints', typeUrl: TypeUrl.ClusterLoadAssignment, nameField: 'cluster_name' },
  { key: 'secrets', typeUrl: TypeUrl.Secret, nameField: 'name' },
];
const TOP_LEVEL_KEYS = new Set(['groups', 'envoyAdmin', 'dependents', 'kubernetes']);
const DEPENDENT_KEYS = new Set(['name', 'command', 'stopSignal', 'stopTimeoutSeconds']);

/** A process `drainplane run` starts beside Envoy and stops after it, in the declared order. */
export interface DependentConfig {
  readonly name: string;
  readonly command: readonly string[];
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutSeconds: number;
}
const ENVOY_ADMIN_KEYS = new Set(['allowRemote', 'timeoutMs']);

/** How drainplane may reach Envoy admin APIs (for admin drain methods and /stats). */
export interface EnvoyAdminSettings {
  /** Reach admin addresses beyond loopback (node metadata `admin_address`). */
  readonly allowRemote: boolean;
  readonly timeoutMs: number;
}

export const DEFAULT_ENVOY_ADMIN: EnvoyAdminSettings = { allowRemote: false, timeoutMs: 2000 };
const GROUP_KEYS = new Set(['name', 'match', ...SECTIONS.map((s) => s.key), 'serviceEndpoints']);
const MATCH_KEYS = new Set(['cluster', 'ids', 'metadata']);

export async function loadConfigFile(file: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `cannot read ${file}: ${(err as Error).message}` }], warnings: [] };
  }
  return parseConfig(text, file, secretFilesBeside(file));
}

/**
 * Parses and checks a YAML (or JSON) config document. Every error is reported, not just the first.
 * Files its secrets name are read through `files` (by default relative to the working folder).
 */
export function parseConfig(text: string, source: string, files: SecretFiles = secretFilesBeside('.')): ConfigResult {
  const read = readLocatedYaml(text);
  if (!read.ok) return { ok: false, errors: read.errors, warnings: [] };
  const result = checkDocument(read.value, source, files);
  return result.ok
    ? { ok: true, config: { ...result.config, warnings: locateIssues(result.config.warnings, read.locate) } }
    : { ok: false, errors: locateIssues(result.errors, read.locate), warnings: locateIssues(result.warnings, read.locate) };
}

/** Checks an already-parsed document (a JSON request body, say). */
export function checkDocument(document: unknown, source: string, files: SecretFiles = secretFilesBeside('.')): ConfigResult {
  return new ConfigReader(source, files).read(document);
}

class ConfigReader {
  readonly #errors: ConfigIssue[] = [];
  readonly #warnings: ConfigIssue[] = [];
  /** Identical resources in several groups share one encoding. */
  readonly #interned = new Map<string, EncodedResource>();
  readonly #secretFiles = new Set<string>();

  constructor(
    private readonly source: string,
    private readonly files: SecretFiles,
  ) {
    checkedResources.startConfig();
  }

  read(document: unknown): ConfigResult {
    if (!isObject(document)) {
      this.#error('', 'the config must be a mapping with a "groups" list');
      return this.#result(undefined);
    }
    this.#unknownKeys(document, TOP_LEVEL_KEYS, '');
    const groupsJson = document['groups'];
    const groups: GroupConfig[] = [];
    if (!Array.isArray(groupsJson)) {
      this.#error('groups', 'must be a list of node groups');
    } else {
      const seen = new Set<string>();
      groupsJson.forEach((g, i) => {
        const group = this.#group(g, `groups[${i}]`);
        if (!group) return;
        if (seen.has(group.name)) this.#error(`groups[${i}].name`, `duplicate group name "${group.name}"`);
        seen.add(group.name);
        groups.push(group);
      });
    }
    const envoyAdmin = this.#envoyAdmin(document['envoyAdmin']);
    const dependents = this.#dependents(document['dependents']);
    const kubernetes = readKubernetesSettings(document['kubernetes'], this.#errors);
    const secretFiles = [...this.#secretFiles].sort();
    return this.#result({ source: this.source, groups, envoyAdmin, dependents, kubernetes, document, warnings: this.#warnings, secretFiles });
  }

  #dependents(json: unknown): DependentConfig[] {
    if (json === undefined) return [];
    if (!Array.isArray(json)) {
      this.#error('dependents', 'must be a list of processes (name, command)');
      return [];
    }
    return json.flatMap((d, i): DependentConfig[] => {
      const path = `dependents[${i}]`;
      if (!isObject(d)) {
        this.#error(path, 'must be a mapping with name and command');
        return [];
      }
      this.#unknownKeys(d, DEPENDENT_KEYS, path);
      const { name, command, stopSignal = 'SIGTERM', stopTimeoutSeconds = 5 } = d;
      let ok = true;
      const fail = (field: string, message: string): void => {
        this.#error(`${path}.${field}`, message);
        ok = false;
      };
      if (typeof name !== 'string' || name === '') fail('name', 'must be a non-empty string');
      if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string')) {
        fail('command', 'must be a non-empty list of strings (program, then arguments)');
      }
      if (typeof stopSignal !== 'string' || !/^SIG[A-Z0-9]+$/.test(stopSignal)) fail('stopSignal', 'must be a signal name such as SIGTERM');
      if (typeof stopTimeoutSeconds !== 'number' || !(stopTimeoutSeconds > 0)) fail('stopTimeoutSeconds', 'must be a number of seconds > 0');
      if (!ok) return [];
      return [
        {
          name: name as string,
          command: command as string[],
          stopSignal: stopSignal as NodeJS.Signals,
          stopTimeoutSeconds: stopTimeoutSeconds as number,
        },
      ];
    });
  }

  #envoyAdmin(json: unknown): EnvoyAdminSettings {
    if (json === undefined) return DEFAULT_ENVOY_ADMIN;
    if (!isObject(json)) {
      this.#error('envoyAdmin', 'must be a mapping with allowRemote and/or timeoutMs');
      return DEFAULT_ENVOY_ADMIN;
    }
    this.#unknownKeys(json, ENVOY_ADMIN_KEYS, 'envoyAdmin');
    const { allowRemote = DEFAULT_ENVOY_ADMIN.allowRemote, timeoutMs = DEFAULT_ENVOY_ADMIN.timeoutMs } = json;
    if (typeof allowRemote !== 'boolean') this.#error('envoyAdmin.allowRemote', 'must be true or false');
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) this.#error('envoyAdmin.timeoutMs', 'must be a number of milliseconds > 0');
    return { allowRemote: allowRemote === true, timeoutMs: typeof timeoutMs === 'number' ? timeoutMs : DEFAULT_ENVOY_ADMIN.timeoutMs };
  }

  #result(config: FleetConfig | undefined): ConfigResult {
    if (this.#errors.length > 0 || !config) return { ok: false, errors: this.#errors, warnings: this.#warnings };
    return { ok: true, config };
  }

  #group(json: unknown, path: string): GroupConfig | undefined {
    if (!isObject(json)) {
      this.#error(path, 'must be a mapping with name, match and resources');
      return undefined;
    }
    this.#unknownKeys(json, GROUP_KEYS, path);
    const name = json['name'];
    if (typeof name !== 'string' || name === '') this.#error(`${path}.name`, 'must be a non-empty string');
    const match = this.#match(json['match'], `${path}.match`);
    const resources = new Map<XdsTypeUrl, EncodedResource[]>();
    const located: Record<Section, LocatedResource[]> = { listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] };
    const declared: Record<Section, Set<string>> = {
      listeners: new Set(),
      routes: new Set(),
      clusters: new Set(),
      endpoints: new Set(),
      secrets: new Set(),
    };
    const listeners: ListenerInfo[] = [];
    const drainCloseListeners = new Map<string, EncodedResource>();
    for (const section of SECTIONS) {
      const list = json[section.key] ?? [];
      const sectionPath = `${path}.${section.key}`;
      if (!Array.isArray(list)) {
        this.#error(sectionPath, `must be a list of ${messageName(section.typeUrl)}`);
        continue;
      }
      const encoded: EncodedResource[] = [];
      const names = new Set<string>();
      list.forEach((item: unknown, i) => {
        const itemPath = `${sectionPath}[${i}]`;
        const declaredName = isObject(item) ? (item[section.nameField] ?? item[camel(section.nameField)]) : undefined;
        if (typeof declaredName === 'string') declared[section.key].add(declaredName);
        const role = section.typeUrl === TypeUrl.Listener ? this.#listenerRole(item, itemPath) : undefined;
        const prepared = role ? role.json : item;
        const resource =
          section.typeUrl === TypeUrl.Secret
            ? this.#secret(prepared, itemPath)
            : this.#resource(section.typeUrl, section.nameField, prepared, itemPath);
        if (!resource) return;
        if (/[\u0000-\u001f\u007f]/.test(resource.name)) {
          // Names end up in Envoy's stats, logs and drainplane's own keys: keep them printable.
          this.#error(`${itemPath}.${section.nameField}`, `${section.key} name ${JSON.stringify(resource.name)} contains a control character`);
          return;
        }
        if (names.has(resource.name)) {
          this.#error(`${itemPath}.${section.nameField}`, `duplicate ${section.key} name "${resource.name}" in this group`);
          return;
        }
        names.add(resource.name);
        encoded.push(resource);
        const json = canonical(resource);
        located[section.key].push({ name: resource.name, path: itemPath, json });
        if (!role) return;
        listeners.push({
          name: resource.name,
          role: role.role,
          drainType: role.drainType,
          tcpProxy: tcpProxyFilters(json) ?? null,
          ...listenerStatNames(json),
        });
        const drainClose = withDrainClose(json);
        const variant = drainClose && this.#resource(section.typeUrl, section.nameField, drainClose, itemPath);
        if (variant) drainCloseListeners.set(resource.name, variant);
      });
      resources.set(section.typeUrl, encoded);
    }
    const serviceEndpoints = readServiceEndpoints(json['serviceEndpoints'], `${path}.serviceEndpoints`, this.#errors);
    // Named, even if wrong otherwise: an EDS cluster that asks for it is not a second error.
    for (const item of Array.isArray(json['serviceEndpoints']) ? (json['serviceEndpoints'] as unknown[]) : []) {
      if (isObject(item) && typeof item['clusterName'] === 'string') declared.endpoints.add(item['clusterName']);
    }
    serviceEndpoints.forEach((ref, i) => {
      // One name, one assignment: Envoy could not tell which of the two it was sent.
      if (located.endpoints.some((e) => e.name === ref.clusterName)) {
        this.#error(`${path}.serviceEndpoints[${i}].clusterName`, `"${ref.clusterName}" is also in this group's endpoints`);
      }
    });
    const references = checkReferences({ resources: located, declared });
    const secretReferences = checkSecretReferences([...located.listeners, ...located.clusters], located.secrets, declared.secrets);
    this.#errors.push(
      ...located.listeners.flatMap((l) => [...checkListenerShape(l), ...checkFilterChainMatches(l), ...checkFilterOrder(l)]),
      ...[...located.routes, ...located.listeners.flatMap((l) => [...inlineRouteConfigs(l)])].flatMap((r) => checkDomains(r.json, r.path)),
      ...located.clusters.flatMap(checkClusterShape),
      ...references.errors,
      ...secretReferences.errors,
    );
    this.#warnings.push(...references.warnings, ...secretReferences.warnings);
    if (typeof name !== 'string' || !match) return undefined;
    return { name, match, resources, listeners, drainCloseListeners, serviceEndpoints };
  }

  #match(json: unknown, path: string): NodeMatch | undefined {
    if (!isObject(json)) {
      this.#error(path, 'must be a mapping with cluster, ids and/or metadata');
      return undefined;
    }
    this.#unknownKeys(json, MATCH_KEYS, path);
    const { cluster, ids, metadata } = json;
    let ok = true;
    if (cluster !== undefined && (typeof cluster !== 'string' || cluster === '')) {
      this.#error(`${path}.cluster`, 'must be a non-empty string (the Envoy node.cluster)');
      ok = false;
    }
    if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && id !== ''))) {
      this.#error(`${path}.ids`, 'must be a list of node ids');
      ok = false;
    }
    if (metadata !== undefined && (!isObject(metadata) || !Object.values(metadata).every(isScalar))) {
      this.#error(`${path}.metadata`, 'must be a mapping of metadata keys to string, number or boolean values');
      ok = false;
    }
    if (cluster === undefined && ids === undefined && metadata === undefined) {
      this.#error(path, 'must name at least one of cluster, ids, metadata');
      ok = false;
    }
    if (!ok) return undefined;
    return {
      ...(cluster !== undefined && { cluster: cluster as string }),
      ...(ids !== undefined && { ids: ids as string[] }),
      ...(metadata !== undefined && {
        metadata: Object.fromEntries(Object.entries(metadata as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
      }),
    };
  }

  /**
   * Gives a listener the drain_type of its role unless the file sets one, and warns where the
   * role makes drains behave other than operators usually expect.
   */
  #listenerRole(json: unknown, path: string): { json: unknown; role: ListenerRole; drainType: DrainType } | undefined {
    if (!isObject(json)) return undefined;
    const name = typeof json['name'] === 'string' ? json['name'] : '';
    const role = roleOf(json['traffic_direction'] ?? json['trafficDirection']);
    const given = json['drain_type'] ?? json['drainType'];
    const drainType = given === undefined ? defaultDrainType(role) : drainTypeName(given);
    if (drainType === undefined) return undefined; // the JSON mapping reports the bad enum value
    if (role === 'unspecified') {
      this.#warn(
        path,
        `listener "${name}" has no traffic_direction: drainplane cannot tell ingress from egress, so drains ` +
          'with scope ingress or egress skip it (scope all still drains it); set INBOUND or OUTBOUND',
      );
    } else if (role === 'ingress' && drainType === 'MODIFY_ONLY') {
      this.#warn(
        `${path}.drain_type`,
        `ingress listener "${name}" is MODIFY_ONLY: /healthcheck/fail will not drain it; only LDS changes and removals will`,
      );
    } else if (role === 'egress' && drainType === 'DEFAULT') {
      this.#warn(
        `${path}.drain_type`,
        `egress listener "${name}" is DEFAULT: /healthcheck/fail will drain it together with ingress, ` +
          'so the application may lose its outbound calls while it still serves',
      );
    }
    return { json: given !== undefined ? json : { ...json, drain_type: drainType }, role, drainType };
  }

  /**
   * A Secret as served: checked as written, then with the files it names read into it (see
   * secrets/inline-files.ts) and its key checked against its certificate.
   */
  #secret(json: unknown, path: string): EncodedResource | undefined {
    const written = this.#resource(TypeUrl.Secret, 'name', json, path);
    if (!written) return undefined;
    const inlined = inlineSecretFiles(envoyProtos(), canonical(written), path, this.files);
    for (const file of inlined.files) this.#secretFiles.add(file);
    const keyPair = inlined.errors.length === 0 ? checkKeyPair(inlined.json, path) : { errors: [], warnings: [] };
    this.#errors.push(...inlined.errors, ...keyPair.errors);
    this.#warnings.push(...keyPair.warnings);
    if (inlined.errors.length > 0 || keyPair.errors.length > 0) return undefined;
    return inlined.files.length === 0 ? written : this.#resource(TypeUrl.Secret, 'name', inlined.json, path);
  }

  #resource(typeUrl: XdsTypeUrl, nameField: string, json: unknown, path: string): EncodedResource | undefined {
    const key = resourceKey(typeUrl, json);
    const known = checkedResources.get(key);
    if (known) return this.#intern(known);
    const protos = envoyProtos();
    const encoded = encodeChecked(protos, protos.type(messageName(typeUrl)), json, path);
    if (!encoded.ok) {
      for (const e of encoded.errors) this.#error(e.path, e.message);
      return undefined;
    }
    const name = isObject(json) ? (json[nameField] ?? json[camel(nameField)]) : undefined;
    if (typeof name !== 'string' || name === '') {
      this.#error(`${path}.${nameField}`, 'is required: xDS resources are identified by name');
      return undefined;
    }
    const resource = this.#intern(new EncodedResource(typeUrl, name, encoded.value));
    checkedResources.set(key, resource);
    return resource;
  }

  #intern(resource: EncodedResource): EncodedResource {
    const key = `${resource.typeUrl}\0${resource.name}\0${resource.version}`;
    const existing = this.#interned.get(key);
    if (existing) return existing;
    this.#interned.set(key, resource);
    return resource;
  }

  #unknownKeys(json: Record<string, unknown>, allowed: ReadonlySet<string>, path: string): void {
    this.#errors.push(...unknownKeyIssues(json, allowed, path));
  }

  #error(path: string, message: string): void {
    this.#errors.push({ path, message });
  }

  #warn(path: string, message: string): void {
    this.#warnings.push({ path, message });
  }
}

/**
 * One line per issue: `file:line:column: path: message`. Keys and values quoted from the file
 * may hold line breaks and other control characters: they are escaped, so that one issue never
 * spans, or forges, several lines.
 */
export function formatIssue(source: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? source : `${source}:${issue.line}:${issue.column ?? 1}`;
  return escapeControls(issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`);
}

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
