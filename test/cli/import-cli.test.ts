import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { askRoles } from '../../src/cli/import.js';
import { readStaticBootstrap } from '../../src/fleet/import/static-bootstrap.js';
import { runCli } from '../support/cli.js';
import { edgeBootstrap, yaml } from '../fleet/import/bootstrap-fixture.js';

describe('drainplane import', { timeout: 60_000 }, () => {
  let dir: string;
  let bootstrap: string;
  let unroled: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'drainplane-import-'));
    bootstrap = path.join(dir, 'envoy.yaml');
    await writeFile(bootstrap, yaml(edgeBootstrap()));
    const b = edgeBootstrap();
    delete b['static_resources'].listeners[1].traffic_direction;
    unroled = path.join(dir, 'unroled.yaml');
    await writeFile(unroled, yaml(b));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('--out writes both files, which drainplane validate takes; again only with --force', async () => {
    const out = path.join(dir, 'out');
    const r = await runCli(['import', '--bootstrap', bootstrap, '--out', out, '--xds-address', '10.0.0.5:18443']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(out)).sort(), ['drainplane.yaml', 'envoy-bootstrap.yaml']);
    assert.match(r.stdout, /kept static in the bootstrap: statsd \(named by stats_sinks\[0\]\.typed_config\.tcp_cluster_name\)/);
    assert.ok(
      r.stdout.endsWith(`next:\n  drainplane serve --config ${out}/drainplane.yaml --xds-port 18443\n  envoy -c ${out}/envoy-bootstrap.yaml\n`),
      r.stdout,
    );
    const validated = await runCli(['validate', '--config', path.join(out, 'drainplane.yaml')]);
    assert.equal(validated.code, 0, validated.stderr);
    assert.match(validated.stdout, /listener egress_http: egress, drain_type MODIFY_ONLY/);
    const written = await readFile(path.join(out, 'envoy-bootstrap.yaml'), 'utf8');

    const again = await runCli(['import', '--bootstrap', bootstrap, '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /drainplane\.yaml and .*envoy-bootstrap\.yaml already exist\(s\); give --force to replace/);
    assert.equal(await readFile(path.join(out, 'envoy-bootstrap.yaml'), 'utf8'), written, 'left as it was');
    const forced = await runCli(['import', '--bootstrap', bootstrap, '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(await readFile(path.join(out, 'envoy-bootstrap.yaml'), 'utf8'), written, 'replaced (the default xDS address)');
  });

  test('without --out, both files go to stdout as two YAML documents, the same bytes as --out writes', async () => {
    const r = await runCli(['import', '--bootstrap', bootstrap]);
    assert.equal(r.code, 0, r.stderr);
    const docs = YAML.parseAllDocuments(r.stdout);
    assert.equal(docs.length, 2);
    assert.ok(r.stdout.startsWith('# drainplane.yaml\n'));
    assert.match(r.stdout, /\n---\n# envoy-bootstrap\.yaml\n/);
    assert.ok(docs[0]!.toJS().groups);
    assert.ok(docs[1]!.toJS().dynamic_resources);
    assert.match(r.stderr, /next: save the documents as drainplane\.yaml and envoy-bootstrap\.yaml/);
    const out = path.join(dir, 'same');
    assert.equal((await runCli(['import', '--bootstrap', bootstrap, '--out', out])).code, 0);
    const [config, served] = await Promise.all(['drainplane.yaml', 'envoy-bootstrap.yaml'].map((f) => readFile(path.join(out, f), 'utf8')));
    assert.equal(r.stdout, `# drainplane.yaml\n${config}---\n# envoy-bootstrap.yaml\n${served}`);
  });

  test('a listener without a role: exit 1, listed with the flag to give, nothing written; --role fills it', async () => {
    const out = path.join(dir, 'unroled-out');
    const r = await runCli(['import', '--bootstrap', unroled, '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unroled\.yaml:\d+:\d+: static_resources\.listeners\[1\]: listener "egress_http" has no traffic_direction/);
    assert.match(r.stderr, /--role egress_http=ingress\|egress/);
    await assert.rejects(readdir(out), /ENOENT/);
    const given = await runCli(['import', '--bootstrap', unroled, '--out', out, '--role', 'egress_http=egress']);
    assert.equal(given.code, 0, given.stderr);
    assert.match(await readFile(path.join(out, 'drainplane.yaml'), 'utf8'), /- name: egress_http\n {8}traffic_direction: OUTBOUND\n/);
  });

  test('usage errors exit 2; a bootstrap that cannot be read exits 1', async () => {
    for (const args of [
      ['--role', 'egress_http=sideways'],
      ['--role', 'egress'],
      ['--xds-address', 'drainplane'],
      ['--group', ''],
    ]) {
      const r = await runCli(['import', '--bootstrap', bootstrap, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal((await runCli(['import'])).code, 2);
    const missing = await runCli(['import', '--bootstrap', path.join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.yaml/);
    const help = await runCli(['--help']);
    assert.match(help.stdout, /import +turn a static Envoy bootstrap/);
  });

  test('in a terminal, the role of each listener without one is asked until the answer is one', async () => {
    const b = edgeBootstrap();
    for (const l of b['static_resources'].listeners) delete l.traffic_direction;
    const read = readStaticBootstrap(yaml(b), 'envoy.yaml');
    assert.ok(read.ok);
    const input = new PassThrough();
    const output = new PassThrough();
    let asked = '';
    output.on('data', (c: Buffer) => (asked += c.toString()));
    input.write('sideways\nINGRESS\negress\n');
    assert.deepEqual(await askRoles(read.bootstrap.listeners, input, output), [
      ['ingress_http', 'ingress'],
      ['egress_http', 'egress'],
    ]);
    assert.match(asked, /listener "ingress_http" has no traffic_direction: ingress or egress\? {3}ingress: traffic into this host/);

    const ended = new PassThrough();
    ended.end('ingress\n');
    await assert.rejects(askRoles(read.bootstrap.listeners, ended, new PassThrough()), /no role for listener "egress_http": the input ended/);
  });
});
