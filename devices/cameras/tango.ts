/**
 * A camera that reads frames from an image attribute of a Tango device:
 * `import { Camera } from 'concert/devices/cameras/tango'`.
 *
 * Mapping (names configurable; an empty string turns a mapping off):
 * - `imageAttribute` (default `image`): any numeric image attribute; each grab reads it once and
 *   gets the pixels as a typed array (8/16/32-bit integers, float32/64), no per-pixel work.
 * - `exposureTimeAttribute` (`exposure_time`) and `frameRateAttribute` (`frame_rate`): used when
 *   the device has them (their Tango unit is converted, e.g. `ms`); else the value is kept here.
 * - `startCommand`/`stopCommand` (`Start`/`Stop`) run on start/stopRecording() and
 *   `triggerCommand` (`Trigger`) on trigger(), when the device has them.
 *
 * Trigger sources are handled here: AUTO paces reads to the frame rate, SOFTWARE reads one frame
 * per `trigger()`, EXTERNAL reads whenever `grab()` is called. The ROI crops the image here (row
 * copies); the sensor size is the image size at connect.
 * @example
 * ```ts
 * import { Camera } from 'concert/devices/cameras/tango';
 * const camera = await Camera.create({
 *   name: 'camera',
 *   device: 'tango://host:10000/sys/tg_test/1#dbase=no',
 *   imageAttribute: 'ushort_image_ro',
 * });
 * const frame = await camera.recording(() => camera.grab());
 * ```
 * @module
 */
import {
  ConcertError,
  isDType,
  makeFrame,
  OptionError,
  ParameterError,
  z,
  zq,
  type DType,
  type Frame,
  type PixelArray,
} from '../../core/index.js';
import type { AttributeReading, DeviceProxy } from '../../tango/index.js';
import {
  abortable,
  commandNames,
  connectProxy,
  requireAttributes,
  TANGO_DEVICE_OPTIONS,
  unitScale,
} from '../tango-support.js';
import * as base from './base.js';
import { cropToRoi, FrameClock } from './timing.js';

/** The options of the Tango {@link TangoCamera}. */
export const TANGO_CAMERA_OPTIONS = TANGO_DEVICE_OPTIONS.extend({
  /** Image attribute (default `image`). */
  imageAttribute: z.string().optional(),
  /** Exposure time attribute (default `exposure_time`, if the device has it). */
  exposureTimeAttribute: z.string().optional(),
  /** Frame rate attribute (default `frame_rate`, if the device has it). */
  frameRateAttribute: z.string().optional(),
  /** Start command (default `Start`, if the device has it). */
  startCommand: z.string().optional(),
  /** Stop command (default `Stop`, if the device has it). */
  stopCommand: z.string().optional(),
  /** Trigger command (default `Trigger`, if the device has it). */
  triggerCommand: z.string().optional(),
  /** Pixel pitch (default 1 µm). */
  pixelSize: zq('um').optional(),
  /** Starting exposure time kept here when the device has no attribute for it (default 1 ms). */
  exposureTime: zq('s').optional(),
  /** Starting frame rate kept here when the device has no attribute for it (default 100 Hz). */
  frameRate: zq('Hz').optional(),
});

/** Options of the Tango {@link TangoCamera}. */
export type TangoCameraOptions = z.input<typeof TANGO_CAMERA_OPTIONS>;

/** An attribute or command mapping: its name, or undefined when unused. */
type Mapping = string | undefined;

/** A camera reading frames from a Tango image attribute. */
export class TangoCamera extends base.Camera {
  static override readonly options = TANGO_CAMERA_OPTIONS;

