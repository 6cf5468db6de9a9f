/**
 * Keeps the frames of each acquisition in memory (lossless), e.g. to look at them in the session.
 * @module
 */
import { OptionError, z, type Frame } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';

/** Options of {@link Accumulator.create}. */
export type AccumulatorOptions = z.input<typeof ACCUMULATOR_OPTIONS>;

/** The options of {@link Accumulator.create}. */
export const ACCUMULATOR_OPTIONS = ADDON_OPTIONS.extend({
  /** Keep at most this many frames per acquisition, the oldest dropped first (default: all). */
  limit: z.number().int().min(1).optional(),
});

/** Keeps frames: `acc.getItems('darks')`. */
export class Accumulator extends Addon {
  static override readonly options = ACCUMULATOR_OPTIONS;
  readonly kind = 'local';
  readonly #items = new Map<string, Frame[]>();
  readonly #limit: number;

  constructor(experiment: Experiment, options: AccumulatorOptions = {}) {
    super(experiment, options);
    this.#limit = options.limit ?? Infinity;
  }

  /**
   * The frames of the last run of `acquisition`, or only its last `count` frames.
   * @throws AddonError if it was never accumulated; OptionError for a `count` that is not a whole
   *   number ≥ 0.
   */
  getItems(acquisition: string | Acquisition, count?: number): Frame[] {
    if (count !== undefined && !(Number.isSafeInteger(count) && count >= 0))
      throw new OptionError(`${this.name}.getItems: count must be a whole number ≥ 0, got ${String(count)}`);
    const name = typeof acquisition === 'string' ? acquisition : acquisition.name;
    const items = this.#items.get(name);
    if (!items)
      throw new AddonError(
        `${this.name} has no frames of acquisition '${name}' (it has: ${[...this.#items.keys()].join(', ') || 'none'})`,
      );
    return count === undefined ? items : items.slice(Math.max(0, items.length - count));
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    return this.localConsumer(
      acquisition,
      async (frames) => {
        const items: Frame[] = [];
        this.#items.set(acquisition.name, items);
        for await (const frame of frames) {
          items.push(frame);
          if (items.length > this.#limit) items.shift();
        }
      },
      { policy: 'lossless' },
    );
  }

  protected override counters(): Record<string, unknown> {
    return { kept: Object.fromEntries([...this.#items].map(([k, v]) => [k, v.length])) };
  }
}
