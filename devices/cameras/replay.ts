/**
 * A camera that plays a recording (`.clog`) back: its frames, bit for bit and in order, with
 * their original timing, as fast as possible, or paced to the frame rate; seek by frame index
 * (through an index built once on connect); optional looping. Addons can then be developed and
 * tested offline against a real recorded beamtime.
 * `import { ReplayCamera } from 'concert/devices/cameras/replay'`.
 * @module
 */
import { OptionError, ParameterError, sleep, z, type Frame, type FrameMetadata } from '../../core/index.js';
import { LogReader, type IndexEntry, type LogRecord } from '../../walkers/formats/index.js';
import { SIMULATED_CAMERA_OPTIONS, SimulatedCamera } from './simulated.js';
import { cropToRoi } from './timing.js';

/**
 * When AUTO frames come: `'original'` at the recorded intervals (divided by `speed`), `'fast'` as
 * fast as they can be read, `'frame-rate'` paced to the camera's `frameRate`. SOFTWARE-triggered
 * frames always come on `trigger()`.
 */
export type ReplayTiming = 'original' | 'fast' | 'frame-rate';

/** The options of {@link ReplayCamera.create}. */
export const REPLAY_CAMERA_OPTIONS = SIMULATED_CAMERA_OPTIONS.extend({
  /** The recording to play (a `.clog` file). */
  file: z.string().min(1),
  /** Default `'original'`. */
  timing: z.enum(['original', 'fast', 'frame-rate']).optional(),
  /** `'original'` timing: play this many times faster (default 1). */
  speed: z.number().positive().optional(),
  /** Start over after the last frame (default false: `stream()` ends there, `grab()` fails). */
  loop: z.boolean().optional(),
  /** Only the frames of this acquisition (recordings of local acquisitions name it). */
  acquisition: z.string().optional(),
});

/** Options of {@link ReplayCamera.create}. */
export type ReplayCameraOptions = z.input<typeof REPLAY_CAMERA_OPTIONS>;

/** Plays a recording back as a camera. */
export class ReplayCamera extends SimulatedCamera {
  static override readonly options = REPLAY_CAMERA_OPTIONS;

  /** The recording played. */
  readonly file: string;
  readonly timing: ReplayTiming;
  readonly speed: number;
  readonly loop: boolean;
  readonly #acquisition: string | undefined;
  #reader: LogReader | undefined;
  #frames: IndexEntry[] = [];
  #sensor = { width: 0, height: 0 };
  #position = 0;
  /** The read of the next frame, started while the current one is handed out (one frame ahead). */
  #ahead: { index: number; record: Promise<LogRecord> } | undefined;
  /** Original timing: the replay clock (`performance.now()`) and the recorded time it matches. */
  #anchor: { at: number; recorded: number } | undefined;

  constructor(options?: ReplayCameraOptions) {
    super(options);
    if (typeof options?.file !== 'string' || options.file.length === 0)
      throw new OptionError(`ReplayCamera.create: option 'file' is required (a recording, e.g. 'run1.clog')`);
    this.file = options.file;
    this.timing = options.timing ?? 'original';
    this.speed = options.speed ?? 1;
    this.loop = options.loop ?? false;
    this.#acquisition = options.acquisition;
  }

  /** How many frames the recording holds (of the chosen acquisition). */
  get length(): number {
    return this.#frames.length;
  }

  /** Index of the frame the next grab delivers. */
  get position(): number {
    return this.#position;
  }

  /** The receive time (ms since the epoch) of frame `index` in the recording. */
  recordedAt(index: number): number {
    return this.#entry(index).receivedAt;
  }

  /**
   * Makes frame `index` (0-based) the next one delivered.
   * @throws ParameterError if there is no such frame.
   */
  async seek(index: number): Promise<void> {
    this.#entry(index);
    this.#position = index;
    this.#anchor = undefined;
  }