  /** The Tango device. @internal Valid after create(). */
  proxy!: DeviceProxy;
  readonly #o: TangoCameraOptions;
  readonly #image: string;
  #exposureAttr: Mapping;
  #rateAttr: Mapping;
  #exposureScale = 1;
  #rateScale = 1;
  #start: Mapping;
  #stop: Mapping;
  #trigger: Mapping;
  #exposure: number;
  #source: base.TriggerSource = 'AUTO';
  #sensor = { width: 0, height: 0 };
  #roi: base.Roi = { x0: 0, y0: 0, width: 0, height: 0 };
  readonly #pixelSize: number;
  readonly #clock = new FrameClock(100, () => this.name);
  /** The dtype and a time stamp of the image read at connect (what dry runs assume frames look like). */
  #sample: { dtype: DType; time: unknown } = { dtype: 'uint16', time: 0 };

  constructor(options: TangoCameraOptions) {
    super(options);
    if (typeof options?.device !== 'string')
      throw new OptionError(`${this.kind}.create: option 'device' (the Tango device address) is required`);
    this.#o = options;
    this.#image = options.imageAttribute ?? 'image';
    this.#exposure = options.exposureTime?.toNumber('s') ?? 1e-3;
    this.#clock.rate = options.frameRate?.toNumber('Hz') ?? 100;
    this.#pixelSize = options.pixelSize?.toNumber('um') ?? 1;
  }

