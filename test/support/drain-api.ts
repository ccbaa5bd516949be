/** The drain API of a test daemon, for tests that start drains as users do (POST /v1/drains). */
import assert from 'node:assert/strict';
import type { Drain } from '../../src/fleet/drain/model.js';
import { apiRequest } from './api-request.js';

export interface DrainApi {
  /** Any API call: its status and JSON body. */
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
  /** POST /v1/drains, which must answer 201: the drain as created. */
  drain: (body: unknown) => Promise<Drain>;
}

/** `apiUrl` is read at each call: tests start their daemon after they make this. */
export function drainApi(apiUrl: () => string): DrainApi {
  const api: DrainApi['api'] = async (method, path, body) => {
    const res = await fetch(`${apiUrl()}${path}`, apiRequest(method, body));
    return { status: res.status, body: await res.json() };
  };
  return {
    api,
    async drain(body) {
      const res = await api('POST', '/v1/drains', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as Drain;
    },
  };
}
