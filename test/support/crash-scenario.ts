/**
 * Kill drainplane at many points: `drainplane serve` runs as a child process with simulated
 * nodes connected, a seeded random stream of API operations drives it (drains with different
 * selectors, scopes and methods, some in batches, cancels, advances, config replacements, some of them
 * invalid), and SIGKILL lands at random moments, in flight or not. After each kill the state
 * files are checked, drainplane is started again on the same state folder and config, and the
 * nodes reconnect. Every listener set a node receives, in every lifetime, is judged by
 * crash-model.ts; drains must carry on to completion after each restart.
 *
 * The test runs a few dozen kill points; `npm run soak` runs hundreds.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SotwResponse } from './ads-client.js';
import { serveArgs, startCli, type CliProcess } from './cli.js';
import { waitUntil } from './wait.js';
import { demoConfig } from './fleet-configs.js';
import { SimNode } from './sim-node.js';
import { readStateFiles, stateFileViolations, type FileDrain, type StateFiles } from './crash-state-files.js';
import {
  CrashModel,
  transitions,
  viewPart,
  type DrainBody,
  type ModelDrain,
  type NodeSpec,
  type ScopeSpec,
  type SelectorSpec,
} from './crash-model.js';

export interface CrashScenarioOptions {
  /** Kill points to test (kills while an operation runs, while idle, and during start-up). */
  readonly kills: number;
  readonly seed: number;
  /** Progress lines (the soak prints them). */
  readonly log?: (line: string) => void;
}

export interface CrashScenarioResult {
  readonly seed: number;
  readonly killPoints: number;
  /** Kills that landed before the operation's response: its outcome was read from the state files. */
  readonly killsInFlight: number;
  readonly killsAtStartup: number;
  readonly operations: number;
  readonly listenerSets: number;
  readonly violations: readonly string[];
  /** Temporary files of writes cut short, still in the state or config folder after a restart. */
  readonly leftoverTempFiles: number;
}

/** A small seeded PRNG (mulberry32): the same seed replays the same operations and kill delays. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NODES: readonly NodeSpec[] = [
  { id: 'node-a1', cluster: 'test-cluster', metadata: { rack: 'a' }, zone: 'z1' },
  { id: 'node-a2', cluster: 'test-cluster', metadata: { rack: 'a' }, zone: 'z2' },
  { id: 'node-b1', cluster: 'test-cluster', metadata: { rack: 'b' }, zone: 'z1' },
  { id: 'node-b2', cluster: 'test-cluster', metadata: { rack: 'b' }, zone: 'z2' },
];

const SELECTORS: readonly SelectorSpec[] = [
  { ids: ['node-a1'] },
  { ids: ['node-a2', 'node-b1'] },
  { cluster: 'test-cluster' },
  { metadata: { rack: 'a' } },
  { locality: { zone: 'z2' } },
  { metadata: { rack: 'b' }, locality: { zone: 'z1' } },
  { ids: ['node-that-never-connects'] },
];

const SCOPES: readonly { scope: ScopeSpec; egress?: DrainBody['egress'] }[] = [
  { scope: 'ingress' },
  { scope: 'egress' },
  { scope: 'all' },
  { scope: 'all', egress: { after: 'advance' } },
  { scope: { listeners: ['ingress_http'] } },
  { scope: { listeners: ['egress_http', 'ingress_http'] } },
];

/** Waits after each acknowledged operation, and for drains after a restart. */
const SETTLE_MS = 20_000;

interface Daemon {
  readonly proc: CliProcess;
  readonly api: string;
  readonly xds: string;
}

interface Op {
  readonly what: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly contentType?: string;
  /** Whether drainplane must accept it (2xx) or refuse it (4xx). */
  readonly expect: 'accepted' | 'refused';
  /** Moves the model on, from the response body (or the drain found in the state files). */
  readonly commit: (body: unknown) => void;
  /** After a kill that cut it short: did it commit? Read from the state files. */
  readonly committedOnDisk: (files: StateFiles) => { committed: boolean; drain?: FileDrain };
}

