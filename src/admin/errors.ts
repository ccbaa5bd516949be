/** Failures of an Envoy admin API call, classified so that callers can decide to retry or stop. */

export type EnvoyAdminErrorCode =
  /** No connection: refused, reset, or closed before a full response. */
  | 'unreachable'
  /** No full response within the call's time limit. */
  | 'timeout'
  /** Envoy answered with a status the call does not accept. */
  | 'http_status'
  /** Envoy answered, but the body is not what the endpoint documents. */
  | 'bad_response';

export interface EnvoyAdminErrorDetails {
  readonly code: EnvoyAdminErrorCode;
  /** The admin address, `host:port`. */
  readonly address: string;
  readonly method: 'GET' | 'POST';
  /** Path and query as sent, e.g. `/drain_listeners?graceful&inboundonly`. */
  readonly path: string;
  /** HTTP status, when Envoy answered. */
  readonly status?: number;
  /** What went wrong, without the address and path (the message adds them). */
  readonly detail: string;
}

export class EnvoyAdminError extends Error {
  override readonly name = 'EnvoyAdminError';
  readonly code: EnvoyAdminErrorCode;
  readonly address: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly status: number | undefined;

  constructor(details: EnvoyAdminErrorDetails, options?: { cause?: unknown }) {
    super(`Envoy admin ${details.address}: ${details.method} ${details.path}: ${details.detail}`, options);
    this.code = details.code;
    this.address = details.address;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
  }
}

/** A drain that this Envoy version would carry out differently from what was asked. */
export class EnvoyVersionError extends Error {
  override readonly name = 'EnvoyVersionError';

  constructor(
    message: string,
    readonly envoyVersion: string,
  ) {
    super(message);
  }
}
