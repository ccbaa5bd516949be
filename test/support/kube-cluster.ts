/**
 * A throwaway Kubernetes control plane for tests: a real kube-apiserver on its own etcd and a
 * real kube-controller-manager running the EndpointSlice and ServiceAccount controllers, all on
 * 127.0.0.1 with free ports and a temp folder. No kubelet or scheduler runs: pods are bound by
 * giving them a `nodeName`, and made ready by patching their status (`readyPod`).
 * The binaries come from scripts/kube.mjs (`node scripts/kube.mjs install`).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdInstalled, ETCD_BIN, freePort, TestEtcd } from './etcd.js';
import { KubeProcess } from './kube-process.js';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/kube.mjs');
const kubeScript = (await import(SCRIPT)) as { kubeBinDir(): string; BINARIES: readonly string[] };

/** Where the binaries are looked for: $KUBE_BIN_DIR, else the pinned version's build folder. */
export const KUBE_BIN_DIR = kubeScript.kubeBinDir();

export function kubeInstalled(): boolean {
  try {
    for (const bin of kubeScript.BINARIES) accessSync(path.join(KUBE_BIN_DIR, bin), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What is missing to start a cluster, or undefined. */
function missing(): string | undefined {
  if (!kubeInstalled()) return `no Kubernetes binaries in ${KUBE_BIN_DIR} (node scripts/kube.mjs install)`;
  if (!etcdInstalled()) return `no etcd binary at ${ETCD_BIN} (apt-get install etcd-server)`;
  return undefined;
}

/**
 * The `skip` option of a suite that needs a cluster: one `skipped:` line where the binaries or
 * etcd are missing, except under CI=true, where the suite runs and fails on what is missing.
 */
export function skipWithoutKube(): string | false {
  const why = missing();
  return why === undefined || process.env['CI'] === 'true' ? false : `skipped: ${why}`;
}

export interface KubeClusterOptions {
  /** Bound on the whole start (etcd, API server ready, controllers running); 90 s by default. */
  readonly startTimeoutMs?: number;
}

export interface KubeCluster {
  /** A kubeconfig file whose user is an admin (group system:masters) of this cluster. */
  readonly kubeconfig: string;
  /** The API server's https URL, on 127.0.0.1. */
  readonly server: string;
  /** A PEM file of the CA that signed the API server's certificate (and the certificate itself). */
  readonly caFile: string;
  /** A bearer token of the admin user, for clients other than kubectl. */
  readonly token: string;
  /** Runs kubectl on this cluster; resolves to its stdout, rejects with its stderr. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /** `kubectl apply` of YAML (or JSON) text. */
  apply(yaml: string): Promise<string>;
  /** A Node object, so the EndpointSlice controller takes pods bound to it (`spec.nodeName`). */
  createNode(name: string): Promise<void>;
  /**
   * A kubeconfig file whose user is a ServiceAccount (a token the API server issues for it):
   * what a pod running as that account can do, RBAC and all.
   */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /** Stops the API server (its clients' watches break), waits `downMs`, and starts it again on the same port and etcd. */
  restartApiServer(downMs?: number): Promise<void>;
  /** A token the API server issues for a ServiceAccount (valid for an hour). */
  serviceAccountToken(namespace: string, name: string): Promise<string>;
  /** What a kubelet would report of a started pod: Running, Ready, at `podIP`. */
  readyPod(namespace: string, name: string, podIP: string): Promise<void>;
  /** Stops every process and removes the temp folder. */
  stop(): Promise<void>;
}

const KUBECTL_TIMEOUT_MS = 60_000;

export async function startKubeCluster(options: KubeClusterOptions = {}): Promise<KubeCluster> {
  const why = missing();
  if (why !== undefined) throw new Error(why);
  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-kube-'));
  const processes: KubeProcess[] = [];
  let etcd: TestEtcd | undefined;
  const stop = async (): Promise<void> => {
    // Controllers first: they would only log errors while the API server goes away.
    for (const p of [...processes].reverse()) await p.stop();
    await etcd?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    etcd = await TestEtcd.start();
    const files = await writeAuthFiles(dir);
    const apiPort = await freePort();
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserverArgs = [
      `--etcd-servers=http://${etcd.endpoint}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      // A self-signed serving certificate (and its CA) written here; 127.0.0.1 is one of its names.
      `--cert-dir=${path.join(dir, 'certs')}`,
      // It refuses a loopback advertise address unless it leaves the `kubernetes` Service's endpoints alone.
      '--endpoint-reconciler-type=none',
      '--service-cluster-ip-range=10.96.0.0/16',
      `--token-auth-file=${files.tokens}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-key-file=${files.saPublic}`,
      `--service-account-signing-key-file=${files.saPrivate}`,
      '--service-account-issuer=https://kubernetes.default.svc',
    ];
    let apiserver = KubeProcess.start(path.join(KUBE_BIN_DIR, 'kube-apiserver'), apiserverArgs);
    processes.push(apiserver);
    const caFile = path.join(dir, 'certs', 'apiserver.crt');
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigText(server, caFile, files.adminToken));
    const kubectl = (args: readonly string[], input?: string): Promise<string> =>
      run(path.join(KUBE_BIN_DIR, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], input);

    await apiserver.waitFor('kube-apiserver /readyz', async () => (await kubectl(['get', '--raw=/readyz'])) === 'ok', deadline - Date.now());

    const managerPort = await freePort();
    const manager = KubeProcess.start(path.join(KUBE_BIN_DIR, 'kube-controller-manager'), [
      `--kubeconfig=${kubeconfig}`,
      // EndpointSlices are what the product reads; the ServiceAccount controller makes each
      // namespace's `default` ServiceAccount, without which the API server refuses pods.
      '--controllers=endpointslice,serviceaccount',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${managerPort}`,
      `--cert-dir=${path.join(dir, 'controller-manager-certs')}`,
    ]);
    processes.push(manager);
    // Running, as seen from the API: the ServiceAccount controller made the first namespace's account.
    await manager.waitFor(
      'kube-controller-manager to create the default ServiceAccount',
      async () => (await kubectl(['get', 'serviceaccount', 'default', '--namespace=default', '-o', 'name'])).trim() !== '',
      deadline - Date.now(),
    );

    const serviceAccountToken = async (namespace: string, name: string): Promise<string> =>
      (await kubectl(['create', 'token', name, `--namespace=${namespace}`, '--duration=1h'])).trim();
    return {
      kubeconfig,
      server,
      caFile,
      token: files.adminToken,
      kubectl,
      apply: (yaml) => kubectl(['apply', '-f', '-'], yaml),
      serviceAccountToken,
      async restartApiServer(downMs = 0) {
        await apiserver.stop();
        await new Promise((r) => setTimeout(r, downMs));
        const next = KubeProcess.start(path.join(KUBE_BIN_DIR, 'kube-apiserver'), apiserverArgs);
        processes.splice(processes.indexOf(apiserver), 1, next);
        apiserver = next;
        await next.waitFor(
          'kube-apiserver /readyz after a restart',
          async () => (await kubectl(['get', '--raw=/readyz']).catch(() => '')) === 'ok',
          60_000,
        );
      },
      async serviceAccountKubeconfig(namespace, name) {
        const token = await serviceAccountToken(namespace, name);
        const file = path.join(dir, `kubeconfig-${namespace}-${name}`);
        await writeFile(file, kubeconfigText(server, caFile, token));
        return file;
      },
      async createNode(name) {
        await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name } }));
      },
      async readyPod(namespace, name, podIP) {
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
          type,
          status: 'True',
          lastTransitionTime: now,
        }));
        const status = { phase: 'Running', podIP, podIPs: [{ ip: podIP }], startTime: now, conditions };
        await kubectl([
          'patch',
          'pod',
          name,
          `--namespace=${namespace}`,
          '--subresource=status',
          '--type=merge',
          `--patch=${JSON.stringify({ status })}`,
        ]);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface AuthFiles {
  readonly tokens: string;
  readonly adminToken: string;
  readonly saPublic: string;
  readonly saPrivate: string;
}

/** A static admin token, and the key pair service-account tokens are signed with. */
async function writeAuthFiles(dir: string): Promise<AuthFiles> {
  const adminToken = randomBytes(24).toString('hex');
  const tokens = path.join(dir, 'tokens.csv');
  await writeFile(tokens, `${adminToken},admin,admin,system:masters\n`);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const saPublic = path.join(dir, 'sa.pub');
  const saPrivate = path.join(dir, 'sa.key');
  await writeFile(saPublic, publicKey);
  await writeFile(saPrivate, privateKey, { mode: 0o600 });
  return { tokens, adminToken, saPublic, saPrivate };
}

/** JSON is YAML: kubectl reads it as a kubeconfig. */
function kubeconfigText(server: string, ca: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority': ca } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin' } }],
    'current-context': 'test',
  });
}

function run(bin: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: KUBECTL_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`kubectl ${args.slice(1).join(' ')} exited with ${code ?? signal}: ${stderr.trim()}`));
    });
    child.stdin.end(input ?? '');
  });
}
