import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { watchFiles } from '../fs/watch-files.js';
import { parseTokensFile, tokenDigest, type ApiToken, type Scope, type TokenSet, type TokensFileResult } from './tokens.js';

/** Where the API's bearer tokens come from. */
export interface TokenSources {
  /** A tokens file (`SCOPE TOKEN` per line), re-read when it changes. */
  readonly file?: string;
  /** Tokens given directly (from the environment), fixed for the daemon's life. */
  readonly admin?: readonly string[];
  readonly read?: readonly string[];
}

/** The tokens file is unusable at start-up; the message names the file and line of each error. */
export class TokensFileError extends Error {}

/**
 * The API's tokens: the fixed ones and the tokens file's, swapped whole when the file changes
 * (or on SIGHUP). A file that fails to read or parse on reload is logged and the tokens in
 * force stay, so a half-written file never locks everyone out or lets anyone in.
 */
export class ApiTokens {
  readonly #fixed: TokenSet;
  #fromFile: TokenSet;
  #current: TokenSet;
  #queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly sources: TokenSources,
    private readonly logger: Logger,
    fromFile: TokenSet,
  ) {
    const fixed = (scope: Scope, tokens: readonly string[] = []): ApiToken[] => tokens.map((t) => ({ scope, digest: tokenDigest(t) }));
    this.#fixed = [...fixed('admin', sources.admin), ...fixed('read', sources.read)];
    this.#fromFile = fromFile;
    this.#current = [...this.#fixed, ...fromFile];
  }

  /** Reads the tokens file, if any; throws TokensFileError when it is unusable. */
  static async load(sources: TokenSources, logger: Logger): Promise<ApiTokens> {
    let fromFile: TokenSet = [];
    if (sources.file !== undefined) {
      const read = await readTokensFile(sources.file);
      if (!read.ok)
        throw new TokensFileError(`${read.errors.length} error(s) in the API tokens file:\n${read.errors.map((e) => `  ${e}`).join('\n')}`);
      fromFile = read.tokens;
    }
    return new ApiTokens(sources, logger, fromFile);
  }

  /** Every token in force now. */
  get current(): TokenSet {
    return this.#current;
  }

  /** Re-reads the tokens file (a change on disk, or SIGHUP); a bad file changes nothing. */
  reload(): Promise<void> {
    const file = this.sources.file;
    if (file === undefined) return Promise.resolve();
    // One reload at a time, so an older read never overwrites a newer one.
    this.#queue = this.#queue.then(async () => {
      const read = await readTokensFile(file);
      if (!read.ok) {
        this.logger.error(
          { event: 'api_tokens_rejected', file, errors: read.errors },
          `API tokens file rejected, the previous tokens stay in force: ${read.errors.join('; ')}`,
        );
        return;
      }
      if (sameTokens(read.tokens, this.#fromFile)) return;
      this.#fromFile = read.tokens;
      this.#current = [...this.#fixed, ...read.tokens];
      this.logger.info(
        { event: 'api_tokens_reloaded', file, admin: countOf(read.tokens, 'admin'), read: countOf(read.tokens, 'read') },
        'API tokens reloaded',
      );
    });
    return this.#queue;
  }

  /** Reloads whenever the tokens file changes on disk; returns the function that stops watching. */
  watch(): () => void {
    const file = this.sources.file;
    return file === undefined ? () => {} : watchFiles([file], () => void this.reload());
  }
}

async function readTokensFile(file: string): Promise<TokensFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot read: ${(err as Error).message}`] };
  }
  return parseTokensFile(text, file);
}

function sameTokens(a: TokenSet, b: TokenSet): boolean {
  return a.length === b.length && a.every((t, i) => t.scope === b[i]!.scope && t.digest.equals(b[i]!.digest));
}

function countOf(tokens: TokenSet, scope: Scope): number {
  return tokens.filter((t) => t.scope === scope).length;
}
