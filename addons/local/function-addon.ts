/**
 * An addon from a function: `await FunctionAddon.create(exp, { each: (frame) => … })`.
 * @module
 */
import { z, zfunction, type Frame } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { ConsumeContext, DeliveryPolicy, FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';

/** Options of {@link FunctionAddon.create}: give `each` or `stream`. */
export type FunctionAddonOptions = z.input<typeof FUNCTION_ADDON_OPTIONS>;

/** The options of {@link FunctionAddon.create}. */
export const FUNCTION_ADDON_OPTIONS = ADDON_OPTIONS.extend({
  /** Called for every frame (awaited). */
  each: zfunction<(frame: Frame, acquisition: Acquisition) => void | Promise<void>>().optional(),
  /** Gets the whole frame stream of each run. */
  stream: zfunction<(frames: AsyncIterable<Frame>, context: ConsumeContext) => Promise<void>>().optional(),
  /** `lossless` (default) or `latest`. */
  policy: z.enum(['lossless', 'latest'] satisfies DeliveryPolicy[]).optional(),
});

/** Runs a function on frames. */
export class FunctionAddon extends Addon {
  static override readonly options = FUNCTION_ADDON_OPTIONS;
  readonly kind = 'local';
  readonly #options: FunctionAddonOptions;

  constructor(experiment: Experiment, options: FunctionAddonOptions = {}) {
    super(experiment, options);
    if (!options.each === !options.stream)
      throw new AddonError('FunctionAddon: give exactly one of { each: (frame) => … } or { stream: (frames) => … }');
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
