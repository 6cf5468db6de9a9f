/**
 * Errors of streaming steps and output sets.
 * @module
 */
import { ConcertError } from '../core/errors.js';

/**
 * A streaming step or output set failed or was misused: a bad set file, a set written by another
 * process, an item that failed a step with `onError: 'fail'` (the message names the step, the
 * item and its input).
 */
export class StreamingError extends ConcertError {
  override name = 'StreamingError';
}
