import type { Logger } from 'pino';
import type { EnvoyAdmin } from '../admin/envoy-admin.js';
import type { DependentConfig } from '../fleet/config.js';
import type { Drain } from '../fleet/drain/model.js';
import type { PrestopResult } from '../fleet/drain/prestop-result.js';
import type { DrainRequest } from '../fleet/drain/spec.js';
import { Child, type ChildExit } from './child.js';
import { egressTimes, type ShutdownPlan } from './shutdown-plan.js';
import type { SupervisedDaemon } from './supervised-daemon.js';
import { waitForDrain } from './wait-for-drain.js';

export interface SupervisorOptions {
  readonly daemon: SupervisedDaemon;
  readonly logger: Logger;
  readonly envoyCommand: readonly string[];
  readonly dependents: readonly DependentConfig[];
  readonly plan: ShutdownPlan;
  /** The local Envoy's admin API. */
  readonly admin: EnvoyAdmin;
  /** Call /healthcheck/fail at the start of shutdown (drains DEFAULT listeners: ingress). */
  readonly healthcheckFail: boolean;
  /** Connections at or below this count as drained. */
  readonly threshold: number;
  /** Egress is removed once its listeners had no connection for this long (the app stopped calling out). */
  readonly egressQuietSeconds: number;
  readonly now?: () => number;
}

type Trigger = 'SIGTERM' | 'SIGINT' | 'prestop' | 'pod-deleted' | 'envoy-exit';

/**
 * `drainplane run`: Envoy (and the dependent processes) as children, and one budgeted shutdown:
 * readiness off and health failed, ingress modified then removed over LDS, egress removed last,
 * then Envoy stopped and the dependents after it, in order. The pod's deletion, a preStop hook
 * and SIGTERM share the same drain; whichever comes first starts it.
 */
export class Supervisor {
  readonly #now: () => number;
  #envoy: Child | undefined;
  #dependents: Child[] = [];
  #startedAt: number | undefined;
  #drain: Promise<PrestopResult> | undefined;
  #shutdown: Promise<ChildExit> | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** Starts Envoy and the dependents. Resolves with Envoy's exit once everything has stopped. */
  start(): Promise<ChildExit> {
    const { logger } = this.options;
    this.#envoy = new Child({ name: 'envoy', command: this.options.envoyCommand });
    logger.info({ event: 'envoy_started', pid: this.#envoy.pid, command: this.options.envoyCommand }, 'envoy started');
    this.#dependents = this.options.dependents.map((d) => {
      const child = new Child({ name: d.name, command: d.command });
      logger.info({ event: 'dependent_started', name: d.name, pid: child.pid }, `${d.name} started`);
      return child;
    });
    void this.#envoy.exited.then((exit) => {
      if (this.#shutdown) return;
      logger.error({ event: 'envoy_exited', ...exit }, `envoy exited by itself (code ${exit.code}); stopping`);
      void this.shutdown('envoy-exit');
    });
    return new Promise((resolve) => void this.#envoy!.exited.then(() => this.#shutdown?.then(resolve)));
  }

