/** The rolling-restart results: the table for people, the targets, and the JSON record. */
import type { ArmResult } from './arm.js';
import type { ArmKind } from './pod.js';

export const ARM_TITLES: Record<ArmKind, string> = {
  sigterm: '(a) plain SIGTERM',
  prestop: '(b) Envoy preStop, default sleep',
  'prestop-covering': '(e) Envoy preStop, sleep covers slowest app',
  drainplane: '(c) drainplane run',
  'drainplane-kept-state': '(d) run, kept state',
};

export interface Target {
  readonly name: string;
  readonly met: boolean;
  readonly detail: string;
}

const n = (v: number): string => v.toLocaleString('en-US');
const s = (v: number | null): string => (v === null ? '—' : `${v.toFixed(2)} s`);

/** Requests that failed as the client saw them: no answer, or a non-2xx one. */
export function inboundErrors(arm: ArmResult): number {
  return arm.load.unanswered + arm.load.non2xx;
}

export function egressErrors(arm: ArmResult): number {
  return arm.restarts.reduce((sum, r) => sum + r.egress.errors, 0);
}

function meanExitSeconds(arm: ArmResult): number {
  return arm.restarts.reduce((sum, r) => sum + r.termination.exitSeconds, 0) / Math.max(1, arm.restarts.length);
}

export function markdownTable(arms: readonly ArmResult[]): string {
  const perReplica = (arm: ArmResult, cell: (r: ArmResult['restarts'][number]) => string): string =>
    arm.restarts.map((r) => `${r.replica}: ${cell(r)}`).join(', ') || '—';
  const rows: [string, (arm: ArmResult) => string][] = [
    ['requests sent / answered', (a) => `${n(a.load.sent)} / ${n(a.load.requests)}`],
    ['rate: sent (answered)', (a) => `${n(a.load.offeredRate)} (${n(a.load.rate)}) req/s over ${a.load.seconds.toFixed(1)} s`],
    ['failed: no answer (sent − answered)', (a) => `**${n(a.load.unanswered)}**`],
    ['failed: non-2xx', (a) => `**${n(a.load.non2xx)}**`],
    [
      'socket errors wrk counted (connect/read/write/timeout)',
      (a) => `${n(a.load.socketErrors)} (${a.load.errors.connect}/${a.load.errors.read}/${a.load.errors.write}/${a.load.errors.timeout})`,
    ],
    ['latency p50 / p99 / max', (a) => `${a.load.latencyMs.p50} / ${a.load.latencyMs.p99} / ${a.load.latencyMs.max} ms`],
    ["app's egress work after SIGTERM", (a) => perReplica(a, (r) => `${r.appWorkSeconds} s`)],
    [
      'termination to exit',
      (a) => perReplica(a, (r) => `${s(r.termination.exitSeconds)}${r.termination.killedAtGrace ? ' (SIGKILL at grace)' : ''}`),
    ],
    [
      "egress errors in the app's shutdown window",
      (a) => `**${n(egressErrors(a))}** (${perReplica(a, (r) => `${r.egress.errors} of ${r.egress.calls}`)})`,
    ],
    [
      'egress last usable / first failed after SIGTERM',
      (a) => perReplica(a, (r) => `${s(r.egress.lastOkSeconds)} / ${s(r.egress.firstErrorSeconds)}`),
    ],
    ['new pod ready after', (a) => perReplica(a, (r) => s(r.readyAfterSeconds))],
    [
      'new pod serves when ready (ingress/egress)',
      (a) => perReplica(a, (r) => `${r.servesWhenReady.ingress ? 'yes' : 'NO'}/${r.servesWhenReady.egress ? 'yes' : 'NO'}`),
    ],
  ];
  const header = `| | ${arms.map((a) => ARM_TITLES[a.kind]).join(' | ')} |`;
  const rule = `| --- | ${arms.map(() => '---:').join(' | ')} |`;
  return [header, rule, ...rows.map(([label, cell]) => `| ${label} | ${arms.map(cell).join(' | ')} |`)].join('\n');
}

export function evaluateTargets(arms: readonly ArmResult[], minRate: number): Target[] {
  const arm = (kind: ArmKind): ArmResult | undefined => arms.find((a) => a.kind === kind);
  const targets: Target[] = [];

  // Offered load: an arm whose replica refuses connections answers fewer requests than it was sent.
  const slow = arms.filter((a) => a.load.offeredRate < minRate);
  targets.push({
    name: `load of at least ${n(minRate)} req/s sent in every arm`,
    met: arms.length > 0 && slow.length === 0,
    detail: arms.map((a) => `${ARM_TITLES[a.kind]} ${n(a.load.offeredRate)}`).join(', '),
  });

  const sigterm = arm('sigterm');
  const drainplaneArms = arms.filter((a) => a.kind === 'drainplane' || a.kind === 'drainplane-kept-state');
  const errorsOf = (a: ArmResult): string => `${ARM_TITLES[a.kind]}: ${n(inboundErrors(a))} failed requests, ${n(egressErrors(a))} egress errors`;
  targets.push({
    name: 'drainplane: 0 errors in each of its arms while plain SIGTERM fails in the same run',
    met:
      sigterm !== undefined &&
      inboundErrors(sigterm) > 0 &&
      drainplaneArms.length > 0 &&
      drainplaneArms.every((a) => inboundErrors(a) + egressErrors(a) === 0),
    detail: [...(sigterm ? [sigterm] : []), ...drainplaneArms].map(errorsOf).join('; ') || 'arms not run',
  });

  // Against each preStop arm: better on shutdown time or on egress errors, at equal zero inbound errors.
  const drainplane = arm('drainplane');
  for (const kind of ['prestop', 'prestop-covering'] as const) {
    const prestop = arm(kind);
    const name = `drainplane better than ${ARM_TITLES[kind]} on shutdown time or egress errors, at equal zero inbound errors`;
    if (!prestop || !drainplane) {
      targets.push({ name, met: false, detail: `arms ${ARM_TITLES[kind]} and (c) not both run` });
      continue;
    }
    const equalZero = inboundErrors(prestop) === 0 && inboundErrors(drainplane) === 0;
    const faster = meanExitSeconds(drainplane) < meanExitSeconds(prestop);
    const fewerEgress = egressErrors(drainplane) < egressErrors(prestop);
    targets.push({
      name,
      met: equalZero && (faster || fewerEgress),
      detail:
        `inbound errors ${n(inboundErrors(prestop))} vs (c) ${n(inboundErrors(drainplane))}; ` +
        `mean termination to exit ${s(meanExitSeconds(prestop))} vs (c) ${s(meanExitSeconds(drainplane))}; ` +
        `egress errors ${n(egressErrors(prestop))} vs (c) ${n(egressErrors(drainplane))}`,
    });
  }
  return targets;
}

export function targetLines(targets: readonly Target[]): string {
  return targets.map((t) => `- ${t.name}: ${t.met ? 'met' : 'not met'} (${t.detail})`).join('\n');
}
