import type { FieldError } from './field-error.js';
import { endpointTargetProblems } from '../endpoints/target.js';
import { drainsByLds, type DrainMethod, type DrainSpec, type EgressStart, type EndpointTarget, type ListenerScope, type Selector } from './model.js';
import { countProblem, secondsProblem } from './request-limits.js';
import { isEmptySelector, selectorProblems } from './selector.js';

export type { FieldError } from './field-error.js';

/**
 * A drain as asked for over the API (shape already checked by the route's JSON schema): a node
 * drain (selector and scope), or an endpoint drain (endpoints, optionally narrowed to the nodes
 * a selector takes).
 */
export interface DrainRequest {
  readonly selector?: Selector;
  readonly scope?: ListenerScope;
  readonly endpoints?: EndpointTarget;
  readonly method?: DrainMethod;
  readonly egress?: {
    readonly after: EgressStart['after'];
    readonly delaySeconds?: number;
    readonly quietSeconds?: number;
    readonly waitSeconds?: number;
    /** The egress phase's own deadline per node (default: `deadlineSeconds`). */
    readonly deadlineSeconds?: number;
  };
  readonly batch?: { readonly size?: number; readonly percent?: number };
  readonly deadlineSeconds?: number;
  readonly threshold?: number;
  readonly measure?: DrainSpec['measure'];
  readonly confirm?: boolean;
}

export const DRAIN_DEFAULTS = {
  method: 'remove',
  deadlineSeconds: 300,
  threshold: 0,
  /**
   * egress-idle: how long egress listeners must stay without a connection. An app that keeps a
   * pool holds its connections between calls, so the gauge only drops to 0 when the pool is
   * closed or the app exited; only an app opening one connection per call shows 0 between calls,
   * and its pauses are far shorter than this. Read every 100 ms by `run`, that is 5 or more
   * readings in a row, for half a second added to a shutdown.
   */
  egressQuietSeconds: 0.5,
} as const;

/** Turns a request into a spec with every default filled in, or says which fields are wrong. */
export function drainSpecFrom(request: DrainRequest): { spec: DrainSpec } | { errors: FieldError[] } {
  if (request.endpoints !== undefined) return endpointSpecFrom(request, request.endpoints);
  const { selector, scope } = request;
  if (selector === undefined || scope === undefined) {
    return {
      errors: [
        ...(selector === undefined
          ? [{ field: 'selector', message: 'is required: the nodes to drain (or give endpoints, for an endpoint drain)' }]
          : []),
        ...(scope === undefined ? [{ field: 'scope', message: 'is required: ingress, egress, all, or {"listeners": [names]}' }] : []),
      ],
    };
  }
  const req = { ...request, selector, scope };
  const errors: FieldError[] = [];
  if (req.method === 'eds') errors.push({ field: 'method', message: 'eds is the method of endpoint drains: give endpoints' });
  if (isEmptySelector(req.selector)) {
    errors.push({ field: 'selector', message: 'an empty selector is refused: name ids, cluster, metadata or locality' });
  }
  errors.push(...selectorProblems(req.selector));
  if (typeof req.scope === 'object' && req.scope.listeners.length === 0) {
    errors.push({ field: 'scope.listeners', message: 'must name at least one listener' });
  }
  const method = req.method ?? DRAIN_DEFAULTS.method;
  const { deadlineSeconds, threshold } = limitsOf(req, errors);

  let batch: DrainSpec['batch'] = null;
  if (req.batch) {
    const { size, percent } = req.batch;
    if ((size === undefined) === (percent === undefined)) {
      errors.push({ field: 'batch', message: 'give exactly one of size or percent' });
    } else if (size !== undefined) {
      note(errors, 'batch.size', countProblem(size, 1));
      batch = { size };
    } else if (percent !== undefined) {
      if (!(percent > 0 && percent <= 100)) errors.push({ field: 'batch.percent', message: `must be > 0 and <= 100, got ${percent}` });
      else batch = { percent };
    }
  }

  let egressStart: EgressStart = { after: 'ingress-complete' };
  const egressDeadline = req.egress?.deadlineSeconds;
  if (egressDeadline !== undefined) note(errors, 'egress.deadlineSeconds', secondsProblem(egressDeadline, 'refused'));
  if (req.egress) {
    const parsed = egressStartFrom(req.egress, req.scope, deadlineSeconds);
    if ('errors' in parsed) errors.push(...parsed.errors);
    else egressStart = parsed.start;
  }

  const isAdmin = method === 'healthcheck-fail' || method === 'drain-listeners';
  if (isAdmin && req.scope !== 'ingress') {
    errors.push({
      field: 'scope',
      message: `method ${method} acts on the node's whole Envoy and drains its DEFAULT (ingress) listeners: use scope "ingress"`,
    });
  }
  if (method === 'drain-listeners' && req.confirm !== true) {
    errors.push({
      field: 'confirm',
      message: 'drain-listeners cannot be undone (Envoy ignores later LDS updates for those listeners): set confirm to true',
    });
  }
  const measure = req.measure ?? (method === 'modify' ? 'listener-drain' : 'connections');
  if (method === 'modify' && measure === 'connections') {
    errors.push({
      field: 'measure',
      message: 'a modified listener shares its connection gauges with the old one, so modify drains are measured by listener-drain (or ack)',
    });
  }
  if (measure === 'listener-drain' && !drainsByLds(method)) {
    errors.push({ field: 'measure', message: `listener-drain needs a listener change over LDS (remove or modify), not ${method}` });
  }
  if (errors.length > 0) return { errors };
  return {
    spec: {
      selector: req.selector,
      scope: req.scope,
      method,
      egressStart,
      batch,
      deadlineSeconds,
      ...(egressDeadline !== undefined && { egressDeadlineSeconds: egressDeadline }),
      threshold,
      measure,
      confirmIrreversible: req.confirm === true,
    },
  };
}

