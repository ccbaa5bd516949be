import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvoyAdmin } from '../admin/envoy-admin.js';
import { DRAIN_DEFAULTS } from '../fleet/drain/spec.js';
import { checkDrainFlags, withDrainFlags } from '../supervisor/envoy-args.js';
import { envoyDrainTimeSeconds, planShutdown } from '../supervisor/shutdown-plan.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { followOwnPod } from '../kube/own-pod.js';
import { parseFlags, portFlag } from './args.js';
import { createDaemon, daemonLogger, exitAfterStop, listenDaemon } from './daemon-start.js';
import { CliError } from './errors.js';
import { RETENTION_FLAGS, RETENTION_HELP, retentionOptions } from './retention-flags.js';

/** How often run reads its Envoy's connection gauges and evaluates its drains. */
const RUN_READ_MS = 100;

const BUNDLED_CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../envoy/drainplane.yaml');

const HELP = `usage: drainplane run [--config FILE] [options] -- ENVOY_COMMAND...

Runs the control plane and Envoy (and the config's dependent processes) in a pod. On SIGTERM or
SIGINT, or a preStop hook, it runs one budgeted shutdown: readiness 503 and /healthcheck/fail,
ingress listeners modified then removed over LDS, egress removed once ingress has drained and
the application no longer calls out (its egress connections are gone), then Envoy stopped
(SIGTERM, SIGKILL after a bound) and the dependents after it. Exits with Envoy's exit code.

options (environment variable in brackets):
  --config FILE              fleet config [DRAINPLANE_CONFIG] (default: the bundled demo)
  --grace-period S           the pod's terminationGracePeriodSeconds [TERMINATION_GRACE_PERIOD_SECONDS] (30)
  --propagation-delay S      time for endpoint removal to propagate [DRAINPLANE_PROPAGATION_DELAY] (5)
  --ingress-deadline S       ingress drain phase [DRAINPLANE_INGRESS_DEADLINE] (from the budget)
  --egress-deadline S        egress drain phase [DRAINPLANE_EGRESS_DEADLINE] (from the budget)
  --threshold N              connections that count as drained [DRAINPLANE_THRESHOLD] (0)
  --egress-quiet S           egress is removed once its listeners had no connection this long
                             (the app stopped calling out), at the latest by the egress
                             deadline [DRAINPLANE_EGRESS_QUIET] (0.5)
  --envoy-admin HOST:PORT    the local Envoy's admin API [ENVOY_ADMIN_ADDRESS] (127.0.0.1:9901)
  --no-healthcheck-fail      do not call /healthcheck/fail at the start of shutdown
  --envoy-stop-timeout S     SIGTERM to SIGKILL bound for Envoy [DRAINPLANE_ENVOY_STOP_TIMEOUT] (2)
  --probe-host ADDR          address of the probe port [DRAINPLANE_PROBE_HOST] (0.0.0.0)
  --pod-name NAME --pod-namespace NS
                             this pod [POD_NAME, POD_NAMESPACE]: its deletion starts the drain
                             at once, before the preStop hook (needs get, list and watch on pods)
  --xds-port N --api-port N --probe-port N --state-dir DIR --log-level L
The probe port (default 9903, 0 = off) serves only /healthz and /readyz, for kubelet probes; the
API stays on 127.0.0.1. /readyz is 200 only while the local Envoy is LIVE and has the listeners
its config gives it (no drain acts on them).

A restart on the same --state-dir starts a new Envoy: the drains of earlier shutdowns are kept
as history (GET /v1/drains) and no longer act, so the new Envoy gets its full config.

${RETENTION_HELP}`;

function seconds(name: string, flag: unknown, env: string, fallback?: number): number | undefined {
  const raw = (flag as string | undefined) ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new CliError(`--${name} (${env}) must be a number >= 0, got "${raw}"`);
  return value;
}

