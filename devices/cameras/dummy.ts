/**
 * A simulated camera: 16-bit Poisson noise over a background, paced to the frame rate, with ROI,
 * trigger sources and recording/readout. `import { Camera } from 'concert/devices/cameras/dummy'`.
 * @module
 */
import { makeFrame, wallClockAt, z, zfunction, zwhere, type Frame } from '../../core/index.js';
import type * as base from './base.js';
import { SIMULATED_CAMERA_OPTIONS, SimulatedCamera } from './simulated.js';
import { cropToRoi } from './timing.js';
import { poissonFill } from './noise.js';
import { PHANTOM_OPTIONS, phantomRenderer } from './phantom.js';

/** The options of the dummy {@link DummyCamera}. */
export const DUMMY_CAMERA_OPTIONS = SIMULATED_CAMERA_OPTIONS.extend({
  /** Sensor width in pixels (default 640), ignored when `background` is given. */
  width: z.number().int().min(1).max(65536).optional(),
  /** Sensor height in pixels (default 480), ignored when `background` is given. */
  height: z.number().int().min(1).max(65536).optional(),
  /** The image under the noise (uint16); default: all ones. */
  background: zwhere(
    'a uint16 frame',
    (v): v is Frame<'uint16'> => typeof v === 'object' && v !== null && (v as Frame).dtype === 'uint16',
  ).optional(),
  /**
   * Frames the camera holds for a consumer that falls behind, as a real camera's memory or
   * driver ring does (default 0: a late consumer gets the next frame now, the frames it missed
   * were never taken). Only a consumer more than this many frames behind loses frames.
   */
  bufferFrames: z.number().int().min(0).max(100_000).optional(),
  /** Add Poisson noise of mean `background + exposure·1e5` (default true); false returns the background itself. */
  simulate: z.boolean().optional(),
  /**
   * Makes the frame instead of the background + noise (e.g. projections of a phantom); called
   * with the frame index within the recording, the ROI and the exposure time (`performance.now()`
   * clock). With it the camera keeps its exposure schedule when consumers fall behind, as a
   * camera with on-board memory does.
   */
  render: zfunction<(index: number, roi: base.Roi, exposedAt: number) => Frame | Promise<Frame>>().optional(),
  /**
   * Phantom mode: frames are projections of the Shepp-Logan phantom at `motor`'s angle (flat
   * and dark fields follow `shutter` and `flatMotor`), e.g. for a dummy tomography whose online
   * reconstruction shows something.
   */
  phantom: PHANTOM_OPTIONS.optional(),
});

/** Options of the dummy {@link DummyCamera}. */
export type DummyCameraOptions = z.input<typeof DUMMY_CAMERA_OPTIONS>;

/** A simulated camera that behaves like a real one. */
export class DummyCamera extends SimulatedCamera {
  static override readonly options = DUMMY_CAMERA_OPTIONS;

  readonly #background: Frame<'uint16'>;
  readonly #simulate: boolean;
  readonly #render: DummyCameraOptions['render'];
  #cropped: Uint16Array | undefined;
  #index = 0;

  constructor(options: DummyCameraOptions = {}) {
    const width = options.background?.shape[1] ?? options.width ?? 640;
    const height = options.background?.shape[0] ?? options.height ?? 480;
    const render = options.render ?? (options.phantom ? phantomRenderer(options.phantom, width) : undefined);
    super(options, render !== undefined ? Infinity : (options.bufferFrames ?? 0));
    this.#render = render;
    this.#background = options.background ?? makeFrame(new Uint16Array(width * height).fill(1), [height, width]);
    this.#simulate = options.simulate ?? true;
    this.roi = { x0: 0, y0: 0, width, height };
  }

  protected override async writeRoi(roi: base.Roi): Promise<void> {
    await super.writeRoi(roi);
    this.#cropped = undefined;
  }
  protected async readSensorSize(): Promise<{ width: number; height: number }> {
    return { width: this.#background.shape[1], height: this.#background.shape[0] };
  }

  /** Frames carry `timestampUs` too (rendered frames carry what the renderer gives). */
  protected override async frameFormat(): Promise<base.FrameFormat> {
    const format = await super.frameFormat();
    return this.#render ? format : { ...format, metadata: { timestampUs: Date.now() * 1000 } };
  }

  protected override async recordHook(start: boolean): Promise<void> {
    this.#index = 0;
    await super.recordHook(start);
  }

  protected async grabHook(signal: AbortSignal): Promise<Frame> {
    const exposedAt = await this.nextFrame(signal);
    const roi = this.roi;
    const index = this.#index++;
    if (this.#render) return this.#render(index, roi, exposedAt);
    const background = this.#crop();
    // The frame's timestamp is its exposure time (as a camera stamps its frames), not when it was
    // handed out; whole milliseconds as Date.now() gives, and whole microseconds (16 digits until
    // 2286), so a dry run knows its bytes exactly and a start skew is not rounded to 1 ms.
    const timestampUs = Math.round(wallClockAt(exposedAt) * 1000);
    const timestamp = Math.round(timestampUs / 1000);
    if (!this.#simulate) return makeFrame(background, [roi.height, roi.width], { timestamp, timestampUs });
    const data = new Uint16Array(background.length);
    poissonFill(data, background, this.exposure * 1e5);
    return makeFrame(data, [roi.height, roi.width], { timestamp, timestampUs });
  }

  #crop(): Uint16Array {
    const [fullHeight, fullWidth] = this.#background.shape;
    return (this.#cropped ??= cropToRoi(this.#background.data, fullWidth, fullHeight, this.roi));
  }
}

/** The family names users import: `import { Camera } from 'concert/devices/cameras/dummy'`. */
export { DummyCamera as Camera };
