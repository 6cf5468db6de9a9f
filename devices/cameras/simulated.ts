/**
 * The base of cameras without timing hardware (the dummy and the file camera): exposure, frame
 * rate, trigger source and ROI live in software, and a frame clock paces AUTO frames and waits
 * for SOFTWARE triggers.
 * @module
 * @internal
 */
import type { z } from '../../core/index.js';
import { DEVICE_OPTIONS, ParameterError, zq } from '../../core/index.js';
import * as base from './base.js';
import { FrameClock } from './timing.js';

/** The options every simulated camera takes. */
export const SIMULATED_CAMERA_OPTIONS = DEVICE_OPTIONS.extend({
  /** Exposure time per frame (default 1 ms). */
  exposureTime: zq('s').optional(),
  /** Frames per second in AUTO trigger mode (default 100 Hz). */
  frameRate: zq('Hz').optional(),
  /** Pixel pitch (default 6.5 µm). */
  pixelSize: zq('um').optional(),
});

/** Options every simulated camera takes. */
export type SimulatedCameraOptions = z.input<typeof SIMULATED_CAMERA_OPTIONS>;

/** A camera whose settings and timing are simulated in software. */
export abstract class SimulatedCamera extends base.Camera {
  static override readonly options = SIMULATED_CAMERA_OPTIONS;
  protected readonly clock: FrameClock;
  protected exposure = 1e-3;
  protected source: base.TriggerSource = 'AUTO';
  protected roi: base.Roi = { x0: 0, y0: 0, width: 0, height: 0 };
  readonly #pixelSize: number;

  /** @param buffer frames held for a consumer that falls behind (see {@link FrameClock}). */
  constructor(options: SimulatedCameraOptions = {}, buffer = 0) {
    super(options);
    this.clock = new FrameClock(100, () => this.name, buffer);
    this.#pixelSize = options.pixelSize?.toNumber('um') ?? 6.5;
    if (options.exposureTime) this.exposure = options.exposureTime.toNumber('s');
    if (options.frameRate) this.clock.rate = options.frameRate.toNumber('Hz');
  }

  protected async readExposureTime(): Promise<number> {
    return this.exposure;
  }
  protected async writeExposureTime(s: number): Promise<void> {
    this.exposure = s;
  }
  protected async readFrameRate(): Promise<number> {
    return this.clock.rate;
  }
  protected async writeFrameRate(hz: number): Promise<void> {
    this.clock.rate = hz;
  }
  protected async readTriggerSource(): Promise<base.TriggerSource> {
    return this.source;
  }
  protected async writeTriggerSource(source: base.TriggerSource): Promise<void> {
    this.source = source;
  }
  protected async readRoi(): Promise<base.Roi> {
    return { ...this.roi };
  }
  protected async writeRoi(roi: base.Roi): Promise<void> {
    if (this.state.current !== 'standby')
      throw new ParameterError(`${this.name}: the ROI can only change in standby (state is '${this.state.current}')`);
    this.roi = roi;
  }
  protected override readPixelSize(): [number, number] {
    return [this.#pixelSize, this.#pixelSize];
  }

  /** Paced by the frame clock alone: the simulated exposure takes no time, a trigger none either. */
  protected override async frameFormat(): Promise<base.FrameFormat> {
    return { dtype: 'uint16', periodMs: 1000 / this.clock.rate, triggeredMs: 0 };
  }

  protected async recordHook(start: boolean): Promise<void> {
    this.clock.record(start);
  }

  protected async triggerHook(): Promise<void> {
    this.clock.trigger();
  }

  /** Waits for the next frame (AUTO: its time at the frame rate; SOFTWARE: a trigger); resolves with its exposure time. */
  protected nextFrame(signal: AbortSignal): Promise<number> {
    return this.clock.wait(signal, this.source === 'SOFTWARE');
  }
}
