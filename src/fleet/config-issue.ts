/**
 * One problem in a config document, with where it is. A module of its own so that the checks
 * config.ts runs (references, filter chains) report issues without importing config.ts back.
 */
export interface ConfigIssue {
  /** Path in the document, e.g. `groups[0].listeners[1].address.socket_address.port_value`. */
  readonly path: string;
  readonly message: string;
  /** Where the path is in a YAML file (1-based), when the document came from text. */
  readonly line?: number;
  readonly column?: number;
}
