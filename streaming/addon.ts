/**
 * A streaming step on the frames of an experiment's acquisitions: an addon. Each run of an
 * acquisition streams its frames through a step into a new output set, which closes when the run's
 * frames end (or an earlier stop criterion).
 * @module
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isAbortError, OptionError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import { z } from '../core/options.js';
import { Addon, ADDON_OPTIONS } from '../addons/base.js';
import type { Acquisition } from '../experiments/acquisition.js';
import type { FrameConsumer } from '../experiments/consumer.js';
import type { Experiment } from '../experiments/experiment.js';
import type { JsonValue } from './item.js';
import type { OutputSet } from './output-set.js';
import { STREAMING_STEP_OPTIONS, StreamingStep, type ItemContext } from './step.js';

/** The options of {@link StreamingAddon.create}. */
export const STREAMING_ADDON_OPTIONS = ADDON_OPTIONS.extend(
  STREAMING_STEP_OPTIONS.omit({ name: true, input: true, set: true, key: true }).shape,
).extend({
  /**
   * Folder of the set files, one per acquisition run: `<acquisition>-0000.sqlite`, `-0001`, …
   * (the next free number). Default: sets in memory only.
   */
  directory: z.string().min(1).optional(),
  /** Frames queued for the step before the producer waits (lossless; default 8). */
  queueSize: z.number().int().min(1).optional(),
});

/** Options of {@link StreamingAddon.create}, with the callbacks typed by the result `O`. */
export type StreamingAddonOptions<O> = Omit<z.input<typeof STREAMING_ADDON_OPTIONS>, 'process' | 'record'> & {
  /** The function applied to each frame (give this or `worker`). */
  process?: (frame: Frame, context: ItemContext) => O | Promise<O>;
  /** What to persist of a result (default: the value itself if plain JSON; a frame's shape, dtype and metadata). */
  record?: (value: O) => JsonValue;
};

/**
 * Processes the frames of each acquisition run as they are produced, losslessly (the producer
 * waits when the step is behind), into one output set per run: `addon.output` is the newest,
 * `addon.sets` all of them. Input keys are the frame's index in its run.
 * @example
 * ```ts
 * const stats = await StreamingAddon.create(experiment, { acquisitions: ['radios'], process: (f) => mean(f.data) });
 * await experiment.run();
 * stats.output!.items.map((i) => i.value);
 * ```
 */
export class StreamingAddon<O = unknown> extends Addon {
  static override readonly options = STREAMING_ADDON_OPTIONS;
  readonly kind = 'local';
  readonly #options: StreamingAddonOptions<O>;
  readonly #sets: OutputSet<O>[] = [];
  readonly #steps = new Set<StreamingStep<Frame, O>>();

  constructor(experiment: Experiment, options: StreamingAddonOptions<O>) {
    super(experiment, options);
    if ((options.process === undefined) === (options.worker === undefined))
      throw new OptionError(
        `${this.name}: give exactly one of process: (frame, context) => result or worker: a module path or URL`,
      );
    this.#options = options;
  }

  /** Every set made so far, one per acquisition run, oldest first. */
  get sets(): readonly OutputSet<O>[] {
    return this.#sets;
  }

  /** The newest set (the running one during a run). */
  get output(): OutputSet<O> | undefined {
    return this.#sets.at(-1);
  }

  /** Stops the steps running now (they finish the frames they took); resolves when their sets are closed. */
  async stopStreaming(): Promise<void> {
    await Promise.all([...this.#steps].map((s) => s.stopStreaming().catch(() => undefined)));
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    return this.localConsumer(
      acquisition,
      async (frames, context) => {
        const { directory, queueSize: _q, acquisitions: _a, name: _n, ...stepOptions } = this.#options;
        // The run's frames are the input; a cancelled run simply ends it.
        const input = async function* () {
          try {
            yield* frames;
          } catch (error) {
            if (!(isAbortError(error) && context.signal.aborted)) throw error;
          }
        };
        const step = await StreamingStep.create<Frame, O>({
          ...stepOptions,
          name: `${this.name}:${acquisition.name}`,
          input,
          set: directory === undefined ? undefined : nextSetFile(directory, acquisition.name),
        });
        this.#sets.push(step.output);
        this.#steps.add(step);
        try {
          await step.done;
        } finally {
          this.#steps.delete(step);
        }
      },
      { policy: 'lossless', queueSize: this.#options.queueSize ?? 8 },
    );
  }

  protected override counters(): Record<string, unknown> {
    const output = this.output;
    return { sets: this.#sets.length, items: output?.size ?? 0, failed: output?.failed ?? 0, state: output?.state };
  }
}

/** `<directory>/<acquisition>-NNNN.sqlite` with the first NNNN not taken. */
function nextSetFile(directory: string, acquisition: string): string {
  for (let n = 0; ; n++) {
    const file = join(resolve(directory), `${acquisition}-${String(n).padStart(4, '0')}.sqlite`);
    if (!existsSync(file)) return file;
  }
}
