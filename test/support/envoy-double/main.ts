/**
 * TEST DOUBLE of an Envoy process, for tests that need "an Envoy" where none can be installed:
 * a supervisor's child, a node of the fleet drainplane drains. It takes Envoy's command line,
 * reads Envoy's bootstrap, speaks SotW ADS and the metrics_service sink to the control plane,
 * serves the parts of the admin API drainplane uses, and handles signals as Envoy does. It opens
 * no listener sockets: what Envoy would do to its listeners is recorded as events instead.
 *
 *   node dist/test/support/envoy-double/main.js -c BOOTSTRAP.yaml [--drain-time-s N]
 *     [--drain-strategy gradual|immediate] [--parent-shutdown-time-s N] [--service-node ID]
 *     [--service-cluster C] [--service-zone Z] [--admin-address-path FILE] [other Envoy flags]
 *
 * Events (events.ts) go to stdout behind "[envoy-double] " and, when ENVOY_DOUBLE_EVENTS names a
 * file, are appended to it as JSON lines. Parent side: control.ts.
 *
 * Process behaviour, per ../shared/ENVOY-FACTS.md "Why the project exists" and
 * source/server/server.cc:
 * - SIGTERM and SIGINT: Envoy leaves its event loop at once, with no drain; the double records a
 *   `signal` event and exits 0. /quitquitquit takes the same path.
 * - SIGHUP: Envoy logs "caught and eating SIGHUP" and goes on; SIGUSR1 reopens access logs. Both
 *   are recorded and ignored.
 * - A bad command line or bootstrap: a message on stderr and exit code 1, before any event.
 * The rest is in the modules: bootstrap.ts, xds.ts, listeners.ts, admin.ts, metrics-sink.ts.
 */
import { writeFile } from 'node:fs/promises';
import { DoubleAdmin, startAdminApi } from './admin.js';
import { BootstrapError, readBootstrap } from './bootstrap.js';
import { EVENTS_FILE_ENV, EventRecorder } from './events.js';
import { FlagError, parseFlags } from './flags.js';
import { ListenerSet } from './listeners.js';
import { MetricsSink } from './metrics-sink.js';
import { AdsSession } from './xds.js';

const EXITING_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
const IGNORED_SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGUSR1'];

async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const bootstrap = await readBootstrap(flags);
  const events = new EventRecorder(process.env[EVENTS_FILE_ENV] || undefined);

  for (const signal of EXITING_SIGNALS) {
    process.on(signal, () => {
      events.record({ type: 'signal', signal, action: 'exit' });
      process.exit(0);
    });
  }
  for (const signal of IGNORED_SIGNALS) {
    process.on(signal, () => events.record({ type: 'signal', signal, action: 'ignored' }));
  }

  const api = await startAdminApi({
    node: bootstrap.node,
    drainTimeS: flags.drainTimeS,
    drainStrategy: flags.drainStrategy,
    parentShutdownTimeS: flags.parentShutdownTimeS,
  });
  const listeners = new ListenerSet({ events, drainTimeS: flags.drainTimeS, drainStrategy: flags.drainStrategy, stats: api.gauges });
  const admin = await DoubleAdmin.start({ ...bootstrap.admin, api, listeners, events, onQuit: () => process.exit(0) });
  if (flags.adminAddressPath) await writeFile(flags.adminAddressPath, admin.address);

  if (flags.ignored.length > 0) note(`ignoring flags not modelled: ${flags.ignored.join(' ')}`);
  for (const key of bootstrap.unsentMetadata) note(`node.metadata.${key} is not a string and is not sent`);
  events.record({
    type: 'started',
    node: { id: bootstrap.node.id, cluster: bootstrap.node.cluster },
    admin_address: admin.address,
    xds_address: bootstrap.xdsAddress,
    drain_time_s: flags.drainTimeS,
    drain_strategy: flags.drainStrategy,
    metrics_sink: bootstrap.metricsSink?.address ?? null,
    stats_flush_interval_ms: bootstrap.statsFlushIntervalMs,
    ignored_flags: flags.ignored,
  });

  new AdsSession({
    address: bootstrap.xdsAddress,
    node: bootstrap.node,
    nodeOnFirstMessageOnly: bootstrap.nodeOnFirstMessageOnly,
    listeners,
    events,
    onState: (state) => {
      admin.setState(state);
      events.record({ type: 'server_state', state });
    },
  }).start();

  if (bootstrap.metricsSink) {
    const { address, emitTagsAsLabels } = bootstrap.metricsSink;
    new MetricsSink({
      address,
      nodeId: bootstrap.node.id,
      emitTagsAsLabels,
      flushIntervalMs: bootstrap.statsFlushIntervalMs,
      gauges: () => admin.connections,
      events,
    }).start();
  }
}

function note(message: string): void {
  process.stderr.write(`envoy double: ${message}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof FlagError || err instanceof BootstrapError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`envoy double failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
