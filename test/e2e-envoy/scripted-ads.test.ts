/**
 * A real Envoy against a scripted ADS server (scripted-ads.ts), over SotW and over Delta: every
 * request it makes while it starts, what it does with a listener it cannot decode, and how it
 * subscribes again after the control plane went away. What drainplane's xDS side is built on
 * (../shared/ENVOY-FACTS.md "xDS protocol"), request by request.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import YAML from 'yaml';
import { releaseFromVersionString } from '../../src/admin/server-info.js';
import { TYPE } from '../support/ads-client.js';
import { ADS_APIS, bootstrapConfig, freeLoopbackPorts, readDemoFile, type AdsApi } from './configs.js';
import { withRealEnvoy, type RealEnvoy } from './envoy-binary.js';
import { EnvoyProcess } from './envoy-process.js';
import { waitUntil } from '../support/wait.js';
import { getOnce } from './http-get.js';
import { packed, ScriptedAds, type PackedResource, type ScriptedStream, type SeenRequest } from './scripted-ads.js';

const SHORT: Record<string, string> = { [TYPE.CDS]: 'CDS', [TYPE.EDS]: 'EDS', [TYPE.LDS]: 'LDS', [TYPE.RDS]: 'RDS' };
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** A resource as the script sends it. */
interface Named {
  readonly name: string;
  readonly any: PackedResource;
}

function listener(port: number): Named {
  return {
    name: 'ingress',
    any: packed(TYPE.LDS, {
      name: 'ingress',
      traffic_direction: 'INBOUND',
      address: { socket_address: { address: '127.0.0.1', port_value: port } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': HCM,
                stat_prefix: 'ingress',
                rds: { route_config_name: 'routes', config_source: { ads: {}, resource_api_version: 'V3' } },
                http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
              },
            },
          ],
        },
      ],
    }),
  };
}

const CLUSTER: Named = { name: 'app', any: packed(TYPE.CDS, { name: 'app', type: 'STATIC', connect_timeout: '1s' }) };
const ROUTES: Named = {
  name: 'routes',
  any: packed(TYPE.RDS, {
    name: 'routes',
    virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }] }],
  }),
};
const UNDECODABLE: Named = { name: 'ingress', any: { type_url: TYPE.LDS, value: Buffer.from([0xff, 0xff, 0xff]) } };

/** One flavour's wire format: responses, and requests reduced to what is compared. */
interface Flavour {
  respond: (s: ScriptedStream, typeUrl: string, version: string, nonce: string, resources: readonly Named[]) => void;
  /** SotW: type, version_info, nonce, names. Delta: type, nonce, names subscribed, initial versions. */
  view: (req: SeenRequest) => unknown[];
}

const SOTW: Flavour = {
  respond: (s, type_url, version_info, nonce, resources) => s.respond({ type_url, version_info, nonce, resources: resources.map((r) => r.any) }),
  view: (r) => [SHORT[r.type_url ?? ''], r.version_info ?? '', r.response_nonce ?? '', r.resource_names ?? []],
};
const DELTA: Flavour = {
  respond: (s, type_url, version, nonce, resources) =>
    s.respond({ type_url, system_version_info: version, nonce, resources: resources.map((r) => ({ name: r.name, version, resource: r.any })) }),
  view: (r) => [SHORT[r.type_url ?? ''], r.response_nonce ?? '', r.resource_names_subscribe ?? [], r.initial_resource_versions ?? {}],
};

withRealEnvoy('scripted ADS', (envoy) => {
  for (const adsApi of ADS_APIS) registerScriptedSuite(envoy, adsApi);
});

