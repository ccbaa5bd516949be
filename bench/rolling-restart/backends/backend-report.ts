/** The backend-restart arms' table and targets, in the shape of report.ts's. */
import type { Target } from '../report.js';
import type { BackendArmKind, BackendArmResult } from './backend-arm.js';

export const BACKEND_ARM_TITLES: Record<BackendArmKind, string> = {
  'backend-sigterm': '(f) backend SIGTERM',
  'backend-drain': '(g) backend preStop: endpoint drain',
};

const n = (v: number): string => v.toLocaleString('en-US');

/** Requests that failed as the client saw them: no answer, or a non-2xx one. */
export function backendErrors(arm: BackendArmResult): number {
  return arm.load.unanswered + arm.load.non2xx;
}

export function backendTable(arms: readonly BackendArmResult[]): string {
  const perBackend = (arm: BackendArmResult, cell: (r: BackendArmResult['restarts'][number]) => string): string =>
    arm.restarts.map((r) => `${r.backend}: ${cell(r)}`).join(', ') || '—';
  const rows: [string, (arm: BackendArmResult) => string][] = [
    ['requests sent / answered', (a) => `${n(a.load.sent)} / ${n(a.load.requests)}`],
    ['rate: sent (answered)', (a) => `${n(a.load.offeredRate)} (${n(a.load.rate)}) req/s over ${a.load.seconds.toFixed(1)} s`],
    ['failed: no answer (sent − answered)', (a) => `**${n(a.load.unanswered)}**`],
    ['failed: non-2xx (503 from Envoy)', (a) => `**${n(a.load.non2xx)}**`],
    [
      "Envoy's app cluster: connect failures / reset with requests active",
      (a) => `${n(a.envoy.upstream_cx_connect_fail)} / ${n(a.envoy.upstream_cx_destroy_remote_with_active_rq)}`,
    ],
    ['latency p50 / p99 / max', (a) => `${a.load.latencyMs.p50} / ${a.load.latencyMs.p99} / ${a.load.latencyMs.max} ms`],
    ['preStop (endpoint drain) took', (a) => perBackend(a, (r) => (r.prestop ? `${r.prestop.seconds.toFixed(2)} s` : '—'))],
    ['SIGTERM to new backend listening', (a) => perBackend(a, (r) => `${r.downSeconds.toFixed(2)} s`)],
  ];
  const header = `| | ${arms.map((a) => BACKEND_ARM_TITLES[a.kind]).join(' | ')} |`;
  const rule = `| --- | ${arms.map(() => '---:').join(' | ')} |`;
  return [header, rule, ...rows.map(([label, cell]) => `| ${label} | ${arms.map(cell).join(' | ')} |`)].join('\n');
}

export function backendTargets(arms: readonly BackendArmResult[], minRate: number): Target[] {
  if (arms.length === 0) return [];
  const sigterm = arms.find((a) => a.kind === 'backend-sigterm');
  const drain = arms.find((a) => a.kind === 'backend-drain');
  const slow = arms.filter((a) => a.load.offeredRate < minRate);
  return [
    {
      name: `backend restarts: load of at least ${n(minRate)} req/s sent in every arm`,
      met: slow.length === 0,
      detail: arms.map((a) => `${BACKEND_ARM_TITLES[a.kind]} ${n(a.load.offeredRate)}`).join(', '),
    },
    {
      name: 'endpoint drain: 0 failed requests while plain backend SIGTERM fails in the same run',
      met: sigterm !== undefined && drain !== undefined && backendErrors(sigterm) > 0 && backendErrors(drain) === 0,
      detail: arms.map((a) => `${BACKEND_ARM_TITLES[a.kind]}: ${n(backendErrors(a))} failed`).join('; '),
    },
  ];
}
