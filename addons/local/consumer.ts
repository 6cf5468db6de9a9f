/**
 * An addon from a function: `await Consumer.create(exp, { each: (frame) => … })`.
 * @module
 */
import { opt, type Frame, type OptionSpec } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { ConsumeContext, DeliveryPolicy, FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { Addon, type AddonOptions } from '../base.js';
import { AddonError } from '../errors.js';

/** Options of {@link Consumer.create}: give `each` or `stream`. */
export interface ConsumerOptions extends AddonOptions {
  /** Called for every frame (awaited). */
  each?: (frame: Frame, acquisition: Acquisition) => void | Promise<void>;
  /** Gets the whole frame stream of each run. */
  stream?: (frames: AsyncIterable<Frame>, context: ConsumeContext) => Promise<void>;
  /** `lossless` (default) or `latest`. */
  policy?: DeliveryPolicy;
}

/** Runs a function on frames. */
export class Consumer extends Addon {
  static override readonly options: OptionSpec = {
    ...Addon.options,
    each: opt.function,
    stream: opt.function,
    policy: opt.oneOf(['lossless', 'latest']),
  };
  readonly kind = 'local';
  readonly #options: ConsumerOptions;

  constructor(experiment: Experiment, options: ConsumerOptions = {}) {
    super(experiment, options);
    if (!options.each === !options.stream)
      throw new AddonError('Consumer: give exactly one of { each: (frame) => … } or { stream: (frames) => … }');
    this.#options = options;
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    const { each, stream, policy = 'lossless' } = this.#options;
    const consume =
      stream ??
      (async (frames: AsyncIterable<Frame>) => {
        for await (const frame of frames) await each!(frame, acquisition);
      });
    return this.localConsumer(acquisition, consume, { policy });
  }
}
