/**
 * Listener roles. A listener's role is Envoy's own `traffic_direction`: INBOUND is ingress,
 * OUTBOUND is egress. The role sets Envoy's `drain_type` unless the file sets it:
 *  - ingress: DEFAULT, so /healthcheck/fail and drains take inbound traffic away;
 *  - egress: MODIFY_ONLY, so failing health leaves outbound calls working while the
 *    application finishes, and only an LDS change or removal drains them.
 */
export const LISTENER_ROLES = ['ingress', 'egress', 'unspecified'] as const;
export type ListenerRole = (typeof LISTENER_ROLES)[number];

/** Envoy's Listener.DrainType, by the name its enum gives. */
export const DRAIN_TYPES = ['DEFAULT', 'MODIFY_ONLY'] as const;
export type DrainType = (typeof DRAIN_TYPES)[number];

export function roleOf(trafficDirection: unknown): ListenerRole {
  if (trafficDirection === 'INBOUND' || trafficDirection === 1) return 'ingress';
  if (trafficDirection === 'OUTBOUND' || trafficDirection === 2) return 'egress';
  return 'unspecified';
}

export function defaultDrainType(role: ListenerRole): DrainType {
  return role === 'egress' ? 'MODIFY_ONLY' : 'DEFAULT';
}

export function drainTypeName(value: unknown): DrainType | undefined {
  if (value === 'DEFAULT' || value === 0) return 'DEFAULT';
  if (value === 'MODIFY_ONLY' || value === 1) return 'MODIFY_ONLY';
  return undefined;
}
