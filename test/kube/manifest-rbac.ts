/**
 * The RBAC objects of a shipped manifest (ServiceAccount, Role, RoleBinding), as YAML to apply:
 * suites run drainplane with the token of that account, so what the manifest grants is tested
 * to be enough, not only to be accepted.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeCluster } from '../support/kube-cluster.js';

const DEPLOY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../deploy/kubernetes');
const RBAC_KINDS = new Set(['ServiceAccount', 'Role', 'RoleBinding']);

/** The file's objects of `kinds` (default: its RBAC objects) as one YAML stream. */
export function manifestObjects(file: string, kinds: ReadonlySet<string> = RBAC_KINDS): string {
  return parseAllDocuments(readFileSync(path.join(DEPLOY, file), 'utf8'))
    .map((d) => d.toJS() as { kind: string })
    .filter((o) => kinds.has(o.kind))
    .map((o) => stringify(o))
    .join('---\n');
}

export interface ShippedAccount {
  /** The manifest that makes the account. */
  readonly file: string;
  /** The account's namespace and name. */
  readonly namespace: string;
  readonly name: string;
  /** Where its Role and RoleBinding go: the namespace of what it reads. */
  readonly roleNamespace: string;
}

/** Makes a manifest's account and grants as the file writes them; returns a kubeconfig with its token. */
export async function shippedAccount(cluster: KubeCluster, account: ShippedAccount): Promise<string> {
  await grantShippedAccount(cluster, account);
  return cluster.serviceAccountKubeconfig(account.namespace, account.name);
}

/** Makes a manifest's account and grants as the file writes them. */
export async function grantShippedAccount(cluster: KubeCluster, account: ShippedAccount): Promise<void> {
  for (const namespace of new Set([account.namespace, account.roleNamespace])) {
    await cluster.kubectl(['create', 'namespace', namespace]).catch((err: Error) => {
      if (!/AlreadyExists/.test(err.message)) throw err;
    });
  }
  await cluster.kubectl(['apply', '-f', '-', `--namespace=${account.namespace}`], manifestObjects(account.file, new Set(['ServiceAccount'])));
  await cluster.kubectl(
    ['apply', '-f', '-', `--namespace=${account.roleNamespace}`],
    manifestObjects(account.file, new Set(['Role', 'RoleBinding'])),
  );
}