export async function runCommand(args: string[]): Promise<number> {
  const split = args.indexOf('--');
  const own = split < 0 ? args : args.slice(0, split);
  const envoyCommand = split < 0 ? [] : args.slice(split + 1);
  const flags = parseFlags(
    'run',
    own,
    {
      config: { type: 'string' },
      'grace-period': { type: 'string' },
      'propagation-delay': { type: 'string' },
      'ingress-deadline': { type: 'string' },
      'egress-deadline': { type: 'string' },
      threshold: { type: 'string' },
      'egress-quiet': { type: 'string' },
      'envoy-admin': { type: 'string' },
      'no-healthcheck-fail': { type: 'boolean' },
      'envoy-stop-timeout': { type: 'string' },
      'xds-port': { type: 'string' },
      'api-port': { type: 'string' },
      'probe-port': { type: 'string' },
      'probe-host': { type: 'string' },
      'state-dir': { type: 'string' },
      'log-level': { type: 'string' },
      'pod-name': { type: 'string' },
      'pod-namespace': { type: 'string' },
      ...RETENTION_FLAGS,
    },
    HELP,
  );
  if (!flags) return 0;
  if (envoyCommand.length === 0) throw new CliError(`run: give the Envoy command after --\n\n${HELP}`);
  try {
    checkDrainFlags(envoyCommand);
  } catch (err) {
    throw new CliError(`run: ${(err as Error).message}`);
  }
  const v = flags.values;
  const logger = daemonLogger(v['log-level']);
  const envoyStop = seconds('envoy-stop-timeout', v['envoy-stop-timeout'], 'DRAINPLANE_ENVOY_STOP_TIMEOUT');
  const ingress = seconds('ingress-deadline', v['ingress-deadline'], 'DRAINPLANE_INGRESS_DEADLINE');
  const egress = seconds('egress-deadline', v['egress-deadline'], 'DRAINPLANE_EGRESS_DEADLINE');
  const propagation = seconds('propagation-delay', v['propagation-delay'], 'DRAINPLANE_PROPAGATION_DELAY');
  const configFile = (v['config'] as string | undefined) ?? process.env['DRAINPLANE_CONFIG'] ?? BUNDLED_CONFIG;
  const adminAddress = (v['envoy-admin'] as string | undefined) ?? process.env['ENVOY_ADMIN_ADDRESS'] ?? '127.0.0.1:9901';
  const threshold = seconds('threshold', v['threshold'], 'DRAINPLANE_THRESHOLD', 0)!;
  const egressQuiet = seconds('egress-quiet', v['egress-quiet'], 'DRAINPLANE_EGRESS_QUIET', DRAIN_DEFAULTS.egressQuietSeconds)!;

  const daemon = await createDaemon({
    configFile,
    xdsHost: '127.0.0.1',
    xdsPort: portFlag('xds-port', v['xds-port'], 18000),
    apiHost: '127.0.0.1',
    apiPort: portFlag('api-port', v['api-port'], 9902),
    probePort: portFlag('probe-port', v['probe-port'], 9903),
    probeHost: (v['probe-host'] as string | undefined) ?? process.env['DRAINPLANE_PROBE_HOST'] ?? '0.0.0.0',
    stateDir: (v['state-dir'] as string | undefined) ?? '/tmp/drainplane',
    logger,
    localAdminAddress: adminAddress,
    // One Envoy on loopback: its /stats are cheap to read, and each reading and evaluation
    // saved is time the pod's shutdown no longer waits (ingress drained, egress idle).
    gaugePollMs: RUN_READ_MS,
    drainTickMs: RUN_READ_MS,
    drainRetention: retentionOptions(v),
    // The Envoy an earlier shutdown drained is gone (this process starts a new one): what that
    // shutdown did is history, or the new Envoy would be sent the drained listener set.
    retireOnStart: {
      which: (drain) => drain.origin === 'shutdown',
      reason: 'drainplane run restarted: the Envoy this shutdown drained is gone, and the new one serves its full config',
    },
  });
  const dependents = daemon.config.current.dependents;
  const plan = planShutdown({
    graceSeconds: seconds('grace-period', v['grace-period'], 'TERMINATION_GRACE_PERIOD_SECONDS', 30)!,
    ...(propagation !== undefined && { propagationSeconds: propagation }),
    ...(ingress !== undefined && { ingressSeconds: ingress }),
    ...(egress !== undefined && { egressSeconds: egress }),
    ...(envoyStop !== undefined && { envoyStopSeconds: envoyStop }),
    dependentStopSeconds: dependents.map((d) => d.stopTimeoutSeconds),
  });
  for (const warning of plan.warnings) logger.warn({ event: 'plan_warning' }, warning);
  const envoyArgs = withDrainFlags(envoyCommand, envoyDrainTimeSeconds(plan));
  for (const warning of envoyArgs.warnings) logger.warn({ event: 'envoy_flags_warning' }, warning);
  logger.info({ event: 'shutdown_plan', ...plan, warnings: undefined }, 'shutdown plan');

  const admin = new EnvoyAdmin({ address: adminAddress, timeoutMs: 1000 });
  const supervisor = new Supervisor({
    daemon,
    logger,
    envoyCommand: envoyArgs.argv,
    dependents,
    plan,
    admin,
    healthcheckFail: v['no-healthcheck-fail'] !== true,
    threshold,
    egressQuietSeconds: egressQuiet,
  });
  await listenDaemon(daemon, { readiness: () => supervisor.readiness(), prestop: () => supervisor.drain('prestop') });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void supervisor.shutdown(signal));
  process.on('SIGHUP', () => void daemon.reload());
  const stopPodWatch = followOwnPod({
    name: (v['pod-name'] as string | undefined) ?? process.env['POD_NAME'],
    namespace: (v['pod-namespace'] as string | undefined) ?? process.env['POD_NAMESPACE'],
    settings: daemon.config.current.kubernetes,
    configDir: path.dirname(configFile),
    logger,
    // The drain only: SIGTERM, which the kubelet sends after the preStop hook, stops Envoy.
    onDeleting: () => void supervisor.drain('pod-deleted'),
  });
  const exit = await supervisor.start();
  stopPodWatch();
  await daemon.close();
  await admin.close();
  logger.info({ event: 'exit', code: exit.code }, `drainplane exits with envoy's code ${exit.code}`);
  return exitAfterStop(exit.code);
}
