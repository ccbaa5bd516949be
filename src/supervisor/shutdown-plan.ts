/**
 * The pod shutdown plan: one time budget, the pod's terminationGracePeriodSeconds, split into
 * phases that must all fit before the kubelet's SIGKILL:
 *
 *   propagation  readiness is 503 (and /healthcheck/fail called) while listeners still accept,
 *                so endpoint removal reaches the load balancers; ingress listeners are modified
 *                at its start, so keep-alive clients are told to reconnect elsewhere;
 *   ingress      ingress listeners removed over LDS; wait for their connections to drain;
 *   egress       egress listeners removed; the application could call out until now;
 *   envoy stop   SIGTERM to Envoy, SIGKILL after a bound;
 *   dependents   each stopped in turn;
 *   margin       kept free before the kubelet's SIGKILL.
 */

export interface PlanInput {
  /** terminationGracePeriodSeconds. */
  readonly graceSeconds: number;
  readonly propagationSeconds?: number;
  readonly ingressSeconds?: number;
  readonly egressSeconds?: number;
  readonly envoyStopSeconds?: number;
  readonly marginSeconds?: number;
  /** Stop bounds of the dependent processes, in stop order. */
  readonly dependentStopSeconds?: readonly number[];
}

export interface ShutdownPlan {
  readonly graceSeconds: number;
  readonly propagationSeconds: number;
  readonly ingressSeconds: number;
  readonly egressSeconds: number;
  readonly envoyStopSeconds: number;
  readonly marginSeconds: number;
  readonly dependentStopSeconds: readonly number[];
  /** Said once at start-up when the asked-for phases did not fit and were shortened. */
  readonly warnings: readonly string[];
}

export const PLAN_DEFAULTS = {
  graceSeconds: 30,
  propagationSeconds: 5,
  envoyStopSeconds: 2,
  marginSeconds: 2,
  /** Of what is left for draining, ingress gets this share and egress the rest. */
  ingressShare: 2 / 3,
} as const;

const round = (s: number): number => Math.round(s * 1000) / 1000;

export function planShutdown(input: PlanInput): ShutdownPlan {
  const grace = input.graceSeconds;
  const margin = input.marginSeconds ?? Math.min(PLAN_DEFAULTS.marginSeconds, grace / 10);
  const envoyStop = input.envoyStopSeconds ?? PLAN_DEFAULTS.envoyStopSeconds;
  const dependents = input.dependentStopSeconds ?? [];
  const fixed = margin + envoyStop + dependents.reduce((a, b) => a + b, 0);
  const drainBudget = Math.max(0, grace - fixed);
  const propagation = input.propagationSeconds ?? Math.min(PLAN_DEFAULTS.propagationSeconds, drainBudget / 4);
  const left = Math.max(0, drainBudget - propagation);
  const ingress = input.ingressSeconds ?? left * PLAN_DEFAULTS.ingressShare;
  const egress = input.egressSeconds ?? left - (input.ingressSeconds === undefined ? ingress : Math.min(ingress, left));
  const asked = propagation + ingress + Math.max(0, egress);
  const warnings: string[] = [];
  let scale = 1;
  if (asked > drainBudget + 1e-9) {
    scale = asked === 0 ? 0 : drainBudget / asked;
    warnings.push(
      `the shutdown phases do not fit the grace period: ${grace}s - margin ${margin}s - envoy stop ${envoyStop}s` +
        (dependents.length ? ` - dependents ${dependents.join('+')}s` : '') +
        ` leaves ${round(drainBudget)}s, but propagation ${round(propagation)}s + ingress ${round(ingress)}s + egress ${round(Math.max(0, egress))}s` +
        ` = ${round(asked)}s; each is shortened to ${Math.round(scale * 100)}%`,
    );
  }
  if (fixed > grace) {
    warnings.push(`margin, envoy stop and dependent stops alone (${round(fixed)}s) exceed the grace period (${grace}s)`);
  }
  return {
    graceSeconds: grace,
    propagationSeconds: round(propagation * scale),
    ingressSeconds: round(ingress * scale),
    egressSeconds: round(Math.max(0, egress) * scale),
    envoyStopSeconds: envoyStop,
    marginSeconds: margin,
    dependentStopSeconds: dependents,
    warnings,
  };
}

/** Seconds Envoy must keep draining removed listeners before it closes what is left. */
export function envoyDrainTimeSeconds(plan: ShutdownPlan): number {
  return Math.max(1, Math.ceil(plan.propagationSeconds + plan.ingressSeconds + plan.egressSeconds));
}

/**
 * The egress phase (the plan's egress seconds, from when ingress has drained): a wait for the
 * application to stop calling out, then the removal. The removal keeps a short share (at most
 * 1 s: by then nothing is meant to call out, and requests still in flight on a held connection
 * get `Connection: close`); the wait has the rest.
 */
export const EGRESS_REMOVAL_SECONDS = 1;

export function egressTimes(plan: ShutdownPlan): { waitSeconds: number; removalSeconds: number } {
  const removal = Math.min(EGRESS_REMOVAL_SECONDS, plan.egressSeconds / 2);
  return { waitSeconds: round(plan.egressSeconds - removal), removalSeconds: round(removal) };
}