  /** Like the base `stream()`, but without `loop` it ends after the last frame instead of failing. */
  override stream(options: { signal?: AbortSignal; count?: number } = {}): AsyncGenerator<Frame> {
    const count = this.loop ? options.count : Math.min(options.count ?? Infinity, this.length - this.#position);
    return super.stream({ ...options, count: count === Infinity ? undefined : count });
  }

  protected override async connect(): Promise<void> {
    const reader = await LogReader.open(this.file);
    try {
      const index = await reader.index();
      const wanted = this.#acquisition;
      const frames = wanted === undefined ? index.frames : index.frames.filter((f) => f.header?.acquisition === wanted);
      if (frames.length === 0)
        throw new OptionError(
          `${this.name}: ${this.file} holds no frames${wanted === undefined ? '' : ` of acquisition '${wanted}'`}`,
        );
      const shape = frames[0]!.header!.shape as [number, number];
      this.#reader = reader;
      this.#frames = frames;
      this.#sensor = { width: shape[1], height: shape[0] };
      this.roi = { x0: 0, y0: 0, ...this.#sensor };
      if (index.ending.cutShort)
        this.log.warn(
          `${this.file} was cut short (${index.ending.cutShort.reason}); replaying its ${frames.length} whole frames`,
        );
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  protected override async disconnectHook(): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    await this.#ahead?.record.catch(() => undefined);
    this.#ahead = undefined;
    await reader?.close().catch(() => undefined);
  }

  protected async readSensorSize(): Promise<{ width: number; height: number }> {
    return { ...this.#sensor };
  }

  protected override async recordHook(start: boolean): Promise<void> {
    this.#anchor = undefined;
    await super.recordHook(start);
  }

  protected async grabHook(signal: AbortSignal): Promise<Frame> {
    if (this.#position >= this.#frames.length) {
      if (!this.loop)
        throw new ParameterError(
          `${this.name}: the replay of ${this.file} is at its end (${this.#frames.length} frames); ` +
            'seek(0) to start over or create it with loop: true',
        );
      this.#position = 0;
      this.#anchor = undefined;
    }
    const index = this.#position;
    const entry = this.#frames[index]!;
    await this.#wait(entry, signal);
    const ahead = this.#ahead;
    this.#ahead = undefined;
    const record = await (ahead?.index === index ? ahead.record : this.#reader!.read(entry));
    const next = index + 1 < this.#frames.length ? index + 1 : this.loop ? 0 : undefined;
    if (next !== undefined) {
      const reading = this.#reader!.read(this.#frames[next]!);
      reading.catch(() => undefined); // a failure surfaces when that frame is grabbed
      this.#ahead = { index: next, record: reading };
    }
    signal.throwIfAborted();
    if (record.kind !== 'frame')
      throw new ParameterError(`${this.name}: record ${index} of ${this.file} is not a frame`);
    this.#position = index + 1;
    return this.#crop(record.frame, index, entry);
  }

  async #wait(entry: IndexEntry, signal: AbortSignal): Promise<void> {
    if (this.state.current !== 'recording') return;
    if (this.source === 'SOFTWARE' || this.timing === 'frame-rate') {
      await this.nextFrame(signal);
      return;
    }
    if (this.timing === 'fast') return;
    const now = performance.now();
    if (!this.#anchor) {
      this.#anchor = { at: now, recorded: entry.receivedAt };
      return;
    }
    const due = this.#anchor.at + (entry.receivedAt - this.#anchor.recorded) / this.speed;
    if (due - now >= 1) await sleep(due - now, signal);
  }

  #entry(index: number): IndexEntry {
    const entry = Number.isInteger(index) ? this.#frames[index] : undefined;
    if (!entry)
      throw new ParameterError(
        `${this.name}: there is no frame ${index} in ${this.file} (it has frames 0 … ${this.#frames.length - 1})`,
      );
    return entry;
  }

  /** The frame cropped to the ROI, with the recorded metadata kept as `recorded…` and a fresh timestamp. */
  #crop(frame: Frame, index: number, entry: IndexEntry): Frame {
    const [height, width] = frame.shape;
    if (width !== this.#sensor.width || height !== this.#sensor.height)
      throw new ParameterError(
        `${this.name}: frame ${index} of ${this.file} is ${width}×${height} px, ` +
          `but the recording started with ${this.#sensor.width}×${this.#sensor.height} px`,
      );
    const recorded = frame.metadata;
    const metadata: FrameMetadata = { frameNumber: index, timestamp: Date.now() };
    for (const key in recorded) if (key !== 'frameNumber' && key !== 'timestamp') metadata[key] = recorded[key];
    metadata.recordedFrameNumber = recorded.frameNumber;
    metadata.recordedTimestamp = recorded.timestamp;
    metadata.receivedAt = entry.receivedAt;
    metadata.replayIndex = index;
    const roi = this.roi;
    // A plain frame (no rest/spread copies, no second makeFrame): grab() checks it and makes the
    // frame handed out, with its own frame number.
    return {
      data: cropToRoi(frame.data, width, height, roi),
      shape: [roi.height, roi.width],
      dtype: frame.dtype,
      metadata,
    };
  }
}
