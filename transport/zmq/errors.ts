/**
 * Errors of the transport layer (ZeroMQ data and control channels).
 * @module
 */
import { ConcertError } from '../../core/errors.js';

/**
 * A transport failure: a send or receive that timed out, a closed socket, a control request that
 * got no reply. The message names the endpoint; {@link TransportError.endpoint} carries it too.
 */
export class TransportError extends ConcertError {
  override name = 'TransportError';
  constructor(
    message: string,
    /** The ZeroMQ endpoint involved (`tcp://127.0.0.1:5555`), if any. */
    readonly endpoint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The peer of a control request answered with an error. `remoteName` is the error's `name` on the
 * server (`StateError`, `ParameterError`, …); the message is the server's message.
 */
export class RemoteError extends TransportError {
  override name = 'RemoteError';
  constructor(
    message: string,
    endpoint: string,
    /** `name` of the error the server raised. */
    readonly remoteName: string,
    options?: ErrorOptions,
  ) {
    super(message, endpoint, options);
  }
}
