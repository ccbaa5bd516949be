/**
 * How drainplane reaches the Kubernetes API: the config's `kubernetes.kubeconfig` (relative to
 * the config file's folder) and `context`; without a kubeconfig, the pod's service account when
 * running in a cluster, else $KUBECONFIG or ~/.kube/config.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesSettings } from '../fleet/service-endpoints/config-section.js';

/** Where the pod's service account token is mounted. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function loadKubeConfig(settings: KubernetesSettings | undefined, configDir: string): KubeConfig {
  const kc = new KubeConfig();
  if (settings?.kubeconfig) kc.loadFromFile(path.resolve(configDir, settings.kubeconfig));
  else if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(SERVICE_ACCOUNT_TOKEN)) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (settings?.context) {
    if (!kc.getContextObject(settings.context)) throw new Error(`kubernetes.context: no context "${settings.context}" in the kubeconfig`);
    kc.setCurrentContext(settings.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('kubernetes: no cluster to reach (no kubeconfig, and not running in a cluster)');
  return kc;
}
