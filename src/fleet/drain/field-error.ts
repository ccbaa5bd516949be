/** A field of a drain request that is wrong, and why. */
export interface FieldError {
  /** The request field, e.g. `selector`, `batch.percent`. */
  readonly field: string;
  readonly message: string;
}
