/**
 * Checks every response a test client receives against the rules of the xDS protocol that hold
 * regardless of what a test is about, in the spirit of go-control-plane's test fakes. A stream
 * feeds each response in as it arrives; tests end with
 * `assert.deepEqual(stream.violations(), [])`.
 */
import type { DecodedResource, DeltaResponse, SotwResponse } from './ads-client.js';

export interface ProtocolChecker<R> {
  check(res: R): void;
  /** Every violation so far, each naming the response (by position on the stream) it was found in. */
  violations(): string[];
}

type Report = (problem: string) => void;

export function sotwChecker(): ProtocolChecker<SotwResponse> {
  return streamChecker((res, report) => {
    // Envoy ACKs with version_info; an empty one is indistinguishable from "nothing accepted yet".
    if (!res.version_info) report('empty version_info');
    checkBodies(res.type_url, res.resources, report);
    for (const name of duplicates(res.resources.filter((r) => !r.decode_error).map((r) => r.name))) {
      report(`resource "${name}" appears more than once`);
    }
  });
}

export function deltaChecker(): ProtocolChecker<DeltaResponse> {
  return streamChecker((res, report) => {
    if (res.resources.length === 0 && res.removed_resources.length === 0) report('neither resources nor removals');
    checkBodies(
      res.type_url,
      res.resources.map((r) => r.resource),
      report,
    );
    for (const r of res.resources) {
      // Envoy keys delta resources by the wrapper's name, so a body naming something else would
      // be stored under one name while configuring another.
      if (!r.resource.decode_error && r.resource.name !== r.name) {
        report(`resource "${r.name}" carries a body named "${r.resource.name}"`);
      }
    }
    const names = res.resources.map((r) => r.name);
    for (const name of duplicates(names)) report(`resource "${name}" appears more than once`);
    for (const name of duplicates(res.removed_resources)) report(`removal of "${name}" appears more than once`);
    const updated = new Set(names);
    for (const name of res.removed_resources.filter((n) => updated.has(n))) report(`resource "${name}" is both updated and removed`);
  });
}

/** The violations in a whole sequence of SotW responses received on one stream. */
export function checkSotwResponses(responses: readonly SotwResponse[]): string[] {
  return runOver(sotwChecker(), responses);
}

/** The violations in a whole sequence of delta responses received on one stream. */
export function checkDeltaResponses(responses: readonly DeltaResponse[]): string[] {
  return runOver(deltaChecker(), responses);
}

function runOver<R>(checker: ProtocolChecker<R>, responses: readonly R[]): string[] {
  for (const res of responses) checker.check(res);
  return checker.violations();
}

/** The rules common to both variants: nonces unique per stream, a type URL on every response. */
function streamChecker<R extends { nonce: string; type_url: string }>(rules: (res: R, report: Report) => void): ProtocolChecker<R> {
  const nonces = new Set<string>();
  const found: string[] = [];
  let count = 0;
  return {
    check(res) {
      count += 1;
      const where = `response #${count} (${shortType(res.type_url)}, nonce "${res.nonce}")`;
      const report: Report = (problem) => found.push(`${where}: ${problem}`);
      // A repeated nonce makes the client's ACK ambiguous: it cannot say which push it accepted.
      if (!res.nonce) report('empty nonce');
      else if (nonces.has(res.nonce)) report('nonce already used on this stream');
      nonces.add(res.nonce);
      if (!res.type_url) report('empty type_url');
      rules(res, report);
    },
    violations: () => [...found],
  };
}

function checkBodies(typeUrl: string, resources: readonly DecodedResource[], report: Report): void {
  for (const [i, r] of resources.entries()) {
    if (r.decode_error) report(`resource ${i}: ${r.decode_error}`);
    else if (r.type_url !== typeUrl) report(`resource "${r.name}" has type_url ${r.type_url}`);
  }
}

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const name of names) (seen.has(name) ? repeated : seen).add(name);
  return [...repeated];
}

/** The message name of a type URL ("Listener"), short enough for a violation message. */
function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1) || '<no type>';
}
