import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findToken, parseTokensFile, tokenDigest } from '../../src/api/tokens.js';

describe('tokens file', () => {
  test('SCOPE TOKEN lines, comments and blank lines; a bare token is admin', () => {
    const parsed = parseTokensFile('# rotated 2026-01\n\nread r-1\n  admin   a-1  \nlegacy-token\r\nread r-2\n', 'tokens');
    assert.ok(parsed.ok);
    const scopeOf = (token: string) => findToken(parsed.tokens, token)?.scope;
    assert.equal(scopeOf('r-1'), 'read');
    assert.equal(scopeOf('r-2'), 'read');
    assert.equal(scopeOf('a-1'), 'admin');
    assert.equal(scopeOf('legacy-token'), 'admin');
    assert.equal(scopeOf('read'), undefined);
    assert.equal(scopeOf('r-3'), undefined);
    assert.ok(
      parsed.tokens.every((t) => t.digest.length === 32),
      'only digests are kept',
    );
  });

  test('every bad line is named by file and line', () => {
    const parsed = parseTokensFile(
      ['read', 'write w-1', 'admin a b', 'read tøken', 'read r-1', 'admin r-1', 'read r-1'].join('\n'),
      '/etc/drainplane/tokens',
    );
    assert.ok(!parsed.ok);
    assert.deepEqual(parsed.errors, [
      '/etc/drainplane/tokens:1: scope "read" without a token',
      '/etc/drainplane/tokens:2: unknown scope "write" (read or admin)',
      '/etc/drainplane/tokens:3: expected "SCOPE TOKEN" or a bare token, got 3 fields',
      '/etc/drainplane/tokens:4: a token is visible ASCII characters only (no spaces)',
      '/etc/drainplane/tokens:6: this token is also on line 5 with scope read',
    ]);
  });

  test('a file without tokens is refused: it would open the API', () => {
    const parsed = parseTokensFile('# nothing yet\n\n', 'tokens');
    assert.ok(!parsed.ok);
    assert.match(parsed.errors[0]!, /^tokens: no tokens/);
  });

  test('a token configured in both scopes counts as admin, wherever it sits in the list', () => {
    const digest = tokenDigest('shared');
    const admin = { scope: 'admin' as const, digest };
    const read = { scope: 'read' as const, digest };
    assert.equal(findToken([read, admin], 'shared'), admin);
    assert.equal(findToken([admin, read], 'shared'), admin);
  });
});
