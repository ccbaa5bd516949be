/**
 * The role of each imported listener. drainplane drains by role (ingress first, egress after),
 * and reads a listener's role from its `traffic_direction`; a static bootstrap often has none,
 * since a static listener is never drained by role. Roles given by the operator fill the gaps;
 * a role that contradicts the file is refused rather than guessed between.
 */
import type { ConfigIssue } from '../config-issue.js';
import type { StaticListener } from './static-bootstrap.js';

export type Role = 'ingress' | 'egress';

export const ROLES: readonly Role[] = ['ingress', 'egress'];

/** Envoy's TrafficDirection for each role. */
export const TRAFFIC_DIRECTION: Readonly<Record<Role, string>> = { ingress: 'INBOUND', egress: 'OUTBOUND' };

export interface RoleResolution {
  /** Every listener's role that is known, by listener name. */
  readonly roles: ReadonlyMap<string, Role>;
  /** Listeners with no traffic_direction and no role given. */
  readonly missing: readonly StaticListener[];
  /** Roles given for listeners the bootstrap does not have, or against their traffic_direction. */
  readonly errors: readonly ConfigIssue[];
}

export function resolveRoles(listeners: readonly StaticListener[], given: ReadonlyMap<string, Role>): RoleResolution {
  const roles = new Map<string, Role>();
  const missing: StaticListener[] = [];
  const errors: ConfigIssue[] = [];
  for (const listener of listeners) {
    const role = given.get(listener.name);
    if (listener.role === 'unspecified') {
      if (role) roles.set(listener.name, role);
      else missing.push(listener);
      continue;
    }
    roles.set(listener.name, listener.role);
    if (role && role !== listener.role) {
      errors.push({
        path: listener.message.pathOf('traffic_direction'),
        message: `listener "${listener.name}" is ${TRAFFIC_DIRECTION[listener.role]} (${listener.role}), but the role ${role} is given for it`,
      });
    }
  }
  const names = new Set(listeners.map((l) => l.name));
  for (const name of given.keys()) {
    if (!names.has(name)) {
      errors.push({
        path: '',
        message: `a role is given for listener "${name}", which the bootstrap does not have (its listeners: ${[...names].join(', ')})`,
      });
    }
  }
  return { roles, missing, errors };
}
