/**
 * `Recorder`: records the frames of an experiment's acquisitions into segmented recordings
 * (`.clog`, see `docs/recording.md`): `await rec.start('run1.clog')` … `await rec.stop()`, any
 * number of times, each segment its own file, during a run or across runs. Frames keep their
 * metadata and get the acquisition's name; each acquisition run that ends inside a segment
 * leaves an end marker. Lossless: while a segment is open, a slow disk slows the producer down
 * (never a lost frame, never an unbounded queue); outside segments frames are discarded.
 * @module
 */
import { z } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import {
  SegmentRecorder,
  type RecorderCounters,
  type SegmentResult,
  type StartOptions,
} from '../../recording/index.js';
import { Addon, ADDON_OPTIONS } from '../base.js';

/** The options of {@link Recorder.create}. */
export const RECORDER_OPTIONS = ADDON_OPTIONS.extend({
  /** Frames queued per acquisition before the producer waits (default 8). */
  queueSize: z.number().int().min(1).optional(),
});

/** Options of {@link Recorder.create}. */
export type RecorderOptions = z.input<typeof RECORDER_OPTIONS>;

/**
 * Records frames in start/stop segments.
 * @example
 * ```ts
 * const rec = await Recorder.create(exp, { acquisitions: ['radios'] });
 * const run = exp.run();
 * await rec.start('/data/run1.clog');
 * await sleep(10_000);
 * await rec.stop();            // the file is complete and flushed to disk
 * await run;
 * ```
 */
export class Recorder extends Addon {
  static override readonly options = RECORDER_OPTIONS;
  readonly kind = 'local';
  readonly #segments: SegmentRecorder;
  readonly #queueSize: number;

  constructor(experiment: Experiment, options: RecorderOptions = {}) {
    super(experiment, options);
    this.#queueSize = options.queueSize ?? 8;
    this.#segments = new SegmentRecorder(this.name, () => {
      const names = this.acquisitions.map((a) => a.name);
      return { kind: 'acquisition', description: `${experiment.name}: ${names.join(', ')}`, acquisitions: names };
    });
  }

  /** The file of the open segment, or undefined. */
  get recording(): string | undefined {
    return this.#segments.recording;
  }

  /** The segments finished so far. */
  get segments(): readonly SegmentResult[] {
    return this.#segments.segments;
  }

  /**
   * Opens a segment in `path`: frames from now on go into it.
   * @throws RecordingError while recording (`already recording to …; stop() first`); StorageError
   *   if the file exists or cannot be created.
   */
  start(path: string, options?: StartOptions): Promise<void> {
    return this.#segments.start(path, options);
  }

  /**
   * Closes the segment; resolves when its file is complete and flushed to disk.
   * @throws RecordingError if not recording; StorageError if the segment failed (disk full).
   */
  stop(): Promise<SegmentResult> {
    return this.#segments.stop();
  }

  /** Detaches from the acquisitions, then closes an open segment. */
  override async detach(): Promise<void> {
    await super.detach();
    if (this.#segments.recording) await this.#segments.stop();
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    const name = acquisition.name;
    return this.localConsumer(
      acquisition,
      async (frames) => {
        for await (const frame of frames)
          await this.#segments.frame({ ...frame, metadata: { ...frame.metadata, acquisition: name } });
        await this.#segments.end({ acquisition: name });
      },
      { policy: 'lossless', queueSize: this.#queueSize },
    );
  }

  protected override counters(): Record<string, unknown> {
    const c: RecorderCounters = this.#segments.counters;
    return { recording: this.recording ?? null, recorded: c.recorded, discarded: c.discarded, segments: c.segments };
  }
}
