import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreConflictError, StoreUnavailableError } from '../fleet/ports/store-errors.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  /** Set when the error is about an object's key (a `propertyNames` rule), not a value. */
  propertyName?: string;
}

/** Wrappers whose own errors repeat the ones of their parts (kept) without naming more. */
const WRAPPERS = new Set(['anyOf', 'propertyNames']);

/** `/selector/ids/0` -> `selector.ids[0]`. */
function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra !== undefined) parts.push(extra);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(body)';
}

/** One message per schema violation, naming the request field. */
function describe(e: AjvError): { field: string; message: string } {
  switch (e.keyword) {
    case 'additionalProperties':
      return { field: fieldOf(e.instancePath, String(e.params['additionalProperty'])), message: 'unknown field' };
    case 'required':
      return { field: fieldOf(e.instancePath, String(e.params['missingProperty'])), message: 'is required' };
    case 'enum':
      return {
        field: fieldOf(e.instancePath),
        message: `must be one of ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default: {
      const message = e.message ?? e.keyword;
      return { field: fieldOf(e.instancePath), message: e.propertyName === undefined ? message : `key ${JSON.stringify(e.propertyName)} ${message}` };
    }
  }
}

/**
 * Every error answers JSON `{ error, message }`; a request that fails its schema answers 400
 * with every violation, each naming its field; a body over the limit answers 413 naming it.
 */
export function errorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (error.validation) {
    const errors = dedupe((error.validation as unknown as AjvError[]).filter((e) => !WRAPPERS.has(e.keyword)).map(describe));
    void reply.code(400).send({
      error: 'invalid_request',
      message: `${req.method} ${req.url}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      errors,
    });
    return;
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    void reply.code(413).send({
      error: 'body_too_large',
      message: `${req.method} ${req.url}: the body is larger than the API's limit of ${req.routeOptions.bodyLimit} bytes`,
    });
    return;
  }
  const status = storeStatus(error) ?? (error.statusCode && error.statusCode >= 400 ? error.statusCode : 500);
  if (status >= 500) req.log.error({ err: error }, 'request failed');
  void reply.code(status).send({ error: error.code ?? 'internal', message: error.message });
}

/**
 * The store's errors say what failed, not how to answer: that is the API's choice. Unavailable
 * (and not leading) is 503, for the caller to retry later or elsewhere; a lost race is 409.
 */
function storeStatus(error: Error): number | undefined {
  if (error instanceof StoreUnavailableError) return 503;
  if (error instanceof StoreConflictError) return 409;
  return undefined;
}

function dedupe(errors: { field: string; message: string }[]): { field: string; message: string }[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.field}\0${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
