/**
 * How the local drain of a shutdown ended, as GET /v1/prestop answers it. Here, in the domain,
 * so that the supervisor that produces it and the API route that serves it both import it
 * without one depending on the other.
 */
export interface PrestopResult {
  /** `drained`: the local drain completed; `budget-exhausted`: the plan's time ran out first. */
  readonly outcome: 'drained' | 'budget-exhausted' | 'not-supervising';
  readonly elapsedSeconds: number;
}
