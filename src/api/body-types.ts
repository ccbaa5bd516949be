/**
 * Changes come as JSON. A web page on any origin can make a browser send a form post
 * (urlencoded, multipart or text/plain) or a POST with no body and no content-type without
 * asking first (no CORS preflight), but not one typed application/json. So every POST, PUT,
 * PATCH and DELETE must say `content-type: application/json` (its body may be empty), else
 * 415: a cross-site form cannot start, cancel or advance a drain, or replace the config. A
 * route that takes another type as well (PUT /v1/config: YAML) lists its types in its config,
 * as `bodyTypes`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MUTATING } from './auth.js';
import { JSON_TYPE } from './json-body.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The content types the route takes (default: application/json alone). */
    readonly bodyTypes?: readonly string[];
  }
}

/** An onRequest hook: refuses a change whose content-type is not one its route takes, with 415. */
export function requireBodyType() {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // An unknown path answers its 404, whatever it was sent.
    if (!MUTATING.has(req.method) || req.routeOptions.url === undefined) return;
    const types = req.routeOptions.config.bodyTypes ?? [JSON_TYPE];
    const header = req.headers['content-type'];
    const type = header?.split(';')[0]!.trim().toLowerCase();
    if (type !== undefined && types.includes(type)) return;
    await reply.code(415).send({
      error: 'unsupported_media_type',
      message:
        `${req.method} ${req.url}: ${type === undefined ? 'no content-type' : `content-type "${type}"`} is not taken here: ` +
        `send ${types.map((t) => `"content-type: ${t}"`).join(' or ')} (the body may be empty where the route takes none)`,
    });
  };
}
