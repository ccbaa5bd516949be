/**
 * How mapping succeeds or fails: a whole document gives a MappingResult with every error found,
 * a single value gives a Parsed that the caller files under the value's path.
 */

export interface MappingError {
  /** Where in the document, e.g. `listeners[0].filter_chains[1].filters[0].typed_config.stat_prefix`. */
  path: string;
  message: string;
}

export type MappingResult<T> = { ok: true; value: T } | { ok: false; errors: MappingError[] };

/** One value's outcome; the error has no path because only the caller knows where the value was. */
export type Parsed<T> = { value: T } | { error: string };

export const fail = (error: string): { error: string } => ({ error });
