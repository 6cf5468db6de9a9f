/**
 * Writes every frame of each acquisition through the walker (lossless): TIFF or HDF5 files in the
 * run's scan directory, one dataset per acquisition.
 * @module
 */
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { datasetEstimate, type AcquisitionPlan, type AddonEstimate } from '../../experiments/estimate.js';
import { z } from '../../core/index.js';
import { zwalker, type Walker } from '../../walkers/index.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';

/** Options of {@link ImageWriter.create}. */
export type ImageWriterOptions = z.input<typeof IMAGE_WRITER_OPTIONS>;

/** The options of {@link ImageWriter.create}. */
export const IMAGE_WRITER_OPTIONS = ADDON_OPTIONS.extend({
  /** Where to write (default: the experiment's walker). */
  walker: zwalker.optional(),
  /** Frames queued before the producer waits (default 8). */
  queueSize: z.number().int().min(1).optional(),
});

/** Writes frames losslessly: `await ImageWriter.create(experiment)`. */
export class ImageWriter extends Addon {
  static override readonly options = IMAGE_WRITER_OPTIONS;
  readonly kind = 'local';
  readonly walker: Walker;
  readonly #queueSize: number;
  #bytes = 0;
  #frames = 0;
  #last: string[] = [];
  /** Frames and file bytes per acquisition of the current run. */
  #run = new Map<string, { frames: number; bytes: number }>();

  constructor(experiment: Experiment, options: ImageWriterOptions = {}) {
    super(experiment, options);
    const walker = options.walker ?? experiment.walker;
    if (!walker)
      throw new AddonError(
        `ImageWriter: ${experiment.name} has no walker; pass { walker } or create the experiment with one`,
      );
    this.walker = walker;
    this.#queueSize = options.queueSize ?? 8;
  }

  /** Where the datasets of the last run went. */
  get locations(): readonly string[] {
    return this.#last;
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    return this.localConsumer(
      acquisition,
      async (frames) => {
        const writer = await this.walker.writer(acquisition.name);
        this.#last.push(writer.location);
        let ok = false;
        try {
          for await (const frame of frames) {
            await writer.write(frame);
            this.#frames++;
            this.#bytes += frame.data.byteLength;
          }
          ok = true;
        } finally {
          // Frames written so far stay complete files; a failed write leaves its file marked partial.
          if (ok) await writer.close();
          else await writer.close().catch(() => writer.abort());
          this.#run.set(acquisition.name, { frames: writer.framesWritten, bytes: writer.bytesWritten });
        }
      },
      { policy: 'lossless', queueSize: this.#queueSize },
    );
  }

  override async runFinished(): Promise<void> {
    this.#last = [];
    this.#run = new Map();
  }

  /** The bytes the walker would write for `acquisition` (TIFF: exact; HDF5: an estimate). */
  override async estimate(acquisition: Acquisition, plan: AcquisitionPlan): Promise<AddonEstimate> {
    return datasetEstimate(this.walker, acquisition.name, plan);
  }

  /** Frames and bytes (headers included, as on disk) of each acquisition of the run. */
  async actuals(): Promise<Record<string, { frames: number; bytes: number }>> {
    return Object.fromEntries(this.#run);
  }

  protected override counters(): Record<string, unknown> {
    return { framesWritten: this.#frames, bytesWritten: this.#bytes };
  }
}
