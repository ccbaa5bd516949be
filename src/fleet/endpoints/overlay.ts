/**
 * What endpoint drains do to a node's EDS: each endpoint they take goes out with
 * `health_status: DRAINING` (Envoy sends it no new request but lets those in flight finish), or,
 * once a drain with `remove` completed, is left out of its assignment.
 *
 * Encode once: a changed assignment is encoded once per (assignment bytes, drains) and the
 * overlaid snapshot once per (base snapshot, drains), and both are shared by every node of a
 * config group. An assignment the drains do not touch keeps its object, bytes and version.
 */
import { sharedTypeSnapshot, Snapshot } from '../../cache/snapshot.js';
import { EncodedResource } from '../../resource/encoded-resource.js';
import { encodeJson } from '../../resource/json-mapping.js';
import { envoyProtos } from '../../resource/protos.js';
import { PUSH_ORDER, TypeUrl } from '../../resource/type-urls.js';
import type { EndpointTarget } from '../drain/model.js';
import { assignmentOf, type AssignmentJson } from './assignment.js';
import { endpointMatcher, type EndpointMatcher } from './target.js';

/** One endpoint drain as it acts on a node: its target, and whether it leaves them out now. */
export interface EndpointMark {
  readonly drainId: string;
  readonly target: EndpointTarget;
  /** Leave the endpoints out (a completed drain with `remove`) rather than mark them DRAINING. */
  readonly remove: boolean;
}

/**
 * The key of a list of marks: a drain's target never changes, so its id and whether it removes
 * determine what it does. Marks are applied in the order given (removal wins either way).
 */
function marksKey(marks: readonly EndpointMark[]): string {
  return marks.map((m) => `${m.drainId}${m.remove ? '-' : '~'}`).join(',');
}

const overlaid = new WeakMap<Snapshot, Map<string, Snapshot>>();
const changed = new WeakMap<EncodedResource, Map<string, EncodedResource>>();
const matchers = new WeakMap<EndpointTarget, EndpointMatcher>();

/** The snapshot with the endpoint drains' marks applied to its assignments. */
export function applyEndpointMarks(base: Snapshot, marks: readonly EndpointMark[]): Snapshot {
  if (marks.length === 0) return base;
  const key = marksKey(marks);
  let perBase = overlaid.get(base);
  if (!perBase) overlaid.set(base, (perBase = new Map<string, Snapshot>()));
  const cached = perBase.get(key);
  if (cached) return cached;
  const assignments = base.get(TypeUrl.ClusterLoadAssignment).sorted.map((r) => markedAssignment(r, marks, key));
  const result = new Snapshot(
    PUSH_ORDER.map((t) => (t === TypeUrl.ClusterLoadAssignment ? sharedTypeSnapshot(t, assignments, base.get(t).pending) : base.get(t))),
  );
  // Nothing changed: the base itself, so nodes keep sharing it.
  const shared = result.sameAs(base) ? base : result;
  perBase.set(key, shared);
  return shared;
}

function markedAssignment(resource: EncodedResource, marks: readonly EndpointMark[], key: string): EncodedResource {
  let perResource = changed.get(resource);
  const cached = perResource?.get(key);
  if (cached) return cached;
  const { json, endpoints } = assignmentOf(resource);
  const actions = new Map<string, 'drain' | 'remove'>();
  for (const mark of marks) {
    const matcher = matcherOf(mark.target);
    for (const e of endpoints) {
      if (e.address === '' || !matcher.matches(e)) continue;
      const at = e.at.join(',');
      if (actions.get(at) !== 'remove') actions.set(at, mark.remove ? 'remove' : 'drain');
    }
  }
  const result = actions.size === 0 ? resource : encodeMarked(resource, json, actions);
  if (!perResource) changed.set(resource, (perResource = new Map<string, EncodedResource>()));
  perResource.set(key, result);
  return result;
}

function encodeMarked(resource: EncodedResource, json: AssignmentJson, actions: ReadonlyMap<string, 'drain' | 'remove'>): EncodedResource {
  const marked: AssignmentJson = {
    ...json,
    endpoints: (json.endpoints ?? []).map((group, i) => ({
      ...group,
      lb_endpoints: (group.lb_endpoints ?? []).flatMap((lb, j) => {
        const action = actions.get(`${i},${j}`);
        if (action === 'remove') return [];
        return action === 'drain' ? [{ ...lb, health_status: 'DRAINING' }] : [lb];
      }),
    })),
  };
  const protos = envoyProtos();
  const encoded = encodeJson(protos, protos.type('envoy.config.endpoint.v3.ClusterLoadAssignment'), marked);
  if (!encoded.ok) {
    // The assignment decoded from bytes we encoded ourselves; a health status cannot make it invalid.
    throw new Error(`cannot mark endpoints of ${resource.name}: ${encoded.errors[0]?.message}`);
  }
  return new EncodedResource(TypeUrl.ClusterLoadAssignment, resource.name, encoded.value);
}

function matcherOf(target: EndpointTarget): EndpointMatcher {
  let m = matchers.get(target);
  if (!m) matchers.set(target, (m = endpointMatcher(target)));
  return m;
}
