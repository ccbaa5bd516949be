/**
 * One arm: both replicas behind the balancer, wrk through it, and a rolling restart under that
 * load: replica a is terminated, started again and put back once ready, then replica b. What
 * the cluster does around each termination is modelled on Kubernetes:
 *
 * - the kubelet terminates the pod (pod.ts) and, at the same moment, the endpoint controller
 *   takes it out of the Service; that reaches kube-proxy after `endpointDelaySeconds`, here the
 *   balancer's `set server ... state maint` (established connections are left alone);
 * - the pod's app gets SIGTERM too and keeps calling out for its replica's `appWorkSeconds`,
 *   then closes its pool (egress-app.ts);
 * - the new pod is put back into the Service `endpointDelaySeconds` after its readiness probe
 *   first passes (probed every 250 ms).
 */
import type { Balancer } from './balancer.js';
import { Load, type LoadResult } from './load.js';
import { EgressApp, type EgressShutdownResult } from './egress-app.js';
import type { ArmKind, Pod, Termination } from './pod.js';
import { answers, startArm, type SetupOptions } from './setup.js';

export interface Schedule {
  /** Load seconds: the arm runs at least this long, and on until the last restart is over plus `tailSeconds`. */
  readonly durationSeconds: number;
  /** Seconds into the load when each replica's termination starts (the second one waits for the first to be back). */
  readonly restartAtSeconds: readonly [number, number];
  readonly settleSeconds: number;
  readonly tailSeconds: number;
}

export interface ArmOptions extends Omit<SetupOptions, 'kind'> {
  readonly wrkBin: string;
  readonly rate: number;
  readonly threads: number;
  readonly connections: number;
  readonly endpointDelaySeconds: number;
  /** By replica, in restart order. */
  readonly appWorkSeconds: readonly number[];
  /** Arm (e)'s preStop sleep: what covers the slowest app. */
  readonly coveringSleepSeconds: number;
  readonly schedule: Schedule;
  readonly log: (line: string) => void;
}

export interface Restart {
  readonly replica: string;
  /** Seconds its app called out after SIGTERM. */
  readonly appWorkSeconds: number;
  /** Seconds into the load. */
  readonly atSeconds: number;
  readonly termination: Termination;
  readonly egress: EgressShutdownResult;
  /** Seconds from the start of the new pod to its first passing readiness probe (null: never within the bound). */
  readonly readyAfterSeconds: number | null;
  /** Whether the new pod's ingress and egress listeners answered once it was ready. */
  readonly servesWhenReady: { readonly ingress: boolean; readonly egress: boolean };
}

export interface ArmResult {
  readonly kind: ArmKind;
  readonly load: LoadResult;
  readonly restarts: readonly Restart[];
}

const READY_BOUND_MS = 30_000;
const EGRESS_PAUSE_MS = 20;
const EGRESS_TIMEOUT_MS = 2_000;

export async function runArm(kind: ArmKind, o: ArmOptions): Promise<ArmResult> {
  const setup = await startArm({ ...o, kind, ...(kind === 'prestop-covering' && { prestopSleepSeconds: o.coveringSleepSeconds }) });
  let load: Load | undefined;
  const apps = new Map<Pod, EgressApp>();
  try {
    for (const pod of setup.pods) apps.set(pod, newApp(pod));
    load = Load.start({
      bin: o.wrkBin,
      url: `http://127.0.0.1:${setup.servicePort}/app/load`,
      rate: o.rate,
      threads: o.threads,
      connections: o.connections,
      maxSeconds: o.schedule.durationSeconds + 3 * o.graceSeconds + 60,
      dir: setup.dir,
    });
    const t0 = performance.now();
    const at = (): number => (performance.now() - t0) / 1000;
    const restarts: Restart[] = [];
    let back = 0;
    for (const [i, pod] of setup.pods.entries()) {
      const startAt = Math.max(o.schedule.restartAtSeconds[i] ?? 0, back + o.schedule.settleSeconds);
      await sleep((startAt - at()) * 1000);
      if (!load.running) throw new Error('wrk exited early');
      o.log(`${kind}: terminating replica ${pod.options.name} at ${at().toFixed(1)} s`);
      const restart = await restartPod(pod, apps, setup.balancer, o, at(), o.appWorkSeconds[i] ?? 0);
      restarts.push(restart);
      back = at();
      o.log(
        `${kind}: replica ${pod.options.name} exited ${restart.termination.exitSeconds} s after termination started, ` +
          `ready again after ${restart.readyAfterSeconds ?? 'never'} s, back in the Service at ${back.toFixed(1)} s`,
      );
    }
    await sleep((Math.max(o.schedule.durationSeconds, back + o.schedule.tailSeconds) - at()) * 1000);
    const result = await load.stop();
    return { kind, load: result, restarts };
  } finally {
    if (load?.running) await load.stop().catch(() => undefined);
    await Promise.allSettled([...apps.values()].map((a) => a.stop()));
    await setup.close();
  }
}

function newApp(pod: Pod): EgressApp {
  return new EgressApp({ port: pod.options.ports.egress, pauseMs: EGRESS_PAUSE_MS, timeoutMs: EGRESS_TIMEOUT_MS });
}

/**
 * One replica's turn: terminated as the kubelet would, out of the Service after the endpoint
 * delay, started again once the old pod (app included) is gone, and back in the Service after
 * the endpoint delay once its readiness probe passes.
 */
async function restartPod(
  pod: Pod,
  appsByPod: Map<Pod, EgressApp>,
  balancer: Balancer,
  a: ArmOptions,
  atSeconds: number,
  appWork: number,
): Promise<Restart> {
  const name = pod.options.name;
  const app = appsByPod.get(pod)!;
  app.sigterm(appWork);
  const endpointRemoved = sleep(a.endpointDelaySeconds * 1000).then(() => balancer.setState(name, 'maint'));
  const termination = await pod.terminate();
  // The new pod starts once the old one is gone, app included: the old app must not reach
  // the new Envoy on the same loopback port (in a cluster they are different pods).
  const egress = await app.stop();
  await endpointRemoved;

  await pod.start();
  const started = performance.now();
  let readyAfterSeconds: number | null = null;
  while (performance.now() - started < READY_BOUND_MS && !pod.exited) {
    if (await pod.ready()) {
      readyAfterSeconds = Math.round((performance.now() - started) / 10) / 100;
      break;
    }
    await sleep(250);
  }
  // What the Service will send the new pod's traffic to, seen from outside its readiness probe.
  const servesWhenReady =
    readyAfterSeconds === null
      ? { ingress: false, egress: false }
      : { ingress: await answers(pod.options.ports.ingress), egress: await answers(pod.options.ports.egress) };
  appsByPod.set(pod, newApp(pod));
  if (readyAfterSeconds !== null) {
    await sleep(a.endpointDelaySeconds * 1000);
    await balancer.setState(name, 'ready');
  }
  return {
    replica: name,
    atSeconds: Math.round(atSeconds * 10) / 10,
    appWorkSeconds: appWork,
    termination,
    egress,
    readyAfterSeconds,
    servesWhenReady,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