/**
 * An endpoint drain: its endpoints become DRAINING in the EDS of every node that holds them (of
 * the selector's nodes, when one is given), measured by the host's requests and connections.
 * Fields of node drains are refused rather than ignored.
 */
function endpointSpecFrom(req: DrainRequest, target: EndpointTarget): { spec: DrainSpec } | { errors: FieldError[] } {
  const errors = endpointTargetProblems(target);
  if (req.selector !== undefined) {
    if (isEmptySelector(req.selector)) {
      errors.push({ field: 'selector', message: 'an empty selector is refused: leave it out to take every node that holds the endpoints' });
    }
    errors.push(...selectorProblems(req.selector));
  }
  for (const field of ['scope', 'egress', 'batch'] as const) {
    if (req[field] !== undefined)
      errors.push({ field, message: 'does not apply to an endpoint drain (every node that holds the endpoints takes part at once)' });
  }
  if (req.method !== undefined && req.method !== 'eds') {
    errors.push({ field: 'method', message: `an endpoint drain's method is eds (DRAINING in EDS), got ${req.method}` });
  }
  const { deadlineSeconds, threshold } = limitsOf(req, errors);
  const measure = req.measure ?? 'connections';
  if (measure === 'listener-drain') {
    errors.push({ field: 'measure', message: "an endpoint drain is measured by connections (the host's requests and connections) or ack" });
  }
  if (errors.length > 0) return { errors };
  return {
    spec: {
      selector: req.selector ?? {},
      scope: { endpoints: target },
      method: 'eds',
      egressStart: { after: 'ingress-complete' },
      batch: null,
      deadlineSeconds,
      threshold,
      measure,
      confirmIrreversible: false,
    },
  };
}

/** The deadline and threshold of a request, defaults filled in; what is wrong with them goes to `errors`. */
function limitsOf(req: DrainRequest, errors: FieldError[]): { deadlineSeconds: number; threshold: number } {
  const deadlineSeconds = req.deadlineSeconds ?? DRAIN_DEFAULTS.deadlineSeconds;
  note(errors, 'deadlineSeconds', secondsProblem(deadlineSeconds, 'refused'));
  const threshold = req.threshold ?? DRAIN_DEFAULTS.threshold;
  note(errors, 'threshold', countProblem(threshold, 0));
  return { deadlineSeconds, threshold };
}

/** The egress start rule of a request; `egress-idle` waits at most the deadline by default. */
function egressStartFrom(
  egress: NonNullable<DrainRequest['egress']>,
  scope: ListenerScope,
  deadlineSeconds: number,
): { start: EgressStart } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const { after, delaySeconds, quietSeconds, waitSeconds } = egress;
  // Waiting for idle egress needs no ingress phase before it: run drains egress on its own.
  const scopes = after === 'egress-idle' ? ['all', 'egress'] : ['all'];
  if (typeof scope !== 'string' || !scopes.includes(scope)) {
    errors.push({ field: 'egress', message: `applies only to scope ${scopes.map((s) => `"${s}"`).join(' or ')}` });
  }
  if (after !== 'delay' && delaySeconds !== undefined) errors.push({ field: 'egress.delaySeconds', message: 'applies only with after "delay"' });
  if (after !== 'egress-idle') {
    if (quietSeconds !== undefined) errors.push({ field: 'egress.quietSeconds', message: 'applies only with after "egress-idle"' });
    if (waitSeconds !== undefined) errors.push({ field: 'egress.waitSeconds', message: 'applies only with after "egress-idle"' });
  }
  let start: EgressStart = { after: 'ingress-complete' };
  if (after === 'delay') {
    if (delaySeconds === undefined) errors.push({ field: 'egress.delaySeconds', message: 'is required with after "delay"' });
    else {
      note(errors, 'egress.delaySeconds', secondsProblem(delaySeconds, 'allowed'));
      start = { after: 'delay', seconds: delaySeconds };
    }
  } else if (after === 'egress-idle') {
    const quiet = quietSeconds ?? DRAIN_DEFAULTS.egressQuietSeconds;
    const wait = waitSeconds ?? deadlineSeconds;
    note(errors, 'egress.quietSeconds', secondsProblem(quiet, 'allowed'));
    // Without its own, the wait is the deadline, checked as that.
    if (waitSeconds !== undefined) note(errors, 'egress.waitSeconds', secondsProblem(waitSeconds, 'allowed'));
    start = { after: 'egress-idle', quietSeconds: quiet, waitSeconds: wait };
  } else start = { after };
  return errors.length > 0 ? { errors } : { start };
}

/** Adds what is wrong with `field` to `errors`, if anything is. */
function note(errors: FieldError[], field: string, message: string | undefined): void {
  if (message !== undefined) errors.push({ field, message });
}
