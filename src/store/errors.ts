/** The store could not be opened at start-up (unreachable, a bad TLS file, an unreadable state file). */
export class StoreOpenError extends Error {}