  protected override async connect(): Promise<void> {
    const proxy = await connectProxy(this.name, this.#o);
    try {
      const o = this.#o;
      const attributes = new Set((await proxy.attributeList()).map((n) => n.toLowerCase()));
      const commands = await commandNames(proxy);
      // An explicit name must exist; a default one is used only if it does.
      const pick = (given: string | undefined, fallback: string, has: Set<string>, what: string): Mapping => {
        if (given === '') return undefined;
        if (given === undefined) return has.has(fallback.toLowerCase()) ? fallback : undefined;
        if (!has.has(given.toLowerCase()))
          throw new OptionError(`${this.name}: the Tango device ${proxy.name} has no ${what} '${given}'`);
        return given;
      };
      await requireAttributes(this.name, proxy, [this.#image]);
      this.#exposureAttr = pick(o.exposureTimeAttribute, 'exposure_time', attributes, 'attribute');
      this.#rateAttr = pick(o.frameRateAttribute, 'frame_rate', attributes, 'attribute');
      this.#start = pick(o.startCommand, 'Start', commands, 'command');
      this.#stop = pick(o.stopCommand, 'Stop', commands, 'command');
      this.#trigger = pick(o.triggerCommand, 'Trigger', commands, 'command');
      const configs = await proxy.attributeConfig([
        this.#image,
        ...[this.#exposureAttr, this.#rateAttr].filter((n): n is string => n !== undefined),
      ]);
      const warn = (m: string) => this.log.warn(m);
      if (configs[0]!.format !== 'IMAGE')
        throw new OptionError(
          `${this.name}: the Tango attribute ${proxy.name}/${this.#image} is a ${configs[0]!.format}, not an IMAGE`,
        );
      let i = 1;
      if (this.#exposureAttr) this.#exposureScale = unitScale(configs[i++]!.unit, 's', warn);
      if (this.#rateAttr) this.#rateScale = unitScale(configs[i++]!.unit, 'Hz', warn);
      this.proxy = proxy;
      const first = await this.#readImage();
      this.#sensor = { width: first.dimX, height: first.dimY };
      this.#sample = { dtype: typedName(first.value) as DType, time: first.time };
      this.#roi = { x0: 0, y0: 0, width: first.dimX, height: first.dimY };
      if (o.exposureTime && this.#exposureAttr) await this.writeExposureTime(this.#exposure);
      if (o.frameRate && this.#rateAttr) await this.writeFrameRate(this.#clock.rate);
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }

  protected override async disconnectHook(): Promise<void> {
    await this.proxy?.close();
  }

  /** The image's dtype as the device delivers it; frames carry the device's time stamp. */
  protected override async frameFormat(): Promise<base.FrameFormat> {
    return { dtype: this.#sample.dtype, metadata: { tangoTime: this.#sample.time } };
  }

  async #readNumber(attribute: string, scale: number): Promise<number> {
    return Number((await this.proxy.readAttribute(attribute)).value) / scale;
  }

  protected async readExposureTime(): Promise<number> {
    return this.#exposureAttr ? this.#readNumber(this.#exposureAttr, this.#exposureScale) : this.#exposure;
  }

  protected async writeExposureTime(seconds: number): Promise<void> {
    if (this.#exposureAttr) await this.proxy.writeAttribute(this.#exposureAttr, seconds * this.#exposureScale);
    this.#exposure = seconds;
  }

  protected async readFrameRate(): Promise<number> {
    return this.#rateAttr ? this.#readNumber(this.#rateAttr, this.#rateScale) : this.#clock.rate;
  }

  protected async writeFrameRate(hz: number): Promise<void> {
    if (this.#rateAttr) await this.proxy.writeAttribute(this.#rateAttr, hz * this.#rateScale);
    this.#clock.rate = hz;
  }

  protected async readTriggerSource(): Promise<base.TriggerSource> {
    return this.#source;
  }

  protected async writeTriggerSource(source: base.TriggerSource): Promise<void> {
    this.#source = source;
  }

  protected async readRoi(): Promise<base.Roi> {
    return { ...this.#roi };
  }

  protected async writeRoi(roi: base.Roi): Promise<void> {
    if (this.state.current !== 'standby')
      throw new ParameterError(`${this.name}: the ROI can only change in standby (state is '${this.state.current}')`);
    this.#roi = roi;
  }

  protected async readSensorSize(): Promise<{ width: number; height: number }> {
    return { ...this.#sensor };
  }

  protected override readPixelSize(): [number, number] {
    return [this.#pixelSize, this.#pixelSize];
  }

  protected async recordHook(start: boolean): Promise<void> {
    const command = start ? this.#start : this.#stop;
    if (command) await this.proxy.command(command);
    this.#clock.record(start);
  }

  protected async triggerHook(): Promise<void> {
    if (this.#trigger) await this.proxy.command(this.#trigger);
    this.#clock.trigger();
  }

  protected async grabHook(signal: AbortSignal): Promise<Frame> {
    if (this.#source !== 'EXTERNAL') await this.#clock.wait(signal, this.#source === 'SOFTWARE');
    const reading = await abortable(this.#readImage(), signal);
    const { width, height } = this.#sensor;
    if (reading.dimX !== width || reading.dimY !== height)
      throw new ConcertError(
        `${this.name}: the Tango image ${this.proxy.name}/${this.#image} is now ${reading.dimX}×${reading.dimY} px, not ` +
          `${width}×${height} px as at connect (create the camera again)`,
      );
    return makeFrame(
      cropToRoi(reading.value as PixelArray, width, height, this.#roi),
      [this.#roi.height, this.#roi.width],
      { tangoTime: reading.time },
    );
  }

  /** Reads the image attribute; checks that it holds pixels of a frame dtype. */
  async #readImage(): Promise<AttributeReading & { value: PixelArray }> {
    const reading = await this.proxy.readAttribute(this.#image);
    const value = reading.value as unknown;
    if (!ArrayBuffer.isView(value) || value instanceof DataView || !isDType(typedName(value)))
      throw new ConcertError(
        `${this.name}: the Tango attribute ${this.proxy.name}/${this.#image} does not hold a numeric image of 8/16/32-bit integers or ` +
          `floats (got ${describe(value)})`,
      );
    return reading as AttributeReading & { value: PixelArray };
  }
}

/** `uint16` for a Uint16Array, … (the dtype naming of frames). */
function typedName(a: ArrayBufferView): string {
  return a.constructor.name
    .replace(/Array$/, '')
    .replace(/^Uint/, 'uint')
    .replace(/^Int/, 'int')
    .replace(/^Float/, 'float');
}

function describe(v: unknown): string {
  if (v === undefined) return 'no value';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return Array.isArray(v) ? 'a plain array' : typeof v;
}

/** The family names users import: `import { Camera } from 'concert/devices/cameras/tango'`. */
export { TangoCamera as Camera };
