/**
 * Errors of addons.
 * @module
 */
import { ConcertError } from '../core/index.js';

/** Misuse of an addon: a missing acquisition, bad options, a remote addon that cannot be reached. */
export class AddonError extends ConcertError {
  override name = 'AddonError';
}
