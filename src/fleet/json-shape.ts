/** Shape checks shared by the config's readers. */
import type { ConfigIssue } from './config-issue.js';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An issue for each key of `json` that `allowed` does not list. */
export function unknownKeyIssues(json: Record<string, unknown>, allowed: ReadonlySet<string>, path: string): ConfigIssue[] {
  return Object.keys(json)
    .filter((key) => !allowed.has(key))
    .map((key) => ({ path: path === '' ? key : `${path}.${key}`, message: `unknown key "${key}" (expected one of: ${[...allowed].join(', ')})` }));
}
