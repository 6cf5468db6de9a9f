/**
 * A camera most labs own: frames from a V4L2 device (`/dev/video0`), an RTSP/HTTP stream (IP
 * cameras), a video file, or one of ffmpeg's `lavfi` test sources (`lavfi:testsrc2=size=640x480`),
 * decoded by ffmpeg to raw `gray8`, `gray16le` or `rgb24` (colour frames: `channels: 3`, 3
 * interleaved uint8 samples per pixel) over a pipe. The frame rate, the frame size and
 * the pixel format become ffmpeg options (`fps`, `scale`, `-pix_fmt`); the ROI crops the decoded
 * frames. With the AUTO trigger every decoded frame is handed out in order (a consumer that falls
 * more than `queueFrames` behind loses the oldest, counted in {@link FfmpegCamera.dropped}); with
 * the SOFTWARE trigger `grab()` takes the newest frame after each `trigger()`.
 * `import { FfmpegCamera } from 'concert/devices/cameras/ffmpeg'`.
 * @module
 */
import { errorMessage, makeFrame, OptionError, ParameterError, preciseNow, z, type Frame } from '../../core/index.js';
import { FfmpegProcess } from '../../video/index.js';
import { SIMULATED_CAMERA_OPTIONS, SimulatedCamera } from './simulated.js';
import { cropToRoi } from './timing.js';

/** The raw pixel formats ffmpeg decodes to. */
export const FFMPEG_PIXEL_FORMATS = ['gray8', 'gray16le', 'rgb24'] as const;
/** A raw pixel format of {@link FfmpegCamera}. */
export type FfmpegPixelFormat = (typeof FFMPEG_PIXEL_FORMATS)[number];

/** The options of {@link FfmpegCamera.create}. */
export const FFMPEG_CAMERA_OPTIONS = SIMULATED_CAMERA_OPTIONS.extend({
  /** `/dev/videoN`, `rtsp://…`, `http(s)://…`, a video file, or `lavfi:<filter graph>`. */
  source: z.string().min(1),
  /** Pixel format of the frames (default gray8); rgb24 gives colour frames (`channels: 3`). */
  pixelFormat: z.enum(FFMPEG_PIXEL_FORMATS).default('gray8'),
  /** Scale the source to this width (with `height`); default: the source's size. */
  width: z.number().int().min(1).max(16384).optional(),
  /** Scale the source to this height (with `width`). */
  height: z.number().int().min(1).max(16384).optional(),
  /** A video file starts over at its end (default true). */
  loop: z.boolean().default(true),
  /** Frames that wait for a slow consumer in AUTO mode before the oldest is dropped (default 16). */
  queueFrames: z.number().int().min(1).max(10_000).default(16),
  /** The ffmpeg binary (default: FFMPEG_PATH or the bundled one). */
  ffmpegPath: z.string().min(1).optional(),
});

/** Options of {@link FfmpegCamera.create}. */
export type FfmpegCameraOptions = z.input<typeof FFMPEG_CAMERA_OPTIONS>;

type SourceKind = 'v4l2' | 'stream' | 'lavfi' | 'file';

