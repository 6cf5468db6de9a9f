/**
 * Errors of acquisitions and experiments.
 * @module
 */
import { ConcertError } from '../core/index.js';

/** An acquisition failed: its producer, or one of its consumers (named in the message). */
export class AcquisitionError extends ConcertError {
  override name = 'AcquisitionError';
}

/** Misuse of an experiment: a missing acquisition, a run while running, … */
export class ExperimentError extends ConcertError {
  override name = 'ExperimentError';
}

/** A consumer that cannot be attached (e.g. a local consumer on a remote acquisition). */
export class ConsumerError extends ConcertError {
  override name = 'ConsumerError';
}
