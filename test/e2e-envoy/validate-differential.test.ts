/**
 * drainplane and Envoy agree on what is valid. Every example config, and a few hundred seeded
 * variants of them, is judged twice: by what `drainplane validate` runs (parseConfig) and by
 * the pinned Envoy (`envoy --mode validate`) on a bootstrap holding the same group's resources
 * (static-bootstrap.ts). A config one accepts and the other refuses fails the test, unless it
 * is a documented difference (known-differences.ts, listed in the README).
 *
 * One Envoy run takes 40 to 140 ms here, so each config gets its own run, two at a time (this
 * machine kind has 2 cores): 300 variants take about 10 s alone, up to 48 s within npm test.
 * DIFFERENTIAL_VARIANTS and DIFFERENTIAL_SEED (printed with every failure) choose another run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseConfig, type ConfigIssue, type ConfigResult } from '../../src/fleet/config.js';
import { inPool } from '../support/in-pool.js';
import { createTestPki } from '../support/test-pki.js';
import { configVariants, type Source } from './config-variants.js';
import { withRealEnvoy } from './envoy-binary.js';
import { releaseFromVersionString } from '../../src/admin/server-info.js';
import { pinnedApiVersion } from '../../src/resource/envoy-api.js';
import { envoyValidate, type EnvoyVerdict } from './envoy-validate.js';
import { withHostFiles, type HostFiles } from './host-files.js';
import { KNOWN_DIFFERENCES, type KnownDifference } from './known-differences.js';
import { staticBootstrap } from './static-bootstrap.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = ['examples/edge-gateway.yaml', 'examples/sidecar.yaml', 'examples/tcp-proxy.yaml', 'envoy/drainplane.yaml'];
const VARIANTS = Number(process.env['DIFFERENTIAL_VARIANTS'] ?? 300);
const SEED = Number(process.env['DIFFERENTIAL_SEED'] ?? 20_261_205);

interface Judged {
  readonly label: string;
  readonly drainplane: ConfigResult;
  readonly envoy: EnvoyVerdict;
  /** The group drainplane refused and Envoy accepted, if it is a documented difference. */
  readonly known?: KnownDifference;
}

