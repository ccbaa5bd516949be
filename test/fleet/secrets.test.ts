/**
 * The `secrets` section of a group: Envoy Secret resources whose files drainplane reads, checks
 * and serves inline, and the SDS references of listeners and clusters checked against it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfigFile, type ConfigResult } from '../../src/fleet/config.js';
import { checkKeyPair } from '../../src/fleet/secrets/key-pair.js';
import { MAX_SECRET_FILE_BYTES } from '../../src/fleet/secrets/secret-files.js';
import { redactSecret } from '../../src/fleet/secrets/redact.js';
import { messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { TypeUrl, messageName } from '../../src/resource/type-urls.js';
import { runCli } from '../support/cli.js';
import { SECRET_NAME, sdsConfig } from '../support/sds-config.js';
import { createTestPki, type CertFiles, type TestPki } from '../support/test-pki.js';

describe('secrets served from files', () => {
  let pki: TestPki;
  let pair: CertFiles;
  let other: CertFiles;
  const configFile = (): string => path.join(pki.dir, 'drainplane.yaml');

  const load = async (yaml: string): Promise<ConfigResult> => {
    await writeFile(configFile(), yaml);
    return loadConfigFile(configFile());
  };
  const errors = (result: ConfigResult): string[] => (result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`));

  before(async () => {
    pki = await createTestPki();
    pair = await pki.issue('edge', { sans: ['DNS:localhost'] });
    other = await pki.issue('other', { sans: ['DNS:localhost'] });
  });
  after(() => pki.close());

  test('the files are read (relative to the config file) and sent inline; the config lists them', async () => {
    const result = await load(sdsConfig({ cluster: 'c', port: 10443, certFile: path.basename(pair.cert), keyFile: pair.key }));
    assert.ok(result.ok, errors(result).join('\n'));
    const secret = result.config.groups[0]!.resources.get(TypeUrl.Secret)![0]!;
    const protos = envoyProtos();
    const json = messageToJson(protos, protos.type(messageName(TypeUrl.Secret)), secret.bytes) as Record<string, any>;
    assert.equal(json['name'], SECRET_NAME);
    assert.equal(Buffer.from(json['tls_certificate']['certificate_chain']['inline_bytes'], 'base64').toString(), await readFile(pair.cert, 'utf8'));
    assert.equal(Buffer.from(json['tls_certificate']['private_key']['inline_bytes'], 'base64').toString(), await readFile(pair.key, 'utf8'));
    assert.deepEqual(result.config.secretFiles, [pair.cert, pair.key].sort());
    // Shown to people without the key.
    assert.deepEqual((redactSecret(json) as Record<string, any>)['tls_certificate']['private_key'], { inline_string: '[redacted]' });
  });

  test('the same files give the same bytes; a rotated file gives a new Secret and nothing else', async () => {
    const yaml = sdsConfig({ cluster: 'c', port: 10443, certFile: pair.cert, keyFile: pair.key });
    const [a, b] = [await load(yaml), await load(yaml)];
    assert.ok(a.ok && b.ok);
    const groups = [a.config.groups[0]!, b.config.groups[0]!];
    for (const typeUrl of [TypeUrl.Secret, TypeUrl.Listener]) {
      assert.deepEqual(groups[0]!.resources.get(typeUrl)![0]!.bytes, groups[1]!.resources.get(typeUrl)![0]!.bytes, typeUrl);
    }
    const rotated = await load(sdsConfig({ cluster: 'c', port: 10443, certFile: other.cert, keyFile: other.key }));
    assert.ok(rotated.ok);
    const after = rotated.config.groups[0]!;
    assert.notEqual(after.resources.get(TypeUrl.Secret)![0]!.version, groups[0]!.resources.get(TypeUrl.Secret)![0]!.version);
    assert.equal(after.resources.get(TypeUrl.Listener)![0]!.version, groups[0]!.resources.get(TypeUrl.Listener)![0]!.version);
  });

  test('a missing, oversized or special file is an error naming the field and the path', async () => {
    const big = path.join(pki.dir, 'big.pem');
    await writeFile(big, Buffer.alloc(MAX_SECRET_FILE_BYTES + 1, 0x41));
    const fifo = path.join(pki.dir, 'fifo.pem');
    execFileSync('mkfifo', [fifo]);
    const at = 'groups[0].secrets[0].tls_certificate';
    for (const [cert, key, expected] of [
      [pair.cert, path.join(pki.dir, 'missing.key'), `${at}.private_key.filename: cannot read ${path.join(pki.dir, 'missing.key')}: ENOENT`],
      [big, pair.key, `${at}.certificate_chain.filename: cannot read ${big}: larger than the limit of ${MAX_SECRET_FILE_BYTES} bytes`],
      [fifo, pair.key, `${at}.certificate_chain.filename: cannot read ${fifo}: not a regular file`],
      ['/dev/zero', pair.key, `${at}.certificate_chain.filename: cannot read /dev/zero: not a regular file`],
    ] as const) {
      const result = await load(sdsConfig({ cluster: 'c', port: 10443, certFile: cert, keyFile: key }));
      assert.equal(result.ok, false);
      assert.equal(errors(result).length, 1, errors(result).join('\n'));
      assert.ok(errors(result)[0]!.startsWith(expected), errors(result)[0]);
    }
  });

  test('a key that does not match its certificate is refused; an expired certificate is a warning', async () => {
    const mismatched = await load(sdsConfig({ cluster: 'c', port: 10443, certFile: pair.cert, keyFile: other.key }));
    assert.deepEqual(errors(mismatched), [
      'groups[0].secrets[0].tls_certificate.private_key: the private key does not match the certificate in certificate_chain (CN=edge); Envoy would refuse the pair',
    ]);
    // The test certificates last a day: three days on, they have expired.
    const inline = (file: string): Promise<{ inline_string: string }> => readFile(file, 'utf8').then((text) => ({ inline_string: text }));
    const secret = { tls_certificate: { certificate_chain: await inline(pair.cert), private_key: await inline(pair.key) } };
    const later = checkKeyPair(secret, 'groups[0].secrets[0]', new Date(Date.now() + 3 * 86_400_000));
    assert.deepEqual(later.errors, []);
    assert.deepEqual(
      later.warnings.map((w) => w.path),
      ['groups[0].secrets[0].tls_certificate.certificate_chain'],
    );
    assert.match(later.warnings[0]!.message, /^the certificate expired on .+ GMT \(CN=edge\)$/);
    assert.deepEqual(checkKeyPair(secret, 'groups[0].secrets[0]').warnings, []);
  });

  test('SDS references: unknown names, a served secret named without sds_config, unused secrets, watched_directory', async () => {
    const base = sdsConfig({ cluster: 'c', port: 10443, certFile: pair.cert, keyFile: pair.key });
    const chain = 'groups[0].listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0]';
    assert.deepEqual(
      errors(await load(base.replace(`- name: ${SECRET_NAME}\n                      sds_config`, '- name: typo\n                      sds_config'))),
      [`${chain}.name: secret "typo" is not among this group's secrets; Envoy would wait for it forever`],
    );
    const static_ = await load(base.replace('\n                      sds_config: { ads: {}, resource_api_version: V3 }', ''));
    assert.equal(errors(static_).length, 1);
    assert.match(
      errors(static_)[0]!,
      /^groups\[0\].listeners\[0\].+tls_certificate_sds_secret_configs\[0\]: secret "edge-cert" is one of this group's secrets, but this reference has no sds_config/,
    );
    const unused = await load(
      base.replace('secrets:\n', `secrets:\n      - name: spare\n        generic_secret: { secret: { inline_string: "x" } }\n`),
    );
    assert.ok(unused.ok);
    assert.deepEqual(
      unused.config.warnings.map((w) => `${w.path}: ${w.message}`),
      ['groups[0].secrets[0].name: no listener or cluster of this group uses secret "spare"'],
    );
    const watched = await load(base.replace('tls_certificate:\n', `tls_certificate:\n          watched_directory: { path: ${pki.dir} }\n`));
    assert.match(errors(watched).join('\n'), /tls_certificate\.watched_directory: drainplane reads these files and pushes every change itself/);
  });

  test('validate counts the secrets; render shows the certificate and hides the key', async () => {
    await writeFile(configFile(), sdsConfig({ cluster: 'c', port: 10443, certFile: pair.cert, keyFile: pair.key }));
    const validate = await runCli(['validate', '--config', configFile()]);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /1 secret\(s\)/);
    const render = await runCli(['render', '--config', configFile(), '--node-id', 'n', '--node-cluster', 'c']);
    assert.equal(render.code, 0, render.stderr);
    const [secret] = JSON.parse(render.stdout)[TypeUrl.Secret] as Record<string, any>[];
    assert.deepEqual(secret!['tls_certificate']['private_key'], { inline_string: '[redacted]' });
    assert.equal(
      Buffer.from(secret!['tls_certificate']['certificate_chain']['inline_bytes'], 'base64').toString(),
      await readFile(pair.cert, 'utf8'),
    );
    const key = await readFile(pair.key);
    assert.ok(
      !render.stdout.includes(key.toString('base64').slice(0, 40)) && !render.stdout.includes(key.toString().split('\n')[1]!),
      'the key is not in the output',
    );
  });
});