/** What kind of source `source` names. */
export function sourceKind(source: string): SourceKind {
  if (source.startsWith('lavfi:')) return 'lavfi';
  if (/^\/dev\/video\d+$/.test(source)) return 'v4l2';
  if (/^(rtsp|rtsps|rtmp|http|https|udp|tcp|srt):\/\//i.test(source)) return 'stream';
  return 'file';
}

/** The ffmpeg input options for `source`. */
function inputArgs(source: string, loop: boolean, rate: number, realTime: boolean): string[] {
  switch (sourceKind(source)) {
    case 'lavfi':
      return ['-re', '-f', 'lavfi', '-i', source.slice('lavfi:'.length)];
    case 'v4l2':
      return ['-f', 'v4l2', '-framerate', String(rate), '-i', source];
    case 'stream':
      return [...(/^rtsps?:/i.test(source) ? ['-rtsp_transport', 'tcp'] : []), '-i', source];
    case 'file':
      return [...(realTime ? ['-re'] : []), ...(loop ? ['-stream_loop', '-1'] : []), '-i', source];
  }
}

const PIX_FMT: Record<FfmpegPixelFormat, string> = { gray8: 'gray', gray16le: 'gray16le', rgb24: 'rgb24' };
const BYTES: Record<FfmpegPixelFormat, number> = { gray8: 1, gray16le: 2, rgb24: 3 };
const CHANNELS: Record<FfmpegPixelFormat, 1 | 3> = { gray8: 1, gray16le: 1, rgb24: 3 };

/** A camera whose frames ffmpeg decodes from a device, a stream, a file or a test source. */
export class FfmpegCamera extends SimulatedCamera {
  static override readonly options = FFMPEG_CAMERA_OPTIONS;
  /** The source the frames come from. */
  readonly sourceName: string;
  readonly pixelFormat: FfmpegPixelFormat;
  readonly #options: z.output<typeof FFMPEG_CAMERA_OPTIONS>;
  #sensor = { width: 0, height: 0 };
  #ffmpeg: FfmpegProcess | undefined;
  #reading: Promise<void> | undefined;
  #queue: Frame[] = [];
  #newest: Frame | undefined;
  #waiters: Array<() => void> = [];
  #failure: Error | undefined;
  #dropped = 0;
  #decoded = 0;

  constructor(options?: FfmpegCameraOptions) {
    super(options);
    if (typeof options?.source !== 'string' || options.source.length === 0)
      throw new OptionError(
        `FfmpegCamera.create: option 'source' is required (/dev/videoN, rtsp://…, a video file or lavfi:…)`,
      );
    const parsed = FFMPEG_CAMERA_OPTIONS.parse(options);
    if ((parsed.width === undefined) !== (parsed.height === undefined))
      throw new OptionError(`FfmpegCamera.create: give both 'width' and 'height' (the size to scale to), or neither`);
    this.#options = parsed;
    this.sourceName = parsed.source;
    this.pixelFormat = parsed.pixelFormat;
  }

  /** Frames decoded since the recording started. */
  get decoded(): number {
    return this.#decoded;
  }

  /** AUTO frames dropped because the consumer was more than `queueFrames` behind. */
  get dropped(): number {
    return this.#dropped;
  }

  protected override async connect(): Promise<void> {
    const o = this.#options;
    if (o.width !== undefined && o.height !== undefined) this.#sensor = { width: o.width, height: o.height };
    else this.#sensor = await this.#probe();
    this.roi = { x0: 0, y0: 0, ...this.#sensor };
  }

  /** The source's frame size, from one decoded frame. */
  async #probe(): Promise<{ width: number; height: number }> {
    const o = this.#options;
    const probe = FfmpegProcess.spawn({
      args: [...inputArgs(o.source, false, this.clock.rate, false), '-frames:v', '1', '-f', 'null', '-'],
      logLevel: 'info',
      logLines: 200,
      what: `probing ${o.source}`,
      ...(o.ffmpegPath ? { path: o.ffmpegPath } : {}),
    });
    try {
      await probe.wait();
    } catch (error) {
      throw new OptionError(`${this.name}: cannot open ${o.source}: ${errorMessage(error)}`, { cause: error });
    }
    for (const line of probe.log) {
      const m = /Stream #\d+:\d+.*: Video: .*?[\s,]([1-9]\d{0,4})x([1-9]\d{0,4})(?=[\s,[]|$)/.exec(line);
      if (m) return { width: Number(m[1]), height: Number(m[2]) };
    }
    throw new OptionError(`${this.name}: ffmpeg did not report the frame size of ${o.source}`);
  }

  protected async readSensorSize(): Promise<{ width: number; height: number }> {
    return { ...this.#sensor };
  }

  protected override async recordHook(start: boolean): Promise<void> {
    await super.recordHook(start);
    if (start) this.#spawn();
    else await this.#kill();
  }

  protected override async readoutHook(start: boolean): Promise<void> {
    if (start)
      throw new ParameterError(`${this.name}: an ffmpeg source has no frame memory to read out (record instead)`);
  }

  #spawn(): void {
    const o = this.#options;
    const { width, height } = this.#sensor;
    const filters = [`fps=${this.clock.rate}`, `scale=${width}:${height}`];
    this.#queue = [];
    this.#newest = undefined;
    this.#failure = undefined;
    this.#dropped = 0;
    this.#decoded = 0;
    const ffmpeg = FfmpegProcess.spawn({
      args: [
        ...inputArgs(o.source, o.loop, this.clock.rate, true),
        '-an',
        '-vf',
        filters.join(','),
        '-pix_fmt',
        PIX_FMT[this.pixelFormat],
        '-f',
        'rawvideo',
        'pipe:1',
      ],
      stdout: true,
      what: `decoding ${o.source}`,
      ...(o.ffmpegPath ? { path: o.ffmpegPath } : {}),
    });
    this.#ffmpeg = ffmpeg;
    const frameBytes = width * height * BYTES[this.pixelFormat];
    const rate = this.clock.rate;
    let firstAt: number | undefined;
    this.#reading = (async () => {
      try {
        for await (const chunk of ffmpeg.chunks(frameBytes)) {
          const data =
            this.pixelFormat === 'gray16le'
              ? new Uint16Array(chunk.buffer, chunk.byteOffset, chunk.byteLength / 2)
              : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          // ffmpeg's output runs at the frame rate (the fps filter): frame i was taken i periods
          // after frame 0, so a frame lost from the queue leaves a gap in camera time. A frame
          // that arrives before its time moves frame 0 earlier (no timestamp lies in the future).
          const arrived = preciseNow();
          const due = (this.#decoded * 1000) / rate;
          if (firstAt === undefined || firstAt + due > arrived) firstAt = arrived - due;
          const frame = makeFrame(data, [height, width], { timestamp: firstAt + due }, CHANNELS[this.pixelFormat]);
          this.#decoded++;
          this.#newest = frame;
          this.#queue.push(frame);
          if (this.#queue.length > o.queueFrames) {
            this.#queue.shift();
            this.#dropped++;
          }
          this.#wake();
        }
        await ffmpeg.wait();
        this.#failure = new ParameterError(`${this.name}: ${o.source} ended (no more frames)`);
      } catch (error) {
        if (this.#ffmpeg === ffmpeg) this.#failure = error as Error;
      } finally {
        this.#wake();
      }
    })();
  }

  async #kill(): Promise<void> {
    const ffmpeg = this.#ffmpeg;
    this.#ffmpeg = undefined;
    ffmpeg?.kill();
    await this.#reading;
    this.#reading = undefined;
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Waits for a decoded frame (or a failure, or the signal). */
  async #arrival(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  protected async grabHook(signal: AbortSignal): Promise<Frame> {
    if (this.state.current !== 'recording')
      throw new ParameterError(`${this.name}: an ffmpeg source has no frame memory to read out`);
    let frame: Frame | undefined;
    if (this.source === 'SOFTWARE') {
      await this.nextFrame(signal); // the trigger
      while (!(frame = this.#newest)) {
        if (this.#failure) throw this.#failure;
        await this.#arrival(signal);
      }
      this.#newest = undefined;
      this.#queue = [];
    } else {
      while (!(frame = this.#queue.shift())) {
        if (this.#failure) throw this.#failure;
        await this.#arrival(signal);
      }
      if (this.#newest === frame) this.#newest = undefined;
    }
    signal.throwIfAborted();
    const { width, height } = this.roi;
    const channels = CHANNELS[this.pixelFormat];
    const data = cropToRoi(frame.data, this.#sensor.width, this.#sensor.height, this.roi, channels);
    return makeFrame(
      data,
      [height, width],
      { timestamp: frame.metadata.timestamp, source: this.sourceName, pixelFormat: this.pixelFormat },
      channels,
    );
  }

  protected override async disconnectHook(): Promise<void> {
    await this.#kill();
  }
}
