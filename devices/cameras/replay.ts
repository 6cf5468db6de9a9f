/**
 * A camera that plays a recording (`.clog`) back: its frames, bit for bit and in order, with
 * their original timing, as fast as possible, or paced to the frame rate; seek by frame index
 * (through an index built once on connect); optional looping. Addons can then be developed and
 * tested offline against a real recorded beamtime.
 * `import { ReplayCamera } from 'concert/devices/cameras/replay'`.
 * @module
 */
import { OptionError, ParameterError, sleep, z, type Frame, type FrameMetadata } from '../../core/index.js';
import { reclaimAfter } from '../../core/reclaim.js';
import { LogReader, type IndexEntry, type LogRecord, type StorageError } from '../../walkers/formats/index.js';
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

/** Consecutive frames up to this many bytes are read with one read of the file (at least one frame)… */
const SPAN_BYTES = 8 << 20;
/** …and at most this many. */
const SPAN_FRAMES = 64;

/** Frames `first` … `first + count - 1` (indices into the replayed frames), read or being read. */
interface Span {
  first: number;
  count: number;
  records: Promise<Array<LogRecord | StorageError>>;
}

/**
 * Plays a recording back as a camera. Frames are read ahead, consecutive ones (up to 8 MiB) with
 * one read of the file: a frame handed out is a view of that read's own fresh buffer (never
 * reused), so keeping one frame keeps its span's memory.
 */
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
  /** The span being handed out and the next one, read while the current one is (one span ahead). */
  #spans: Span[] = [];
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
    const spans = this.#spans;
    this.#spans = [];
    await Promise.allSettled(spans.map((span) => span.records));
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
    const record = await this.#record(index);
    signal.throwIfAborted();
    if (record instanceof Error) throw record;
    if (record.kind !== 'frame')
      throw new ParameterError(`${this.name}: record ${index} of ${this.file} is not a frame`);
    this.#position = index + 1;
    return this.#crop(record.frame, index, entry);
  }

  /** Record `index` from its span (read now if no span holds it), the next span read ahead. */
  #record(index: number): Promise<LogRecord | StorageError> {
    while (this.#spans.length > 0 && !holds(this.#spans[0]!, index)) this.#spans.shift();
    if (this.#spans.length === 0) this.#spans.push(this.#readSpan(index));
    const span = this.#spans[0]!;
    const after = span.first + span.count;
    const next = after < this.#frames.length ? after : this.loop ? 0 : undefined;
    if (this.#spans.length === 1 && next !== undefined && next !== span.first) this.#spans.push(this.#readSpan(next));
    return span.records.then((records) => records[index - span.first]!);
  }

  /** Starts reading the span of consecutive frames from `first`. */
  #readSpan(first: number): Span {
    const frames = this.#frames;
    let end = first + 1;
    let bytes = frames[first]!.length;
    while (end < frames.length && end - first < SPAN_FRAMES) {
      const before = frames[end - 1]!;
      const entry = frames[end]!;
      if (entry.offset !== before.offset + 4 + before.length || bytes + entry.length > SPAN_BYTES) break;
      bytes += entry.length;
      end++;
    }
    // Free the spans consumers dropped while their memory is warm (core/reclaim.ts).
    reclaimAfter(bytes);
    const records = this.#reader!.readSpan(frames.slice(first, end));
    records.catch(() => undefined); // a failure surfaces when one of its frames is grabbed
    return { first, count: end - first, records };
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

function holds(span: Span, index: number): boolean {
  return index >= span.first && index < span.first + span.count;
}
