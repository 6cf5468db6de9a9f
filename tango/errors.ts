/**
 * Errors raised by the Tango client: {@link TangoError} for a server's DevFailed (with its whole
 * error stack), {@link TangoTransportError} for connection problems and timeouts, and
 * {@link TangoProtocolError} for replies that cannot be decoded.
 * @module
 */
import { ConcertError } from '../core/errors.js';

/** Severity of one entry of a Tango error stack (Tango `ErrSeverity`). */
export type ErrSeverity = 'WARN' | 'ERR' | 'PANIC';

/** One entry of a DevFailed error stack (Tango `DevError`). */
export interface DevError {
  readonly reason: string;
  readonly severity: ErrSeverity;
  readonly desc: string;
  readonly origin: string;
}

function formatStack(errors: readonly DevError[]): string {
  return errors
    .map((e, i) => `  [${i}] ${e.severity} ${e.reason}: ${e.desc.trim()} (origin: ${e.origin.trim()})`)
    .join('\n');
}

/**
 * A DevFailed raised by a Tango device server. `errors` is the whole stack, innermost first (as
 * the server sends it); `reason` is the reason of the first entry.
 */
export class TangoError extends ConcertError {
  override name = 'TangoError';
  readonly errors: readonly DevError[];
  readonly device: string;

  constructor(device: string, operation: string, errors: readonly DevError[], options?: ErrorOptions) {
    const head = errors[0];
    super(
      `${device}: ${operation} failed: ${head ? `${head.reason}: ${head.desc.trim()}` : 'DevFailed'}` +
        (errors.length ? `\n${formatStack(errors)}` : ''),
      options,
    );
    this.errors = errors;
    this.device = device;
  }

  /** Reason of the first error of the stack (e.g. `API_AttrNotFound`). */
  get reason(): string {
    return this.errors[0]?.reason ?? '';
  }
}

/** The connection to a device server failed, was lost, or a call timed out. */
export class TangoTransportError extends ConcertError {
  override name = 'TangoTransportError';
  /** Device name, or empty when not known. */
  readonly device: string;
  /** `host:port` of the server. */
  readonly endpoint: string;

  constructor(device: string, endpoint: string, message: string, options?: ErrorOptions) {
    super(`${device ? `${device} ` : ''}at ${endpoint}: ${message}`, options);
    this.device = device;
    this.endpoint = endpoint;
  }
}

/** A call did not get its reply within the timeout. */
export class TangoTimeoutError extends TangoTransportError {
  override name = 'TangoTimeoutError';
}

/** A reply that is not valid GIOP/CDR or not what the Tango IDL says (or a CORBA system exception). */
export class TangoProtocolError extends ConcertError {
  override name = 'TangoProtocolError';
}
