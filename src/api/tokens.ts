import { createHash, timingSafeEqual } from 'node:crypto';

/** What a bearer token may do: `read` the API, or also change things (`admin`). */
export type Scope = 'read' | 'admin';

const SCOPES: readonly Scope[] = ['read', 'admin'];

/** A configured token, kept only as its digest. */
export interface ApiToken {
  readonly scope: Scope;
  readonly digest: Buffer;
}

export type TokenSet = readonly ApiToken[];

export type TokensFileResult = { readonly ok: true; readonly tokens: TokenSet } | { readonly ok: false; readonly errors: readonly string[] };

/** Visible ASCII: what fits `Authorization: Bearer TOKEN` unchanged. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Why `token` cannot be a bearer token, or undefined when it can. */
export function tokenProblem(token: string): string | undefined {
  if (token === '') return 'the token is empty';
  if (!TOKEN_CHARS.test(token)) return 'a token is visible ASCII characters only (no spaces)';
  return undefined;
}

/**
 * A tokens file: one `SCOPE TOKEN` per line (scope `read` or `admin`), `#` comment lines and
 * blank lines ignored. A line with a bare token means admin, so a file that holds one token
 * (what `--api-token-file` always took) keeps its meaning. Errors are `FILE:LINE: message`.
 */
export function parseTokensFile(text: string, file: string): TokensFileResult {
  const tokens: ApiToken[] = [];
  const errors: string[] = [];
  const seen = new Map<string, { line: number; scope: Scope }>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;
    const fields = content.split(/\s+/);
    const error = (message: string): void => void errors.push(`${file}:${line}: ${message}`);
    if (fields.length > 2) return error(`expected "SCOPE TOKEN" or a bare token, got ${fields.length} fields`);
    const [first, second] = fields as [string, string | undefined];
    if (second === undefined && isScope(first)) return error(`scope "${first}" without a token`);
    if (second !== undefined && !isScope(first)) return error(`unknown scope "${first}" (read or admin)`);
    const scope: Scope = second === undefined ? 'admin' : (first as Scope);
    const token = second ?? first;
    const problem = tokenProblem(token);
    if (problem) return error(problem);
    const digest = tokenDigest(token);
    const key = digest.toString('hex');
    const earlier = seen.get(key);
    if (earlier) {
      // The same token twice is harmless in one scope, a mistake across two.
      if (earlier.scope !== scope) error(`this token is also on line ${earlier.line} with scope ${earlier.scope}`);
      return;
    }
    seen.set(key, { line, scope });
    tokens.push({ scope, digest });
  });
  if (errors.length === 0 && tokens.length === 0) errors.push(`${file}: no tokens (an empty tokens file would open the API to anyone)`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, tokens };
}

function isScope(word: string): word is Scope {
  return (SCOPES as readonly string[]).includes(word);
}

/**
 * The configured token equal to `presented`, or undefined. Compares digests in constant time
 * against every token, without stopping at a match, so neither the token's length nor its
 * position in the set shows in the time taken.
 */
export function findToken(tokens: TokenSet, presented: string): ApiToken | undefined {
  const digest = tokenDigest(presented);
  let found: ApiToken | undefined;
  for (const token of tokens) {
    // Where the same token sits in both scopes (a file and an environment variable), admin wins.
    if (timingSafeEqual(token.digest, digest) && (found === undefined || token.scope === 'admin')) found = token;
  }
  return found;
}
