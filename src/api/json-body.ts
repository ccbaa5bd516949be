/**
 * JSON request bodies, parsed as fastify parses them (secure-json-parse, a `__proto__` or
 * `constructor.prototype` key refused), except that an empty body is no body: a POST to
 * /v1/drains/ID/cancel typed application/json with nothing in it (curl -X POST -H
 * 'content-type: application/json') cancels, where fastify alone would answer 400.
 */
import type { FastifyInstance } from 'fastify';

export const JSON_TYPE = 'application/json';

export function parseJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (req, body, done) => {
    // parseAs 'string' hands over a string; the type allows a Buffer.
    const text = body.toString();
    if (text === '') done(null, undefined);
    else void parse(req, text, done);
  });
}