export async function runCrashScenario(options: CrashScenarioOptions): Promise<CrashScenarioResult> {
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const log = options.log ?? (() => undefined);
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-crash-'));
  const configFile = path.join(dir, 'fleet.yaml');
  const stateDir = path.join(dir, 'state');
  let configText = demoConfig({ listenerTag: 'rev-0' });
  await writeFile(configFile, configText);

  const model = new CrashModel('rev-0', NODES);
  const violations = model.violations;
  /** Listener sets by version: one version must always name one listener set. */
  const versions = new Map<string, string>();
  /** Per node: the version and listener set it holds now (across lifetimes, as Envoy keeps them). */
  const holding = new Map<string, { version: string; view: string }>();
  let lifetime = 0;
  /** The lifetime whose node streams are recorded. */
  let accepting = 0;
  let nodes: SimNode[] = [];
  let daemon: Daemon | undefined;
  let revision = 0;
  const counts = { killPoints: 0, killsInFlight: 0, killsAtStartup: 0, operations: 0, listenerSets: 0, leftoverTempFiles: 0 };

  const viewOf = (res: SotwResponse): string =>
    res.resources
      .map((r) => {
        // google.protobuf.Struct as decoded: { fields: { key: { stringValue } } }.
        const meta = (
          r.message['metadata'] as { filter_metadata?: Record<string, { fields?: Record<string, { stringValue?: string }> }> } | undefined
        )?.filter_metadata;
        return viewPart(
          r.name,
          meta?.['drainplane']?.fields?.['tag']?.stringValue ?? '',
          meta?.['drainplane.drain']?.fields?.['drain']?.stringValue ?? '',
        );
      })
      .sort()
      .join(' ');

  const record = (node: string, version: string, view: string, where: string): void => {
    const known = versions.get(version);
    if (known !== undefined && known !== view) violations.push(`version ${version} named [${known}] and later [${view}]`);
    versions.set(version, view);
    holding.set(node, { version, view });
    model.observe(node, view, where);
  };

  const serveCommand = serveArgs(configFile, stateDir);

  const start = async (): Promise<Daemon> => {
    const proc = startCli(serveCommand);
    const started = await proc
      .waitForLog((l) => l['event'] === 'started', 60_000)
      .catch((err: unknown) => {
        proc.child.kill('SIGKILL');
        throw err;
      });
    return { proc, xds: `127.0.0.1:${started['xdsPort'] as number}`, api: `http://127.0.0.1:${started['apiPort'] as number}` };
  };

  const kill = async (d: Daemon): Promise<void> => {
    d.proc.child.kill('SIGKILL');
    await d.proc.exited;
    // What the old streams still deliver is dropped: it would be judged against the next lifetime.
    accepting = -1;
    for (const n of nodes) n.close();
    nodes = [];
  };

  const api = async (d: Daemon, method: string, p: string, body?: string, contentType = 'application/json') => {
    const res = await fetch(`${d.api}${p}`, {
      method,
      // Every change is typed, with a body or without: the API refuses untyped changes.
      ...(method !== 'GET' && { headers: { 'content-type': contentType } }),
      ...(body !== undefined && { body }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };

  /** Connects every node to a fresh daemon and waits until each holds the listener set it should. */
  const connectNodes = async (d: Daemon): Promise<void> => {
    const mine = ++lifetime;
    accepting = mine;
    const where = `in lifetime ${mine}`;
    const received = new Set<string>();
    nodes = NODES.map((n) => {
      // Like Envoy, a reconnecting node reports the version it holds; sometimes it restarted and holds nothing.
      const held = random() < 0.7 ? holding.get(n.id)?.version : undefined;
      return SimNode.connect(d.xds, n.id, {
        cluster: n.cluster,
        metadata: { ...n.metadata },
        locality: { zone: n.zone },
        versionInfo: held ?? '',
        onLds: (res) => {
          if (accepting !== mine) return;
          counts.listenerSets++;
          received.add(n.id);
          record(n.id, res.version_info, viewOf(res), where);
        },
      });
    });
    // A node that reported the version it should have is sent nothing: it counts once in sync.
    type Listed = { nodes: { id: string; connected: boolean; types: { lds?: { acked?: { version: string } } } }[] };
    let synced: typeof NODES = [];
    const listed = await waitUntil(
      `${where}: nodes in sync`,
      async () => {
        const listed = (await api(d, 'GET', '/v1/nodes')).body as Listed;
        synced = NODES.filter((n) => {
          const s = listed.nodes.find((x) => x.id === n.id);
          return s?.connected && s.types.lds?.acked !== undefined;
        });
        return synced.length === NODES.length && listed;
      },
      SETTLE_MS,
      {
        intervalMs: 50,
        explain: () =>
          `(not in sync: ${NODES.filter((n) => !synced.includes(n))
            .map((n) => n.id)
            .join(', ')})`,
      },
    );
    for (const n of NODES) {
      if (received.has(n.id)) continue;
      const version = listed.nodes.find((x) => x.id === n.id)!.types.lds!.acked!.version;
      const view = versions.get(version);
      if (view === undefined) violations.push(`${n.id} ${where} is in sync with version ${version}, which it never received`);
      else record(n.id, version, view, `${where} (kept, in sync)`);
    }
  };

  /** Waits until every node holds the listener set of the current state. */
  const converge = async (what: string): Promise<void> => {
    try {
      await waitUntil(
        `every node to converge after ${what}`,
        () => NODES.every((n) => holding.get(n.id)?.view === model.settledView(n.id)),
        SETTLE_MS,
      );
    } catch {
      const off = NODES.filter((n) => holding.get(n.id)?.view !== model.settledView(n.id));
      violations.push(
        `after ${what}: ${off.map((n) => `${n.id} holds [${holding.get(n.id)?.view}], expected [${model.settledView(n.id)}]`).join('; ')}`,
      );
    }
  };

  /** Drains carry on after a restart: each running one with nodes completes (or waits for its advance). */
  const drainsSettle = async (d: Daemon, what: string): Promise<void> => {
    const waiting = model.current.drains.filter((x) => !x.cancelled && x.members.length > 0);
    let listed: FileDrain[] = [];
    let unsettled = waiting;
    try {
      await waitUntil(
        `the drains to settle after ${what}`,
        async () => {
          listed = ((await api(d, 'GET', '/v1/drains')).body as { drains: FileDrain[] }).drains;
          unsettled = waiting.filter((m) => {
            const x = listed.find((l) => l.id === m.id);
            if (!x) return true;
            if (m.body.egress?.after === 'advance' && !m.advanced) return x.state !== 'running' || x.phases[0]!.state !== 'done';
            return x.state !== 'completed';
          });
          return unsettled.length === 0;
        },
        SETTLE_MS,
        { intervalMs: 100 },
      );
    } catch {
      violations.push(
        `${what}: drains did not complete: ${unsettled.map((m) => `${m.id} ${JSON.stringify(listed.find((l) => l.id === m.id)?.state)}`).join(', ')}`,
      );
    }
  };

  const drainOp = (): Op => {
    const { scope, egress } = pick(SCOPES);
    // A third in batches of one or two: nodes start one batch at a time, and a restart must carry on from the batch it stopped at.
    const batch = random() < 0.33 ? { size: 1 + Math.floor(random() * 2) } : undefined;
    const body: DrainBody = {
      selector: pick(SELECTORS),
      scope,
      method: pick(['remove', 'modify'] as const),
      measure: 'ack',
      deadlineSeconds: 120,
      ...(egress && { egress }),
      ...(batch && { batch }),
    };
    const members = model.membersOf(body.selector);
    const known = new Set(model.current.drains.map((d) => d.id));
    const add = (id: string, took: readonly string[]): void => {
      if ([...took].sort().join() !== [...members].sort().join())
        violations.push(`drain ${id} took [${took.join(', ')}], expected [${members.join(', ')}]`);
      model.commit(transitions.create(model.current, { id, body, members, cancelled: false, advanced: false } satisfies ModelDrain));
    };
    return {
      what: `create ${body.method} ${JSON.stringify(body.scope)} drain of ${JSON.stringify(body.selector)}${batch ? ` in batches of ${batch.size}` : ''}`,
      method: 'POST',
      path: '/v1/drains',
      body: JSON.stringify(body),
      expect: 'accepted',
      commit: (res) => {
        const drain = res as FileDrain;
        add(
          drain.id,
          drain.phases[0]!.nodes.map((n) => n.nodeId),
        );
      },
      committedOnDisk: (files) => {
        const added = files.drains.filter((d) => !known.has(d.id));
        if (added.length > 1) violations.push(`the state folder holds ${added.length} new drains after one create`);
        return added[0] ? { committed: true, drain: added[0] } : { committed: false };
      },
    };
  };

  const cancelOp = (drain: ModelDrain): Op => ({
    what: `cancel ${drain.id}`,
    method: 'POST',
    path: `/v1/drains/${drain.id}/cancel`,
    expect: 'accepted',
    commit: () => model.commit(transitions.cancel(model.current, drain.id)),
    committedOnDisk: (files) => ({ committed: files.drains.find((d) => d.id === drain.id)?.state === 'cancelled' }),
  });

  const advanceOp = (drain: ModelDrain): Op => ({
    what: `advance ${drain.id}`,
    method: 'POST',
    path: `/v1/drains/${drain.id}/advance`,
    expect: 'accepted',
    commit: () => model.commit(transitions.advance(model.current, drain.id)),
    // An advance is recorded first (the leader, maybe another replica, then starts the egress
    // phase): a kill between the two leaves it committed with the phase still pending.
    committedOnDisk: (files) => {
      const stored = files.drains.find((d) => d.id === drain.id);
      return { committed: stored?.advanced === true || stored?.phases[1]?.state !== 'pending' };
    },
  });

  const reloadOp = (): Op => {
    const valid = random() < 0.8;
    const tag = valid ? `rev-${++revision}` : '';
    const text = valid ? demoConfig({ listenerTag: tag }) : `# no match\ngroups: [{ name: broken, listeners: [{ name: ${revision} }] }]\n`;
    return {
      what: valid ? `PUT /v1/config (${tag})` : 'PUT /v1/config (invalid)',
      method: 'PUT',
      path: '/v1/config',
      body: text,
      contentType: 'application/yaml',
      expect: valid ? 'accepted' : 'refused',
      commit: () => {
        configText = text;
        model.commit(transitions.reload(model.current, tag));
      },
      committedOnDisk: (files) => ({ committed: files.config === text }),
    };
  };

  const nextOp = (): Op => {
    const live = model.current.drains.filter((d) => !d.cancelled);
    const advanceable = live.filter((d) => d.body.egress?.after === 'advance' && !d.advanced);
    const r = random();
    if (r < 0.45 || live.length === 0) return drainOp();
    if (r < 0.7) return cancelOp(pick(live));
    if (r < 0.8 && advanceable.length > 0) return advanceOp(pick(advanceable));
    return reloadOp();
  };

  /** Sends an operation; settles the model from its response (expected: commit or refusal). */
  const send = async (d: Daemon, op: Op): Promise<{ status: number; body: unknown } | Error> => {
    counts.operations++;
    model.begin(op.what);
    return api(d, op.method, op.path, op.body, op.contentType).catch((err: Error) => err);
  };

  const settle = (op: Op, res: { status: number; body: unknown }): void => {
    const accepted = res.status >= 200 && res.status < 300;
    if (accepted !== (op.expect === 'accepted') || res.status >= 500) {
      violations.push(`${op.what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    if (accepted) op.commit(res.body);
    else model.abandon('was refused');
  };

  /** After a kill: what the files say about the operation cut short, then (a). */
  const afterKill = async (op: Op | undefined, when: string): Promise<void> => {
    const files = await readStateFiles(stateDir, configFile);
    if (op && model.inFlight) {
      counts.killsInFlight++;
      const { committed, drain } = op.committedOnDisk(files);
      if (committed) op.commit(drain);
      else model.abandon('was not recorded before the kill');
    }
    violations.push(...stateFileViolations(files, model.current, configText, when));
  };

  const startAndSync = async (): Promise<Daemon> => {
    // Sometimes the kill comes while drainplane starts: nothing may change on disk.
    while (random() < 0.1 && counts.killPoints < options.kills) {
      const proc = startCli(serveCommand);
      await new Promise((r) => setTimeout(r, random() * 600));
      proc.child.kill('SIGKILL');
      await proc.exited;
      counts.killPoints++;
      counts.killsAtStartup++;
      await afterKill(undefined, `kill point ${counts.killPoints} (start-up)`);
    }
    const t0 = Date.now();
    const d = await start();
    // Known at once to the clean-up below, which must kill it even if its nodes never sync.
    daemon = d;
    const t1 = Date.now();
    // Writes cut short leave temporary files: a started drainplane has removed them.
    for (const folder of [dir, stateDir])
      counts.leftoverTempFiles += (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.tmp')).length;
    model.restarted();
    await connectNodes(d);
    log(`start ${t1 - t0} ms, nodes in sync ${Date.now() - t1} ms`);
    return d;
  };

  const began = Date.now();
  try {
    daemon = await startAndSync();
    while (counts.killPoints < options.kills) {
      const d = daemon;
      await drainsSettle(d, `lifetime ${lifetime}`);
      for (let i = Math.floor(random() * 2); i > 0; i--) {
        const op = nextOp();
        const res = await send(d, op);
        if (res instanceof Error) throw new Error(`${op.what}: ${res.message}`);
        settle(op, res);
        await converge(op.what);
      }
      // The operation the kill cuts short, or follows: 0-40 ms after it is sent, sometimes later.
      const op = nextOp();
      const delay = random() < 0.7 ? random() * 40 : random() * 400;
      const sent = send(d, op);
      await new Promise((r) => setTimeout(r, delay));
      await kill(d);
      counts.killPoints++;
      const res = await sent;
      if (!(res instanceof Error)) settle(op, res);
      const when = `kill point ${counts.killPoints} (${op.what}, ${delay.toFixed(0)} ms)`;
      await afterKill(op, when);
      log(
        `${((Date.now() - began) / 1000).toFixed(1)}s ${when}: ${res instanceof Error ? 'cut short' : `HTTP ${res.status}`}; ${model.committed} operations committed, ${violations.length} violation(s)`,
      );
      daemon = await startAndSync();
    }
    // The end: every drain with nodes completes once its egress phase is released.
    for (const drain of model.current.drains.filter((x) => !x.cancelled && x.body.egress?.after === 'advance' && !x.advanced)) {
      const op = advanceOp(drain);
      const res = await send(daemon, op);
      if (res instanceof Error) throw res;
      settle(op, res);
    }
    await converge('the last advances');
    await drainsSettle(daemon, 'the end');
    return { seed: options.seed, ...counts, violations };
  } finally {
    if (daemon) await kill(daemon);
    await rm(dir, { recursive: true, force: true });
  }
}
