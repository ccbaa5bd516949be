/**
 * The clusters a part of an Envoy config names. Envoy names a cluster under many fields: gRPC
 * services' `cluster_name`, config sources' `cluster_names`, an HTTP URI's or a route's
 * `cluster`, tracing's `collector_cluster`, statsd's `tcp_cluster_name`, the cluster manager's
 * `local_cluster_name`, and weighted clusters by `name`. Rather than list every extension, any
 * string under a key of that form counts: a key that names no cluster costs nothing, since
 * callers look the names up among the clusters the bootstrap has.
 */
import { isObject, snakeCase } from './written-message.js';

const CLUSTER_KEY = /(^|_)cluster(_name|_names)?$/;

/** Adds every cluster name found in `json` to `found`, with the first path that names it. */
export function collectClusterNames(json: unknown, path: string, found: Map<string, string>): void {
  const add = (name: unknown, at: string): void => {
    if (typeof name === 'string' && name !== '' && !found.has(name)) found.set(name, at);
  };
  if (Array.isArray(json)) {
    json.forEach((item, i) => collectClusterNames(item, `${path}[${i}]`, found));
    return;
  }
  if (!isObject(json)) return;
  for (const [key, value] of Object.entries(json)) {
    const at = path === '' ? key : `${path}.${key}`;
    const field = snakeCase(key);
    if (CLUSTER_KEY.test(field)) {
      if (Array.isArray(value)) value.forEach((v, i) => add(v, `${at}[${i}]`));
      else add(value, at);
    }
    if (field === 'weighted_clusters' && isObject(value) && Array.isArray(value['clusters'])) {
      value['clusters'].forEach((c: unknown, i) => add(isObject(c) ? c['name'] : undefined, `${at}.clusters[${i}].name`));
    }
    collectClusterNames(value, at, found);
  }
}
