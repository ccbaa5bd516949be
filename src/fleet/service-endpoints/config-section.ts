/**
 * The config's Kubernetes parts: a group's `serviceEndpoints` (assignments whose endpoints come
 * from a Service's EndpointSlices) and the top-level `kubernetes` (how the cluster is reached).
 * Each reader returns what it understood and lists every problem with its path.
 */
import type { ConfigIssue } from '../config-issue.js';
import { isObject, unknownKeyIssues } from '../json-shape.js';
import type { ServiceEndpointsRef } from './service-ref.js';

/** How drainplane reaches the Kubernetes API. */
export interface KubernetesSettings {
  /** A kubeconfig file (relative to the config file's folder); unset: in-cluster, else $KUBECONFIG or ~/.kube/config. */
  readonly kubeconfig?: string;
  /** The kubeconfig context to use; unset: its current context. */
  readonly context?: string;
  /** The fleet's Envoy pods: one marked for deletion has its node (id: the pod's name) drained at once. */
  readonly fleetPods?: FleetPods;
}

export interface FleetPods {
  readonly namespace: string;
  /** A label selector, as kubectl takes it (`app=edge,tier=front`). */
  readonly selector: string;
  /** The drain's deadline per node and phase. */
  readonly deadlineSeconds: number;
}

const FLEET_POD_KEYS = new Set(['namespace', 'selector', 'deadlineSeconds']);
const DEFAULT_FLEET_POD_DEADLINE = 60;

const KUBERNETES_KEYS = new Set(['kubeconfig', 'context', 'fleetPods']);
const REF_KEYS = new Set(['clusterName', 'namespace', 'service', 'port']);
/** RFC 1123 labels (namespaces) and DNS-1035 labels (Service names), as the API server checks them. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A Service port name (IANA_SVC_NAME: at most 15 characters, a letter, no double hyphen). */
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

export function readKubernetesSettings(json: unknown, issues: ConfigIssue[]): KubernetesSettings | undefined {
  if (json === undefined) return undefined;
  if (!isObject(json)) {
    issues.push({ path: 'kubernetes', message: 'must be a mapping with kubeconfig and/or context (or {} for in-cluster)' });
    return undefined;
  }
  issues.push(...unknownKeyIssues(json, KUBERNETES_KEYS, 'kubernetes'));
  const settings: { kubeconfig?: string; context?: string; fleetPods?: FleetPods } = {};
  for (const key of ['kubeconfig', 'context'] as const) {
    const value = json[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') issues.push({ path: `kubernetes.${key}`, message: 'must be a non-empty string' });
    else settings[key] = value;
  }
  const fleetPods = readFleetPods(json['fleetPods'], issues);
  if (fleetPods) settings.fleetPods = fleetPods;
  return settings;
}

function readFleetPods(json: unknown, issues: ConfigIssue[]): FleetPods | undefined {
  if (json === undefined) return undefined;
  const path = 'kubernetes.fleetPods';
  if (!isObject(json)) {
    issues.push({ path, message: 'must be a mapping with namespace, selector and optionally deadlineSeconds' });
    return undefined;
  }
  const before = issues.length;
  issues.push(...unknownKeyIssues(json, FLEET_POD_KEYS, path));
  const { namespace, selector, deadlineSeconds = DEFAULT_FLEET_POD_DEADLINE } = json;
  if (typeof namespace !== 'string' || !DNS_LABEL.test(namespace))
    issues.push({ path: `${path}.namespace`, message: 'must be a Kubernetes namespace name' });
  if (typeof selector !== 'string' || selector.trim() === '' || selector.length > 1024) {
    issues.push({
      path: `${path}.selector`,
      message: 'must be a label selector such as "app=edge" (the fleet\'s pods, not every pod of the namespace)',
    });
  }
  if (typeof deadlineSeconds !== 'number' || !(deadlineSeconds > 0) || deadlineSeconds > 3600) {
    issues.push({ path: `${path}.deadlineSeconds`, message: 'must be a number of seconds > 0 and <= 3600' });
  }
  if (issues.length > before) return undefined;
  return { namespace: namespace as string, selector: selector as string, deadlineSeconds: deadlineSeconds as number };
}

/** A group's `serviceEndpoints`; `path` is the list's. */
export function readServiceEndpoints(json: unknown, path: string, issues: ConfigIssue[]): ServiceEndpointsRef[] {
  if (json === undefined) return [];
  if (!Array.isArray(json)) {
    issues.push({ path, message: 'must be a list of { clusterName, namespace, service, port }' });
    return [];
  }
  const refs: ServiceEndpointsRef[] = [];
  const names = new Set<string>();
  json.forEach((item: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(item)) {
      issues.push({ path: at, message: 'must be a mapping with clusterName, namespace, service and port' });
      return;
    }
    issues.push(...unknownKeyIssues(item, REF_KEYS, at));
    const before = issues.length;
    const { clusterName, namespace, service, port } = item;
    if (typeof clusterName !== 'string' || clusterName === '')
      issues.push({ path: `${at}.clusterName`, message: 'must be a non-empty string (the ClusterLoadAssignment name an EDS cluster asks for)' });
    else if (names.has(clusterName)) issues.push({ path: `${at}.clusterName`, message: `duplicate "${clusterName}" in this group` });
    if (typeof namespace !== 'string' || !DNS_LABEL.test(namespace))
      issues.push({ path: `${at}.namespace`, message: 'must be a Kubernetes namespace name (lowercase letters, digits and "-", at most 63)' });
    if (typeof service !== 'string' || !DNS_LABEL.test(service))
      issues.push({ path: `${at}.service`, message: 'must be a Kubernetes Service name (lowercase letters, digits and "-", at most 63)' });
    const portOk =
      port === undefined ||
      (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) ||
      (typeof port === 'string' && PORT_NAME.test(port));
    if (!portOk) issues.push({ path: `${at}.port`, message: 'must be a Service port name, or the port number the endpoints listen on (1-65535)' });
    if (issues.length > before) return;
    names.add(clusterName as string);
    refs.push({
      clusterName: clusterName as string,
      namespace: namespace as string,
      service: service as string,
      ...(port !== undefined && { port: port as string | number }),
    });
  });
  return refs;
}