  /**
   * Readiness of the pod: the local Envoy has every listener its config gives it (connected,
   * ACKed its clusters and listeners, and no drain acts on them) and is LIVE. ACKing what it
   * is sent is not enough: under a drain that is a listener set with listeners missing.
   */
  async readiness(): Promise<string | null> {
    if (this.#drain) return 'shutting down';
    const { daemon } = this.options;
    const connected = daemon.nodes.list().filter((n) => n.connected);
    if (connected.length === 0) return 'envoy has not connected';
    const full = connected.filter((n) => daemon.desired.overlayOf(n.identity.id).size === 0);
    if (full.length === 0) return 'a drain acts on the listeners of envoy: it does not have its full config';
    const synced = full.some((n) => daemon.desired.inSync(n));
    if (!synced) return 'envoy has not ACKed its clusters and listeners';
    const state = await this.options.admin.ready().catch((err: Error) => `admin unreachable: ${err.message}`);
    return state === 'LIVE' ? null : `envoy is not LIVE (${state})`;
  }

  /** The drain part of shutdown (for preStop): returns when done or out of budget. Idempotent. */
  drain(trigger: Trigger): Promise<PrestopResult> {
    if (this.#drain) {
      this.options.logger.info({ event: 'shutdown_joined', trigger }, `${trigger}: joining the drain already under way`);
      return this.#drain;
    }
    this.#startedAt = this.#now();
    this.#drain = this.#runDrain(trigger);
    return this.#drain;
  }

  /** The whole shutdown: drain, then Envoy, then the dependents. Resolves with Envoy's exit. */
  shutdown(trigger: Trigger): Promise<ChildExit> {
    if (this.#shutdown) {
      this.options.logger.info({ event: 'shutdown_joined', trigger }, `${trigger}: shutdown already under way`);
      return this.#shutdown;
    }
    this.#shutdown = (async () => {
      if (trigger !== 'envoy-exit') await this.drain(trigger);
      else this.#startedAt ??= this.#now();
      return this.#stopAll();
    })();
    return this.#shutdown;
  }

  async #runDrain(trigger: Trigger): Promise<PrestopResult> {
    const { daemon, plan, logger } = this.options;
    this.#phase('shutdown', `${trigger}: shutdown started; readiness is now 503`);
    daemon.markShuttingDown();
    if (this.options.healthcheckFail) {
      await this.options.admin.healthcheckFail().then(
        () => this.#phase('healthcheck_fail', 'envoy /healthcheck/fail called: DEFAULT (ingress) listeners drain'),
        (err: Error) => logger.warn({ event: 'healthcheck_fail_failed', error: err.message }, `/healthcheck/fail failed: ${err.message}`),
      );
    }
    const ids = daemon.nodes
      .list()
      .filter((n) => n.connected)
      .map((n) => n.identity.id);
    if (ids.length === 0) {
      this.#phase('drain_skipped', 'no Envoy is connected: nothing to drain over LDS');
      return { outcome: 'drained', elapsedSeconds: this.#elapsed() };
    }
    const selector = { ids };
    let outcome: PrestopResult['outcome'] = 'drained';
    const step = async (name: string, seconds: number, body: Pick<DrainRequest, 'scope' | 'method'>, waitFull: boolean): Promise<void> => {
      if (seconds <= 0) return;
      this.#phase(name, `${name} phase (${seconds}s)`);
      const created = await daemon.drains.create(
        { selector, deadlineSeconds: seconds, threshold: this.options.threshold, ...body },
        { origin: 'shutdown' },
      );
      if ('errors' in created) {
        logger.error({ event: 'shutdown_drain_refused', phase: name, errors: created.errors }, 'drain refused');
        return;
      }
      if (waitFull) {
        await new Promise((r) => setTimeout(r, seconds * 1000));
        return;
      }
      const state = await waitForDrain(daemon.drains, created.drain.id, seconds * 1000 + 1000);
      if (state !== 'completed') outcome = 'budget-exhausted';
      this.#phase(`${name}_done`, `${name} phase ${state}`);
    };
    // Listeners still accept while endpoint removal propagates; modifying ingress now tells
    // keep-alive clients (Connection: close, GOAWAY) to reconnect elsewhere.
    await step('propagation', plan.propagationSeconds, { scope: 'ingress', method: 'modify' }, true);
    if (plan.egressSeconds <= 0) await step('ingress', plan.ingressSeconds, { scope: 'ingress', method: 'remove' }, false);
    else if (!(await this.#ingressThenEgress(selector))) outcome = 'budget-exhausted';
    this.#phase('drained', `drain ${outcome}`);
    return { outcome, elapsedSeconds: this.#elapsed() };
  }

  /**
   * Ingress removed and drained, then egress removed once the application no longer calls out:
   * one drain, so that the quiet window runs while ingress drains and an app done by then waits
   * only for what of the window is left. Egress goes once its listeners had no connection for the quiet
   * window, or when the egress phase's wait runs out (a warning says which listener held it).
   * True if both drained in time.
   */
  async #ingressThenEgress(selector: { ids: string[] }): Promise<boolean> {
    const { daemon, logger, plan, egressQuietSeconds } = this.options;
    const { waitSeconds, removalSeconds } = egressTimes(plan);
    const hasIngress = plan.ingressSeconds > 0;
    this.#phase(
      hasIngress ? 'ingress' : 'egress',
      hasIngress ? `ingress phase (${plan.ingressSeconds}s)` : this.#egressLine(waitSeconds, removalSeconds),
    );
    let id: string | undefined;
    const said = new Set<string>();
    const follow = (d: Drain): void => {
      if (d.id !== id) return;
      const ingress = hasIngress ? d.phases[0] : undefined;
      const egress = d.phases[hasIngress ? 1 : 0];
      if (ingress?.state === 'done' && !said.has('ingress')) {
        said.add('ingress');
        this.#phase('ingress_done', `ingress phase ${phaseOutcome(ingress)}`);
        this.#phase('egress', this.#egressLine(waitSeconds, removalSeconds));
      }
      if (egress?.release && !said.has('release')) {
        said.add('release');
        if (egress.release.by === 'wait') logger.warn({ event: 'egress_held', drain: d.id }, egress.release.message);
        this.#phase('egress_release', `egress released: ${egress.release.message}`);
      }
      if (egress?.state === 'done' && !said.has('egress')) {
        said.add('egress');
        this.#phase('egress_done', `egress phase ${phaseOutcome(egress)}`);
      }
    };
    const stop = daemon.drains.onChange(follow);
    try {
      const created = await daemon.drains.create(
        {
          selector,
          scope: hasIngress ? 'all' : 'egress',
          method: 'remove',
          deadlineSeconds: hasIngress ? plan.ingressSeconds : removalSeconds,
          threshold: this.options.threshold,
          egress: { after: 'egress-idle', quietSeconds: egressQuietSeconds, waitSeconds, deadlineSeconds: removalSeconds },
        },
        { origin: 'shutdown' },
      );
      if ('errors' in created) {
        logger.error({ event: 'shutdown_drain_refused', phase: 'ingress', errors: created.errors }, 'drain refused');
        return true;
      }
      id = created.drain.id;
      follow(created.drain);
      const bound = (plan.ingressSeconds + waitSeconds + removalSeconds) * 1000 + 1000;
      const state = await waitForDrain(daemon.drains, id, bound);
      return state === 'completed';
    } finally {
      stop();
    }
  }

  #egressLine(waitSeconds: number, removalSeconds: number): string {
    return (
      `egress phase: removed once the application no longer calls out (no connection for ${this.options.egressQuietSeconds}s, ` +
      `waiting ${waitSeconds}s at most), then drained (${removalSeconds}s)`
    );
  }

  async #stopAll(): Promise<ChildExit> {
    const { plan } = this.options;
    const envoy = this.#envoy!;
    this.#phase('envoy_stop', 'stopping envoy (SIGTERM, then SIGKILL)');
    const exit = await envoy.stop(plan.envoyStopSeconds * 1000);
    this.#phase('envoy_stopped', `envoy exited with code ${exit.code}`);
    for (const [i, dependent] of this.#dependents.entries()) {
      const config = this.options.dependents[i]!;
      this.#phase('dependent_stop', `stopping ${config.name}`);
      const d = await dependent.stop(config.stopTimeoutSeconds * 1000, config.stopSignal);
      this.#phase('dependent_stopped', `${config.name} exited with code ${d.code}`);
    }
    this.#phase('done', 'shutdown complete');
    return exit;
  }

  #elapsed(): number {
    return Math.round((this.#now() - (this.#startedAt ?? this.#now())) / 100) / 10;
  }

  /** One log line per phase change, with elapsed and remaining budget. */
  #phase(phase: string, message: string): void {
    const elapsed = this.#elapsed();
    const remaining = Math.round((this.options.plan.graceSeconds - elapsed) * 10) / 10;
    this.options.logger.info({ event: 'shutdown_phase', phase, elapsed, remaining }, `${message} [${elapsed}s elapsed, ${remaining}s left]`);
  }
}

/** A finished phase as one word: completed, or the worst end of one of its nodes. */
function phaseOutcome(phase: Drain['phases'][number]): string {
  if (phase.nodes.some((n) => n.state === 'failed')) return 'failed';
  if (phase.nodes.some((n) => n.state === 'timed_out')) return 'timed_out';
  return 'completed';
}