withRealEnvoy('drainplane validate against envoy --mode validate', (envoy) => {
  // drainplane checks configs against the API of one Envoy release (package.json "envoyApi"):
  // the differential check is against that release; an older Envoy refuses its newer fields.
  const release = releaseFromVersionString(envoy.version) ?? envoy.version;
  const api = pinnedApiVersion();
  const other = release === api ? false : `drainplane speaks Envoy ${api}'s API; this Envoy is ${release}`;
  describe(`drainplane and Envoy ${envoy.version} agree on what is valid`, { timeout: 120_000, skip: other }, () => {
    const dir = mkdtemp(path.join(tmpdir(), 'drainplane-differential-'));
    const pki = createTestPki();
    const hostFiles: Promise<HostFiles> = (async () => {
      const { cert, key } = await (await pki).issue('edge', { sans: ['DNS:example.com'] });
      return { cert, key, log: path.join(await dir, 'access.log') };
    })();
    after(async () => {
      await rm(await dir, { recursive: true, force: true });
      await (await pki).close();
    });
    let runs = 0;

    /** Both verdicts on a document; drainplane reads it from `text`, as `drainplane validate` reads a file. */
    const judge = async (label: string, text: string, document: unknown): Promise<Judged> => {
      const drainplane = parseConfig(text, label);
      const groups = (document as { groups: unknown[] }).groups;
      let verdict: EnvoyVerdict = { ok: true, error: '', ms: 0 };
      for (const group of groups) {
        const bootstrap = withHostFiles(staticBootstrap(group), await hostFiles);
        const one = await envoyValidate(envoy.bin, bootstrap, await dir, `config-${runs++}`);
        verdict = { ...(verdict.ok ? one : verdict), ms: verdict.ms + one.ms };
      }
      return { label, drainplane, envoy: verdict, ...explained(drainplane, verdict) };
    };

    test('every example config: drainplane and Envoy both accept it', async () => {
      for (const file of EXAMPLES) {
        const text = readFileSync(path.join(ROOT, file), 'utf8');
        const judged = await judge(file, text, YAML.parse(text));
        assert.ok(judged.drainplane.ok, `${file}: drainplane: ${issues(judged.drainplane)}`);
        assert.ok(judged.envoy.ok, `${file}: Envoy: ${judged.envoy.error}`);
      }
    });

    test(`${VARIANTS} variants of the examples (seed ${SEED}): both accept or both refuse, but for the documented differences`, async () => {
      const sources: Source[] = EXAMPLES.map((file) => ({ file, document: YAML.parse(readFileSync(path.join(ROOT, file), 'utf8')) }));
      const started = performance.now();
      const judged = await inPool(configVariants(sources, VARIANTS, SEED), 2, async (v) => {
        // As JSON, so that both read the same values (YAML would write NaN where JSON has null).
        const text = JSON.stringify(v.document);
        return judge(v.label, text, JSON.parse(text));
      });
      const seconds = (performance.now() - started) / 1000;
      const times = judged.map((j) => j.envoy.ms).sort((a, b) => a - b);
      const count = (keep: (j: Judged) => boolean) => judged.filter(keep).length;
      console.log(
        `differential: ${judged.length} variants in ${seconds.toFixed(1)} s; both accept ${count((j) => j.drainplane.ok && j.envoy.ok)}, ` +
          `both refuse ${count((j) => !j.drainplane.ok && !j.envoy.ok)}, documented differences ${count((j) => j.known !== undefined)}; ` +
          `envoy --mode validate median ${times[times.length >> 1]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms`,
      );
      for (const k of KNOWN_DIFFERENCES) console.log(`  ${count((j) => j.known === k)} x ${k.title}`);
      const disagreements = judged.filter((j) => j.drainplane.ok !== j.envoy.ok && j.known === undefined);
      assert.deepEqual(
        disagreements.map((j) => describeDisagreement(j)),
        [],
        `DIFFERENTIAL_SEED=${SEED} DIFFERENTIAL_VARIANTS=${VARIANTS}`,
      );
      // The variants must reach both verdicts often, or they test little.
      assert.ok(count((j) => j.drainplane.ok && j.envoy.ok) >= VARIANTS / 10, 'few variants are valid');
      assert.ok(count((j) => !j.drainplane.ok && !j.envoy.ok) >= VARIANTS / 4, 'few variants are invalid');
    });

    test('each documented difference still is one: its example is refused, with that error, by one side only', async () => {
      for (const k of KNOWN_DIFFERENCES) {
        const document = { groups: [k.example] };
        const judged = await judge(k.title, JSON.stringify(document), document);
        const refused = k.rejectedBy === 'drainplane' ? judged.drainplane.ok : judged.envoy.ok;
        const other = k.rejectedBy === 'drainplane' ? judged.envoy.ok : judged.drainplane.ok;
        assert.ok(!refused && other, `${k.title}: no longer a difference; drop it from the list and the README\n${describeVerdicts(judged)}`);
        assert.equal(judged.known, k, `${k.title}: refused for another reason\n${describeVerdicts(judged)}`);
      }
    });

    test('the README lists every documented difference', () => {
      const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      for (const k of KNOWN_DIFFERENCES) assert.ok(readme.includes(k.title), `README.md does not list "${k.title}"`);
    });
  });
});

/**
 * The documented difference a split verdict is: Envoy's error, when only Envoy refuses; when
 * only drainplane refuses, every error it reports must be one.
 */
function explained(drainplane: ConfigResult, envoy: EnvoyVerdict): { known?: KnownDifference } {
  if (drainplane.ok === envoy.ok) return {};
  const known = (by: KnownDifference['rejectedBy'], message: string) => KNOWN_DIFFERENCES.find((k) => k.rejectedBy === by && k.error.test(message));
  if (drainplane.ok) {
    const k = known('envoy', envoy.error);
    return k ? { known: k } : {};
  }
  const kinds = drainplane.errors.map((e) => known('drainplane', e.message));
  const [first] = kinds;
  return first && kinds.every((k) => k !== undefined) ? { known: first } : {};
}

function describeDisagreement(j: Judged): string {
  return j.drainplane.ok
    ? `${j.label}\n  drainplane accepts; Envoy refuses: ${j.envoy.error}`
    : `${j.label}\n  Envoy accepts; drainplane refuses: ${issues(j.drainplane)}`;
}

function describeVerdicts(j: Judged): string {
  return `  drainplane: ${issues(j.drainplane)}\n  Envoy: ${j.envoy.ok ? 'valid' : j.envoy.error}`;
}

function issues(result: ConfigResult): string {
  return result.ok ? 'valid' : result.errors.map((e: ConfigIssue) => `${e.path}: ${e.message}`).join('; ');
}
