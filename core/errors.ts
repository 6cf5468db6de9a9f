/**
 * Error classes shared by every layer. Each message names the device, the parameter, the bad
 * value and what is allowed, e.g. `flatMotor.position: 12 mm is out of range [0 mm, 10 mm]`.
 *
 * `AbortError`s (from an aborted `AbortSignal`) are never wrapped: they pass through unchanged.
 * @module
 */

/** Base class of every error Concert raises on purpose. The REPL prints these as `Sorry, <message>`. */
export class ConcertError extends Error {
  override name = 'ConcertError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A value with an incompatible unit (or a plain number where a quantity is needed). */
export class UnitError extends ConcertError {
  override name = 'UnitError';
}

/** A value outside the allowed range. */
export class LimitError extends ConcertError {
  override name = 'LimitError';
}

/** Rejected before anything was sent to the device: the value is outside the software limits. */
export class SoftLimitError extends LimitError {
  override name = 'SoftLimitError';
}

/** The hardware hit an end switch (the position is clamped there). */
export class HardLimitError extends LimitError {
  override name = 'HardLimitError';
}

/** Unknown parameter, or a bad value for a parameter that is not about units or limits. */
export class ParameterError extends ConcertError {
  override name = 'ParameterError';
}

/** The parameter cannot be read. */
export class ReadAccessError extends ParameterError {
  override name = 'ReadAccessError';
}

/** The parameter cannot be written. */
export class WriteAccessError extends ParameterError {
  override name = 'WriteAccessError';
}

/** The parameter (or its limits) is locked. */
export class LockError extends ConcertError {
  override name = 'LockError';
}

/** A value that is not one of a selection's allowed values. */
export class SelectionError extends ParameterError {
  override name = 'SelectionError';
}

/** State machine misuse: a device without a state, or a method that left the device in a state it must not. */
export class FSMError extends ConcertError {
  override name = 'FSMError';
}

/** A method was called in a state that does not allow it. Carries the current state. */
export class TransitionNotAllowed extends FSMError {
  override name = 'TransitionNotAllowed';
  constructor(
    message: string,
    readonly state: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** `wait()` timed out before the parameter reached the value. */
export class WaitError extends ConcertError {
  override name = 'WaitError';
}

/** Bad options to `create()` or to any public function. */
export class OptionError extends ConcertError {
  override name = 'OptionError';
}

/** One or more children of a device failed to connect: a map of child name to error. */
export class NotConnectedError extends ConcertError {
  override name = 'NotConnectedError';
  constructor(
    readonly errors: ReadonlyMap<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(`could not connect: ${[...errors].map(([k, e]) => `${k}: ${errorMessage(e)}`).join('; ')}`, options);
  }
}

/** True for the error an aborted `AbortSignal` produces (DOMException or Error named `AbortError`). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/** The message of any thrown value, for composing error messages. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Makes an `AbortError` with a message, as `signal.throwIfAborted()` would; `cause` is why (e.g. the
 * consumer failure that stopped a producer).
 */
export function abortError(message = 'The operation was aborted', cause?: unknown): DOMException {
  if (cause === undefined) return new DOMException(message, 'AbortError');
  // Node's DOMException takes { name, cause } (WebIDL); the DOM typings only know the name.
  const WithCause = DOMException as unknown as new (
    message: string,
    options: ErrorOptions & { name: string },
  ) => DOMException;
  return new WithCause(message, { name: 'AbortError', cause });
}

/**
 * What an operation aborted by `signal` throws: the signal's reason if it is an `AbortError`,
 * otherwise an `AbortError` saying `what` was cancelled and why, with the reason as its `cause`.
 * Aborting with any reason (`controller.abort(new Error('beam lost'))`, a failed consumer) is a
 * cancellation of the operation, never a fault of the device running it.
 */
export function cancellation(signal: AbortSignal, what: string): unknown {
  const reason: unknown = signal.reason;
  if (isAbortError(reason)) return reason;
  return abortError(`${what} was cancelled: ${errorMessage(reason)}`, reason);
}
