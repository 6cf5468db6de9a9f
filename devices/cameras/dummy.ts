/**
 * A simulated camera: 16-bit Poisson noise over a background, paced to the frame rate, with ROI,
 * trigger sources and recording/readout. `import { Camera } from 'concert/devices/cameras/dummy'`.
 * @module
 */
import { makeFrame, opt, type Frame, type OptionSpec, type Unit } from '../../core/index.js';
import * as base from './base.js';
import { SimulatedCamera } from './simulated.js';
import { cropToRoi } from './timing.js';
import { poissonFill } from './noise.js';
import { phantomRenderer, type PhantomOptions } from './phantom.js';

/** Options of the dummy {@link Camera}. */
export interface DummyCameraOptions {
  name?: string;
  /** Sensor size in pixels (default 640 × 480), ignored when `background` is given. */
  width?: number;
  height?: number;
  /** The image under the noise (uint16); default: all ones. */
  background?: Frame<'uint16'>;
  /** Add Poisson noise of mean `background + exposure·1e5` (default true); false returns the background itself. */
  simulate?: boolean;
  exposureTime?: Unit;
  frameRate?: Unit;
  /** Pixel pitch (default 6.5 µm). */
  pixelSize?: Unit;
  /**
   * Makes the frame instead of the background + noise (e.g. projections of a phantom); called
   * with the frame index within the recording, the ROI and the exposure time (`performance.now()`
   * clock). With it the camera keeps its exposure schedule when consumers fall behind, as a
   * camera with on-board memory does.
   */
  render?: (index: number, roi: base.Roi, exposedAt: number) => Frame | Promise<Frame>;
  /**
   * Phantom mode: frames are projections of the Shepp-Logan phantom at `motor`'s angle (flat
   * and dark fields follow `shutter` and `flatMotor`), e.g. for a dummy tomography whose online
   * reconstruction shows something.
   */
  phantom?: PhantomOptions;
}

/** A simulated camera that behaves like a real one. */
export class Camera extends SimulatedCamera {
  static override readonly options: OptionSpec = {
    ...base.Camera.options,
    width: opt.number({ min: 1, max: 65536, integer: true }),
    height: opt.number({ min: 1, max: 65536, integer: true }),
    background: (v) =>
      typeof v === 'object' && v !== null && (v as Frame).dtype === 'uint16' ? undefined : 'must be a uint16 frame',
    simulate: opt.boolean,
    exposureTime: opt.quantity('s'),
    frameRate: opt.quantity('Hz'),
    pixelSize: opt.quantity('um'),
    render: opt.function,
    phantom: (v) =>
      typeof v === 'object' && v !== null && 'motor' in v
        ? undefined
        : 'must be { motor, shutter?, flatMotor?, flatPosition? }',
  };

  readonly #background: Frame<'uint16'>;
  readonly #simulate: boolean;
  readonly #render: DummyCameraOptions['render'];
  #cropped: Uint16Array | undefined;
  #index = 0;

  constructor(options: DummyCameraOptions = {}) {
    const width = options.background?.shape[1] ?? options.width ?? 640;
    const height = options.background?.shape[0] ?? options.height ?? 480;
    const render = options.render ?? (options.phantom ? phantomRenderer(options.phantom, width) : undefined);
    super(options, render !== undefined);
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
    if (!this.#simulate) return makeFrame(background, [roi.height, roi.width]);
    const data = new Uint16Array(background.length);
    poissonFill(data, background, this.exposure * 1e5);
    return makeFrame(data, [roi.height, roi.width]);
  }

  #crop(): Uint16Array {
    const [fullHeight, fullWidth] = this.#background.shape;
    return (this.#cropped ??= cropToRoi(this.#background.data, fullWidth, fullHeight, this.roi));
  }
}
