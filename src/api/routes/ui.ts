/**
 * The console: the built page (dist/ui) served from memory, read once at start-up. It loads
 * nothing from anywhere else, and its Content-Security-Policy says so: scripts, styles and
 * requests only from this origin, no inline code.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/** dist/ui, next to dist/src where this file is compiled to. */
export const UI_ROOT = fileURLToPath(new URL('../../../ui/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // Files keep their names from build to build: always revalidate (the ETag makes that cheap).
  'cache-control': 'no-cache',
} as const;

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

async function loadAssets(root: string): Promise<Map<string, Asset> | undefined> {
  let names: string[];
  try {
    names = await readdir(root, { recursive: true });
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    const body = await readFile(path.join(root, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name.split(path.sep).join('/'), { body, type, etag });
  }
  return assets;
}

export const uiRoutes: FastifyPluginAsync<{ root?: string }> = async (app, { root = UI_ROOT }) => {
  const assets = await loadAssets(root);
  const send = (reply: FastifyReply, name: string, ifNoneMatch: string | undefined) => {
    const asset = assets?.get(name);
    if (!asset) {
      const message = assets ? `no console file "${name}"` : `the console is not built (no ${root}): run npm run build`;
      return reply.code(404).send({ error: 'not_found', message });
    }
    reply.headers({ ...SECURITY_HEADERS, etag: asset.etag, 'content-type': asset.type });
    if (ifNoneMatch === asset.etag) return reply.code(304).send();
    return reply.send(asset.body);
  };
  // Relative, so that the page also opens behind a proxy that serves the API under a prefix.
  app.get('/ui', { schema: { hide: true } }, async (_req, reply) => reply.redirect('ui/', 302));
  app.get('/ui/', { schema: { hide: true } }, async (req, reply) => send(reply, 'index.html', req.headers['if-none-match']));
  app.get<{ Params: { '*': string } }>('/ui/*', { schema: { hide: true } }, async (req, reply) =>
    send(reply, req.params['*'], req.headers['if-none-match']),
  );
};
