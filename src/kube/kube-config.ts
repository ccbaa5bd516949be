/**
 * How drainplane reaches the Kubernetes API: the config's `kubernetes.kubeconfig` (relative to
 * the config file's folder) and `context`; without a kubeconfig, the pod's service account when
 * running in a cluster, else $KUBECONFIG or ~/.kube/config.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubernetesSettings } from '../fleet/service-endpoints/config-section.js';

/** Where the pod's service account token is mounted. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** How long until a kubeconfig that could not be read is read again (a token mounted late). */
export const KUBECONFIG_RETRY_MS = 10_000;

/** loadKubeConfig, or undefined with one error line saying why (the caller reads it again later). */
export function loadKubeConfigOrSay(settings: KubernetesSettings | undefined, configDir: string, logger: Logger): KubeConfig | undefined {
  try {
    return loadKubeConfig(settings, configDir);
  } catch (err) {
    const error = (err as Error).message;
    logger.error({ event: 'kube_config_failed', error, retryMs: KUBECONFIG_RETRY_MS }, `cannot reach Kubernetes: ${error}`);
    return undefined;
  }
}

export function loadKubeConfig(settings: KubernetesSettings | undefined, configDir: string): KubeConfig {
  const kc = new KubeConfig();
  if (settings?.kubeconfig) kc.loadFromFile(path.resolve(configDir, settings.kubeconfig));
  else if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(SERVICE_ACCOUNT_TOKEN)) kc.loadFromCluster();
  else if (defaultKubeconfigs().some((f) => existsSync(f))) kc.loadFromDefault();
  // The library would otherwise make up a cluster at localhost:8080.
  else throw new Error('no kubeconfig: not in a cluster, no kubernetes.kubeconfig, $KUBECONFIG or ~/.kube/config');
  if (settings?.context) {
    if (!kc.getContextObject(settings.context)) throw new Error(`kubernetes.context: no context "${settings.context}" in the kubeconfig`);
    kc.setCurrentContext(settings.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('kubernetes: no cluster to reach (no kubeconfig, and not running in a cluster)');
  return kc;
}

/** The files `kubectl` would read: $KUBECONFIG's list, else ~/.kube/config. */
function defaultKubeconfigs(): string[] {
  const listed = process.env['KUBECONFIG'];
  if (listed) return listed.split(path.delimiter).filter((f) => f !== '');
  return [path.join(homedir(), '.kube', 'config')];
}
