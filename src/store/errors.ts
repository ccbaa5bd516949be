/** The store could not be opened at start-up (unreachable, or a bad TLS file). */
export class StoreOpenError extends Error {}