function registerScriptedSuite(envoy: RealEnvoy, adsApi: AdsApi): void {
  const delta = adsApi === 'DELTA_GRPC';
  const wire = delta ? DELTA : SOTW;
  /** A request as the flavour shows it, from the SotW fields (type, version, nonce, names) and Delta's initial versions. */
  const expected = (type: string, version: string, nonce: string, names: string[], initial: Record<string, string> = {}): unknown[] =>
    delta ? [type, nonce, names, initial] : [type, version, nonce, names];

  describe(`a real Envoy (${releaseFromVersionString(envoy.version)}) against a scripted ADS server, ADS ${adsApi}`, { timeout: 60_000 }, () => {
    let ads: ScriptedAds;
    let proc: EnvoyProcess;
    let dir: string;
    let s1: ScriptedStream;
    let listenerPort: number;
    const next = async (s: ScriptedStream): Promise<unknown[]> => wire.view(await s.next());
    const served = async (): Promise<number> => (await getOnce(listenerPort, '/')).status;

    before(async () => {
      ads = await ScriptedAds.start();
      dir = await mkdtemp(path.join(tmpdir(), 'drainplane-scripted-ads-'));
      const [adminPort, port] = await freeLoopbackPorts(2);
      listenerPort = port!;
      const bootstrap = YAML.parse(
        bootstrapConfig(await readDemoFile('bootstrap.yaml'), {
          nodeId: 'scripted-1',
          cluster: 'c1',
          xdsPort: ads.port,
          adminPort: adminPort!,
          adsApi,
        }),
      ) as Record<string, unknown>;
      delete bootstrap['stats_sinks']; // the script plays ADS only
      const bootstrapFile = path.join(dir, 'bootstrap.yaml');
      await writeFile(bootstrapFile, YAML.stringify(bootstrap));
      proc = EnvoyProcess.start({
        name: 'scripted-1',
        bin: envoy.bin,
        bootstrapFile,
        adminPort: adminPort!,
        baseId: (process.pid % 1_000_000) * 10 + 7,
        drainTimeSeconds: 10,
      });
    });
    after(async () => {
      await proc?.stop();
      ads?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('it asks for clusters first, for listeners once the clusters are in, for routes once a listener names them, and is LIVE only when they came', async () => {
      s1 = await ads.nextStream();
      const first = await s1.next();
      assert.equal(first.node?.id, 'scripted-1', 'the first request names the node');
      assert.deepEqual(wire.view(first), expected('CDS', '', '', []), 'CDS first, wildcard');
      await waitUntil('the admin API', async () => (await proc.ready()).state !== '', 10_000);
      assert.deepEqual(await proc.ready(), { status: 503, state: 'PRE_INITIALIZING' });

      wire.respond(s1, TYPE.CDS, 'c1', 'n1', [CLUSTER]);
      const lds = await s1.next();
      assert.deepEqual(wire.view(lds), expected('LDS', '', '', []), 'LDS, wildcard, asked for before the clusters are ACKed');
      // SotW: the node on the first request only (set_node_on_first_message_only). Delta sends it on
      // every request in 1.36.2 and 1.37.0, on the first only in 1.40.0; drainplane reads the first.
      if (!delta) assert.equal(lds.node, undefined);
      assert.deepEqual(await next(s1), expected('CDS', 'c1', 'n1', []), 'then the CDS ACK');

      wire.respond(s1, TYPE.LDS, 'l1', 'n2', [listener(listenerPort)]);
      assert.deepEqual(await next(s1), expected('RDS', '', '', ['routes']), 'RDS for the listener, before the LDS ACK');
      assert.deepEqual(await next(s1), expected('LDS', 'l1', 'n2', []));
      assert.deepEqual(await proc.ready(), { status: 503, state: 'INITIALIZING' }, 'the listener warms until its routes come');

      wire.respond(s1, TYPE.RDS, 'r1', 'n3', [ROUTES]);
      assert.deepEqual(await next(s1), expected('RDS', 'r1', 'n3', delta ? [] : ['routes']));
      await waitUntil('/ready to say LIVE', async () => (await proc.ready()).state === 'LIVE', 10_000);
      assert.equal(await served(), 200);
    });

    test('it NACKs a listener it cannot decode, naming its last good version, and keeps serving the one it has', async () => {
      wire.respond(s1, TYPE.LDS, 'l2', 'n4', [UNDECODABLE]);
      const nack = await s1.next();
      assert.deepEqual(wire.view(nack), expected('LDS', 'l1', 'n4', []));
      assert.equal(nack.error_detail?.code, grpc.status.INTERNAL);
      assert.match(nack.error_detail?.message ?? '', /^Unable to unpack as envoy\.config\.listener\.v3\.Listener: /);
      assert.equal(await proc.stat('listener_manager.lds.update_rejected'), 1);
      assert.equal(await served(), 200);
    });

    test('after the stream drops it subscribes again, in order, with what it has and no nonce, and takes the same listener again as no change', async () => {
      s1.fail(grpc.status.UNAVAILABLE, 'control plane restarting');
      const s2 = await ads.nextStream();
      const again = [await s2.next(), await s2.next(), await s2.next()];
      assert.equal(again[0]!.node?.id, 'scripted-1');
      assert.deepEqual(again.map(wire.view), [
        expected('CDS', 'c1', '', [], { app: 'c1' }),
        expected('LDS', 'l1', '', [], { ingress: 'l1' }),
        expected('RDS', 'r1', '', ['routes'], { routes: 'r1' }),
      ]);

      wire.respond(s2, TYPE.LDS, 'l1', 'm1', [listener(listenerPort)]);
      assert.deepEqual(await next(s2), expected('LDS', 'l1', 'm1', []));
      assert.deepEqual(
        [await proc.stat('listener_manager.listener_added'), await proc.stat('listener_manager.listener_modified')],
        [1, 0],
        'neither the NACK, nor the reconnect, nor the same listener again changed it',
      );
      assert.equal(await served(), 200);
      assert.deepEqual(await proc.ready(), { status: 200, state: 'LIVE' });
    });
  });
}
