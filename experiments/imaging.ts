/**
 * Imaging experiments: frame helpers, tomography arithmetic, and the source-independent bases
 * {@link Radiography}, {@link SteppedTomography}, {@link ContinuousTomography} and the
 * grating-interferometry stepping. A base exposes the sample through two hooks,
 * `startSampleExposure`/`stopSampleExposure`; `experiments/synchrotron.ts` (a shutter) and
 * `experiments/xraytube.ts` (a tube switched on and off) implement them.
 *
 * Frames carry what writers need in their metadata: `image_key` (0 projection, 1 flat, 2 dark, as
 * NXtomo) and, for tomography, `angle` in degrees.
 * @module
 */
import {
  checkOptions,
  isQuantity,
  math,
  OptionError,
  ParameterError,
  q,
  soft,
  toNumber,
  type AnyParameter,
  type Frame,
  type OptionCheck,
  type OptionSpec,
  type Quantity,
  type Unit,
} from '../core/index.js';
import { Camera } from '../devices/cameras/index.js';
import { Motor } from '../devices/motors/index.js';
import type { Walker } from '../walkers/index.js';
import { Acquisition } from './acquisition.js';
import { Experiment } from './experiment.js';

/** NXtomo image keys, as written into frame metadata (`image_key`). */
export const IMAGE_KEYS = { projection: 0, flat: 1, dark: 2 } as const;

// ---------------------------------------------------------------------------------------------
// Frame helpers and tomography arithmetic

/** A frame with `extra` merged into its metadata (the pixels are shared, not copied). */
export function withMetadata<F extends Frame>(frame: F, extra: Record<string, unknown>): F {
  return { data: frame.data, shape: frame.shape, dtype: frame.dtype, metadata: { ...frame.metadata, ...extra } } as F;
}

/** Stops recording or readout so that the camera can be set up again. */
async function toStandby(camera: Camera): Promise<void> {
  const state = camera.state.current;
  if (state === 'recording') await camera.stopRecording();
  else if (state === 'readout') await camera.stopReadout();
}

/**
 * Yields `count` software-triggered frames. `before(i)` runs before frame `i` is triggered (move a
 * motor there) and may return metadata for that frame. The trigger source is restored and the
 * camera back in standby afterwards, also when aborted or stopped early.
 * @internal
 */
export async function* triggeredFrames(
  camera: Camera,
  count: number,
  signal?: AbortSignal,
  before?: (index: number, signal: AbortSignal | undefined) => Promise<Record<string, unknown> | void>,
): AsyncGenerator<Frame> {
  await toStandby(camera);
  await camera.triggerSource.stash();
  try {
    await camera.setTriggerSource('SOFTWARE');
    await camera.startRecording();
    try {
      for (let i = 0; i < count; i++) {
        signal?.throwIfAborted();
        const extra = before ? await before(i, signal) : undefined;
        await camera.trigger();
        const frame = await camera.grab({ signal });
        yield extra ? withMetadata(frame, extra) : frame;
      }
    } finally {
      if (camera.state.current === 'recording') await camera.stopRecording();
    }
  } finally {
    await camera.triggerSource.restore();
  }
}

/**
 * Yields `count` free-running (AUTO trigger) frames; `metadata(i)` is merged into frame `i`.
 * @internal
 */
export async function* autoFrames(
  camera: Camera,
  count: number,
  signal?: AbortSignal,
  metadata?: (index: number) => Record<string, unknown>,
): AsyncGenerator<Frame> {
  await toStandby(camera);
  let i = 0;
  for await (const frame of camera.stream({ signal, count })) {
    yield metadata ? withMetadata(frame, metadata(i)) : frame;
    i++;
  }
}

/**
 * Takes `count` frames with `camera` in SOFTWARE trigger mode: triggers and grabs each. The
 * camera's trigger source is restored and recording stopped afterwards, also when the consumer
 * stops early or `signal` aborts.
 * @example
 * ```ts
 * for await (const frame of frames(10, camera)) console.log(frame.metadata.frameNumber);
 * ```
 */
export async function* frames(count: number, camera: Camera, options: { signal?: AbortSignal } = {}): AsyncGenerator<Frame> {
  checkCount('frames(): count', count);
  yield* triggeredFrames(camera, count, options.signal);
}

function widthInPixels(width: Unit | number): number {
  const w = typeof width === 'number' ? width : toNumber(width, 'px', 'frame width');
  if (!(w > 0) || !Number.isFinite(w)) throw new ParameterError(`the frame width must be a positive number of pixels, got ${w}`);
  return w;
}

/**
 * The angular step of a tomographic scan for which no pixel of a frame `width` pixels wide moves by
 * more than one pixel between projections: atan(2 / width), in rad.
 * @param width in pixels (a number or a quantity in px)
 */
export function tomoAngularStep(width: Unit | number): Unit {
  return q(Math.atan(2 / widthInPixels(width)), 'rad');
}

/**
 * The least number of projections of a tomographic scan over 180° for a frame `width` pixels
 * wide: ceil(π / atan(2 / width)). 100 px → 158.
 */
export function tomoProjectionsNumber(width: Unit | number): number {
  return Math.ceil(Math.PI / Math.atan(2 / widthInPixels(width)));
}

/**
 * The fastest rotation with less than one pixel of motion blur per frame: atan(2 / width) · frame
 * rate, in rad/s. The frame rate (not the exposure time) counts, since the sample must not move by
 * more than a pixel from one frame to the next.
 */
export function tomoMaxSpeed(width: Unit | number, frameRate: Unit): Unit {
  return q(Math.atan(2 / widthInPixels(width)) * toNumber(frameRate, 'Hz', 'frame rate'), 'rad/s');
}

// ---------------------------------------------------------------------------------------------
// Option checks

function checkCount(what: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ParameterError(`${what} must be an integer ≥ 0, got ${String(n)}`);
}

const count: OptionCheck = (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : 'must be an integer ≥ 0');
const anyQuantity: OptionCheck = (v) => (isQuantity(v) ? undefined : "must be a quantity, e.g. q('1 mm')");
const motor: OptionCheck = (v) => (v instanceof Motor ? undefined : 'must be a Motor');

/** Options every experiment accepts (passed on to {@link Experiment}). */
const EXPERIMENT_OPTIONS: OptionSpec = {
  name: (v) => (typeof v === 'string' ? undefined : 'must be a string'),
  walker: (v) => (typeof v === 'object' && v !== null && 'descend' in v ? undefined : 'must be a Walker'),
  separateScans: (v) => (typeof v === 'boolean' ? undefined : 'must be true or false'),
  nameFmt: (v) => (typeof v === 'string' ? undefined : 'must be a string'),
  prepare: (v) => (typeof v === 'function' ? undefined : 'must be a function'),
  finish: (v) => (typeof v === 'function' ? undefined : 'must be a function'),
};

/** @internal Option checks for subclasses and mixins. */
export const imagingOptionChecks = { count, anyQuantity, motor, camera: ((v) => (v instanceof Camera ? undefined : 'must be a Camera')) as OptionCheck };

function required<T>(owner: string, options: object, key: string): T {
  const value = (options as Record<string, unknown>)[key];
  if (value === undefined) throw new OptionError(`${owner}: option '${key}' is required`);
  return value as T;
}

// ---------------------------------------------------------------------------------------------
// Radiography

/** Options of every imaging experiment. */
export interface ImagingExperimentOptions {
  name?: string;
  walker?: Walker;
  separateScans?: boolean;
  nameFmt?: string;
  prepare?: (signal: AbortSignal) => Promise<void>;
  finish?: (signal: AbortSignal) => Promise<void>;
}

/** Options of {@link Radiography}. */
export interface RadiographyOptions extends ImagingExperimentOptions {
  camera: Camera;
  /** Moves the sample out of the beam (flats) and into it (projections). */
  flatMotor: Motor;
  /** Position of `flatMotor` with the sample in the beam (in its position unit). */
  radioPosition: Unit;
  /** Position of `flatMotor` with the sample out of the beam. */
  flatPosition: Unit;
  /** Default 200. */
  numDarks?: number;
  /** Default 200. */
  numFlats?: number;
  /** Default 3000. */
  numProjections?: number;
}

/**
 * Radiography: dark fields (no exposure), flat fields (sample out of the beam) and projections
 * (sample in the beam), as acquisitions `darks`, `flats` and `radios`. The settings (numbers of
 * frames, positions) are locked while a run is in progress; the motors go back to where they were
 * when the run ends, however it ends, and the sample exposure is stopped.
 */
export abstract class Radiography extends Experiment {
  static readonly options: OptionSpec = {
    ...EXPERIMENT_OPTIONS,
    camera: imagingOptionChecks.camera,
    flatMotor: motor,
    radioPosition: anyQuantity,
    flatPosition: anyQuantity,
    numDarks: count,
    numFlats: count,
    numProjections: count,
  };

  readonly camera: Camera;
  readonly flatMotor: Motor;
  /** Number of dark fields. */
  readonly numDarks: AnyParameter;
  /** Number of flat fields. */
  readonly numFlats: AnyParameter;
  /** Number of projections. */
  readonly numProjections: AnyParameter;
  /** Position of `flatMotor` with the sample in the beam. */
  readonly radioPosition: Quantity;
  /** Position of `flatMotor` with the sample out of the beam. */
  readonly flatPosition: Quantity;

  /** Current values of the count settings (acquisitions need them synchronously for progress). */
  protected readonly counts = { numDarks: 200, numFlats: 200, numProjections: 3000 };
  readonly #settings: AnyParameter[] = [];
  #stashed: AnyParameter[] = [];

  constructor(options: RadiographyOptions) {
    const owner = `${new.target.name}.create`;
    checkOptions(owner, (new.target as unknown as { options: OptionSpec }).options, options);
    const { name, walker, separateScans, nameFmt, prepare, finish } = options ?? ({} as RadiographyOptions);
    super([], { name: name ?? lowerFirst(new.target.name), walker, separateScans, nameFmt, prepare, finish });
    this.camera = required(owner, options, 'camera');
    this.flatMotor = required(owner, options, 'flatMotor');
    this.numDarks = this.countSetting('numDarks', options.numDarks, 'number of dark fields');
    this.numFlats = this.countSetting('numFlats', options.numFlats, 'number of flat fields');
    this.numProjections = this.countSetting('numProjections', options.numProjections, 'number of projections');
    const unit = this.flatMotor.position.unit;
    this.radioPosition = this.quantitySetting('radioPosition', unit, required(owner, options, 'radioPosition'), 'flat motor position with the sample in the beam');
    this.flatPosition = this.quantitySetting('flatPosition', unit, required(owner, options, 'flatPosition'), 'flat motor position with the sample out of the beam');
    this.add(new Acquisition('darks', (signal) => this.takeDarks(signal), { frames: () => this.counts.numDarks }));
    this.add(new Acquisition('flats', (signal) => this.takeFlats(signal), { frames: () => this.counts.numFlats }));
    this.add(new Acquisition('radios', (signal) => this.takeRadios(signal), { frames: () => this.counts.numProjections }));
  }

  /** Declares a frame-count setting (locked while running). */
  protected countSetting(name: 'numDarks' | 'numFlats' | 'numProjections', initial: number | undefined, help: string): AnyParameter {
    if (initial !== undefined) this.counts[name] = initial;
    const counts = this.counts as Record<string, number>;
    return this.setting(
      this.parameter<number>(name, {
        help,
        read: () => counts[name]!,
        write: (v) => void (counts[name] = v),
        validate: (v) => checkCount(`${this.name}.${name}`, v),
      }),
    );
  }

  /** Declares a quantity setting in `unit` (locked while running). */
  protected quantitySetting(name: string, unit: string, initial: Unit, help: string): Quantity {
    let n: number;
    try {
      n = toNumber(initial, unit, `${this.name}.${name}`);
    } catch (error) {
      throw new OptionError(`${this.kind}.create: option '${name}' ${(error as Error).message}`, { cause: error });
    }
    return this.setting(this.quantity(name, { unit, help, ...soft(n) }));
  }

  /** Registers a parameter that is locked while a run is in progress. */
  protected setting<P extends AnyParameter>(parameter: P): P {
    this.#settings.push(parameter);
    return parameter;
  }

  /** The motors this experiment moves: their positions are restored when a run ends. */
  protected motors(): Motor[] {
    return [this.flatMotor];
  }

  /** Exposes the sample to radiation (opens a shutter, switches a tube on). */
  protected abstract startSampleExposure(signal?: AbortSignal): Promise<void>;
  /** Stops exposing the sample (closes a shutter, switches a tube off). */
  protected abstract stopSampleExposure(signal?: AbortSignal): Promise<void>;

  /** Locks the settings, brings the camera to standby and remembers the motor positions. */
  protected override async prepare(signal: AbortSignal): Promise<void> {
    for (const p of this.#settings) if (!p.locked) p.lock();
    await toStandby(this.camera);
    this.#stashed = [];
    for (const m of new Set(this.motors())) {
      await m.position.stash();
      this.#stashed.push(m.position);
    }
    await super.prepare(signal);
  }

  /**
   * Stops the exposure and the motors, moves them back where they were, and unlocks the settings;
   * runs after every run (finished, failed or cancelled). The first failure is thrown after all
   * steps were tried.
   */
  protected override async finish(signal: AbortSignal): Promise<void> {
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    await attempt(() => this.stopSampleExposure(signal));
    await attempt(() => toStandby(this.camera));
    await attempt(() => Promise.all([...new Set(this.motors())].map(async (m) => ((await m.getState()) === 'moving' ? m.stop() : undefined))));
    const stashed = this.#stashed;
    this.#stashed = [];
    await attempt(() => Promise.all(stashed.map((p) => p.restore({ signal }))));
    for (const p of this.#settings) if (p.locked && !p.lockedPermanently) p.unlock();
    await attempt(() => super.finish(signal));
    if (failures.length > 0) throw failures[0];
  }

  /** Free-running frames of one acquisition, tagged with `image_key`. */
  protected produceFrames(count: number, signal: AbortSignal, metadata: (index: number) => Record<string, unknown>): AsyncGenerator<Frame> {
    return autoFrames(this.camera, count, signal, metadata);
  }

  /** Dark fields: exposure stopped. */
  protected async *takeDarks(signal: AbortSignal): AsyncGenerator<Frame> {
    await this.stopSampleExposure(signal);
    yield* this.produceFrames(this.counts.numDarks, signal, () => ({ image_key: IMAGE_KEYS.dark }));
  }

  /** Flat fields: sample out of the beam, exposed. */
  protected async *takeFlats(signal: AbortSignal): AsyncGenerator<Frame> {
    await this.flatMotor.setPosition(await this.flatPosition.get(), { signal });
    await this.startSampleExposure(signal);
    yield* this.produceFrames(this.counts.numFlats, signal, () => ({ image_key: IMAGE_KEYS.flat }));
  }

  /** Moves the sample into the beam and starts the exposure. */
  protected async prepareRadios(signal: AbortSignal): Promise<void> {
    await this.flatMotor.setPosition(await this.radioPosition.get(), { signal });
    await this.startSampleExposure(signal);
  }

  /** Projections: sample in the beam, exposed; the exposure stops after the last one. */
  protected async *takeRadios(signal: AbortSignal): AsyncGenerator<Frame> {
    await this.prepareRadios(signal);
    yield* this.produceFrames(this.counts.numProjections, signal, () => ({ image_key: IMAGE_KEYS.projection }));
    await this.stopSampleExposure(signal);
  }
}

// ---------------------------------------------------------------------------------------------
// Tomography

/** Options of the tomography experiments. */
export interface TomographyOptions extends RadiographyOptions {
  /** Rotates the sample (position in degrees). */
  tomographyMotor: Motor;
  /** Range of the scan (default 180°). */
  angularRange?: Unit;
  /** Angle of the first projection (default 0°). */
  startAngle?: Unit;
}

/** Tomography: a {@link Radiography} whose projections are taken while rotating the sample. */
export abstract class Tomography extends Radiography {
  static override readonly options: OptionSpec = { ...Radiography.options, tomographyMotor: motor, angularRange: anyQuantity, startAngle: anyQuantity };
  readonly tomographyMotor: Motor;
  /** Range of the scan. */
  readonly angularRange: Quantity;
  /** Angle of the first projection. */
  readonly startAngle: Quantity;

  constructor(options: TomographyOptions) {
    super(options);
    const owner = `${this.kind}.create`;
    this.tomographyMotor = required(owner, options, 'tomographyMotor');
    if (!math.unit(this.tomographyMotor.position.unit).equalBase(math.unit('deg')))
      throw new OptionError(`${owner}: option 'tomographyMotor' must be a rotation motor (position in degrees), got one in ${this.tomographyMotor.position.unit}`);
    this.angularRange = this.quantitySetting('angularRange', 'deg', options.angularRange ?? q(180, 'deg'), 'angular range of the scan');
    this.startAngle = this.quantitySetting('startAngle', 'deg', options.startAngle ?? q(0, 'deg'), 'angle of the first projection');
  }

  protected override motors(): Motor[] {
    return [...super.motors(), this.tomographyMotor];
  }

  /** The angle of projection `i` in degrees: start + i · range / numProjections. */
  protected async angleOf(i: number): Promise<number> {
    const range = toNumber(await this.angularRange.get(), 'deg');
    const start = toNumber(await this.startAngle.get(), 'deg');
    return start + (i * range) / this.counts.numProjections;
  }

  /** Moves the sample into the beam and to the start angle (in parallel), then exposes it. */
  protected override async prepareRadios(signal: AbortSignal): Promise<void> {
    await Promise.all([
      this.flatMotor.setPosition(await this.radioPosition.get(), { signal }),
      this.tomographyMotor.setPosition(await this.startAngle.get(), { signal }),
    ]);
    await this.startSampleExposure(signal);
  }
}

/** Stepped tomography: the sample is rotated to each angle, then one frame is triggered there. */
export abstract class SteppedTomography extends Tomography {
  protected override async *takeRadios(signal: AbortSignal): AsyncGenerator<Frame> {
    await this.prepareRadios(signal);
    yield* triggeredFrames(this.camera, this.counts.numProjections, signal, async (i, s) => {
      const angle = await this.angleOf(i);
      await this.tomographyMotor.setPosition(q(angle, 'deg'), { signal: s });
      return { image_key: IMAGE_KEYS.projection, angle };
    });
    await this.stopSampleExposure(signal);
  }
}

/** A motor that can move at a constant velocity (`Continuous*Motor`). */
export type VelocityMotor = Motor & {
  readonly velocity: Quantity;
  setVelocity(velocity: Unit, options?: { signal?: AbortSignal }): Promise<void>;
};

function isVelocityMotor(m: unknown): m is VelocityMotor {
  return m instanceof Motor && typeof (m as Partial<VelocityMotor>).setVelocity === 'function' && m.hasParam('velocity');
}

const velocityMotor: OptionCheck = (v) => (isVelocityMotor(v) ? undefined : 'must be a continuous motor (with a velocity)');

/**
 * Continuous tomography: the sample rotates at `velocity` = frame rate · range / numProjections
 * while the camera records freely; the motor is stopped and moved back afterwards.
 */
export abstract class ContinuousTomography extends Tomography {
  static override readonly options: OptionSpec = { ...Tomography.options, tomographyMotor: velocityMotor };
  /** The rotation velocity of the scan (read-only): frame rate · angularRange / numProjections. */
  readonly velocity = this.quantity('velocity', { unit: 'deg/s', help: 'rotation velocity of the scan', read: () => this.#velocity() });

  get #motor(): VelocityMotor {
    return this.tomographyMotor as VelocityMotor;
  }

  async #velocity(): Promise<number> {
    const fps = toNumber(await this.camera.getFrameRate(), 'Hz');
    return (fps * toNumber(await this.angularRange.get(), 'deg')) / Math.max(1, this.counts.numProjections);
  }

  /** The rotation velocity of the scan. */
  getVelocity(): Promise<Unit> {
    return this.velocity.get();
  }

  protected override async *takeRadios(signal: AbortSignal): AsyncGenerator<Frame> {
    await this.prepareRadios(signal);
    const start = toNumber(await this.startAngle.get(), 'deg');
    const step = toNumber(await this.angularRange.get(), 'deg') / Math.max(1, this.counts.numProjections);
    try {
      await this.#motor.setVelocity(await this.getVelocity(), { signal });
      yield* this.produceFrames(this.counts.numProjections, signal, (i) => ({ image_key: IMAGE_KEYS.projection, angle: start + i * step }));
    } finally {
      await this.#motor.stop();
    }
    await this.stopSampleExposure(signal);
  }
}

// ---------------------------------------------------------------------------------------------
// Spiral tomography

/** Options of the spiral tomography experiments. */
export interface SpiralOptions {
  /** Moves the sample along the rotation axis. */
  verticalMotor: Motor;
  /** Position of `verticalMotor` at the first projection. */
  startPositionVertical: Unit;
  /** Height of the sample. */
  sampleHeight: Unit;
  /** How far `verticalMotor` moves during one `angularRange`. */
  verticalShiftPerTomogram: Unit;
}

/** The number of tomograms a spiral scan needs to cover the sample: |height / shift| + 1. */
export function spiralTomograms(sampleHeight: number, shift: number): number {
  if (shift === 0) throw new ParameterError('verticalShiftPerTomogram must not be 0');
  return Math.abs(sampleHeight / shift) + 1;
}

/** Spiral settings as parameters of an experiment. @internal */
interface SpiralSettings {
  readonly verticalMotor: Motor;
  readonly startPositionVertical: Quantity;
  readonly sampleHeight: Quantity;
  readonly verticalShiftPerTomogram: Quantity;
}

async function spiralValues(s: SpiralSettings): Promise<{ start: number; shift: number; tomograms: number }> {
  const unit = s.verticalMotor.position.unit;
  const start = toNumber(await s.startPositionVertical.get(), unit);
  const shift = toNumber(await s.verticalShiftPerTomogram.get(), unit);
  const height = toNumber(await s.sampleHeight.get(), unit);
  return { start, shift, tomograms: spiralTomograms(height, shift) };
}

/** Total projections of a spiral scan: numProjections · numTomograms (rounded down, as Concert). */
function spiralFrames(numProjections: number, tomograms: number): number {
  return Math.floor(numProjections * tomograms + 1e-9);
}

const SPIRAL_OPTIONS: OptionSpec = { verticalMotor: motor, startPositionVertical: anyQuantity, sampleHeight: anyQuantity, verticalShiftPerTomogram: anyQuantity };

/**
 * Stepped spiral tomography: frame i is taken at angle start + i · range / N and height
 * startPositionVertical + i · shift / N, for N · numTomograms frames.
 */
export abstract class SteppedSpiralTomography extends SteppedTomography implements SpiralSettings {
  static override readonly options: OptionSpec = { ...SteppedTomography.options, ...SPIRAL_OPTIONS };
  readonly verticalMotor: Motor;
  readonly startPositionVertical: Quantity;
  readonly sampleHeight: Quantity;
  readonly verticalShiftPerTomogram: Quantity;
  /** Tomograms needed to cover the sample (read-only): |sampleHeight / verticalShiftPerTomogram| + 1. */
  readonly numTomograms = this.parameter<number>('numTomograms', { help: 'tomograms to cover the sample', read: async () => (await spiralValues(this)).tomograms });

  constructor(options: TomographyOptions & SpiralOptions) {
    super(options);
    const owner = `${this.kind}.create`;
    this.verticalMotor = required(owner, options, 'verticalMotor');
    const unit = this.verticalMotor.position.unit;
    this.startPositionVertical = this.quantitySetting('startPositionVertical', unit, required(owner, options, 'startPositionVertical'), 'vertical position at the first projection');
    this.sampleHeight = this.quantitySetting('sampleHeight', unit, required(owner, options, 'sampleHeight'), 'height of the sample');
    this.verticalShiftPerTomogram = this.quantitySetting('verticalShiftPerTomogram', unit, required(owner, options, 'verticalShiftPerTomogram'), 'vertical shift per tomogram');
    spiralTomograms(0, this.verticalShiftPerTomogram.toNumber(options.verticalShiftPerTomogram));
  }

  protected override motors(): Motor[] {
    return [...super.motors(), this.verticalMotor];
  }

  protected override async *takeRadios(signal: AbortSignal): AsyncGenerator<Frame> {
    const { start, shift, tomograms } = await spiralValues(this);
    const n = this.counts.numProjections;
    const unit = this.verticalMotor.position.unit;
    await Promise.all([this.prepareRadios(signal), this.verticalMotor.setPosition(q(start, unit), { signal })]);
    yield* triggeredFrames(this.camera, spiralFrames(n, tomograms), signal, async (i, s) => {
      const angle = await this.angleOf(i);
      const vertical = start + (i * shift) / Math.max(1, n);
      await Promise.all([
        this.tomographyMotor.setPosition(q(angle, 'deg'), { signal: s }),
        this.verticalMotor.setPosition(q(vertical, unit), { signal: s }),
      ]);
      return { image_key: IMAGE_KEYS.projection, angle, vertical_position: vertical };
    });
    await this.stopSampleExposure(signal);
  }
}

/**
 * Continuous spiral tomography: rotates at `velocity` and moves up at `verticalVelocity` =
 * shift · frame rate / numProjections while the camera records N · numTomograms frames.
 */
export abstract class ContinuousSpiralTomography extends ContinuousTomography implements SpiralSettings {
  static override readonly options: OptionSpec = { ...ContinuousTomography.options, ...SPIRAL_OPTIONS, verticalMotor: velocityMotor };
  readonly verticalMotor: Motor;
  readonly startPositionVertical: Quantity;
  readonly sampleHeight: Quantity;
  readonly verticalShiftPerTomogram: Quantity;
  /** Tomograms needed to cover the sample (read-only): |sampleHeight / verticalShiftPerTomogram| + 1. */
  readonly numTomograms = this.parameter<number>('numTomograms', { help: 'tomograms to cover the sample', read: async () => (await spiralValues(this)).tomograms });
  /** Vertical velocity of the scan (read-only): shift · frame rate / numProjections. */
  readonly verticalVelocity: Quantity;

  constructor(options: TomographyOptions & SpiralOptions) {
    super(options);
    const owner = `${this.kind}.create`;
    this.verticalMotor = required(owner, options, 'verticalMotor');
    const unit = this.verticalMotor.position.unit;
    this.startPositionVertical = this.quantitySetting('startPositionVertical', unit, required(owner, options, 'startPositionVertical'), 'vertical position at the first projection');
    this.sampleHeight = this.quantitySetting('sampleHeight', unit, required(owner, options, 'sampleHeight'), 'height of the sample');
    this.verticalShiftPerTomogram = this.quantitySetting('verticalShiftPerTomogram', unit, required(owner, options, 'verticalShiftPerTomogram'), 'vertical shift per tomogram');
    spiralTomograms(0, this.verticalShiftPerTomogram.toNumber(options.verticalShiftPerTomogram));
    this.verticalVelocity = this.quantity('verticalVelocity', {
      unit: `${unit}/s`,
      help: 'vertical velocity of the scan',
      read: async () => {
        const fps = toNumber(await this.camera.getFrameRate(), 'Hz');
        return (toNumber(await this.verticalShiftPerTomogram.get(), unit) * fps) / Math.max(1, this.counts.numProjections);
      },
    });
  }

  /** The vertical velocity of the scan. */
  getVerticalVelocity(): Promise<Unit> {
    return this.verticalVelocity.get();
  }

  protected override motors(): Motor[] {
    return [...super.motors(), this.verticalMotor];
  }

  protected override async *takeRadios(signal: AbortSignal): AsyncGenerator<Frame> {
    const { start, shift, tomograms } = await spiralValues(this);
    const n = Math.max(1, this.counts.numProjections);
    const unit = this.verticalMotor.position.unit;
    const tomo = this.tomographyMotor as VelocityMotor;
    const vertical = this.verticalMotor as VelocityMotor;
    await Promise.all([this.prepareRadios(signal), this.verticalMotor.setPosition(q(start, unit), { signal })]);
    const startAngle = toNumber(await this.startAngle.get(), 'deg');
    const step = toNumber(await this.angularRange.get(), 'deg') / n;
    try {
      await Promise.all([tomo.setVelocity(await this.getVelocity(), { signal }), vertical.setVelocity(await this.getVerticalVelocity(), { signal })]);
      yield* this.produceFrames(spiralFrames(this.counts.numProjections, tomograms), signal, (i) => ({
        image_key: IMAGE_KEYS.projection,
        angle: startAngle + i * step,
        vertical_position: start + (i * shift) / n,
      }));
    } finally {
      await Promise.all([tomo.stop(), vertical.stop()]);
    }
    await this.stopSampleExposure(signal);
  }
}

// ---------------------------------------------------------------------------------------------
// Grating interferometry

/** Options of {@link GratingInterferometryStepping}. */
export interface GratingInterferometryOptions extends Omit<RadiographyOptions, 'numFlats' | 'numProjections'> {
  /** Steps one of the gratings (a linear motor). */
  steppingMotor: Motor;
  /** Period of the stepped grating. */
  gratingPeriod: Unit;
  /** Position of `steppingMotor` at the first step. */
  steppingStartPosition: Unit;
  /** Grating periods scanned (default 1). */
  numPeriods?: number;
  /** Steps per period (default 16). */
  numStepsPerPeriod?: number;
  /** Distance between sample and analyzer grating; only used to convert the differential phase into an angle. */
  propagationDistance?: Unit;
}

/**
 * Grating interferometry (phase stepping): dark fields, a `reference_stepping` without the sample
 * and an `object_stepping` with it. Each stepping moves `steppingMotor` by gratingPeriod /
 * numStepsPerPeriod for numPeriods · numStepsPerPeriod triggered frames. Process the data with
 * the `PhaseGratingSteppingFourierProcessing` addon.
 */
export abstract class GratingInterferometryStepping extends Radiography {
  static override readonly options: OptionSpec = {
    ...Radiography.options,
    steppingMotor: motor,
    gratingPeriod: anyQuantity,
    steppingStartPosition: anyQuantity,
    numPeriods: count,
    numStepsPerPeriod: count,
    propagationDistance: anyQuantity,
  };
  readonly steppingMotor: Motor;
  readonly gratingPeriod: Quantity;
  readonly steppingStartPosition: Quantity;
  readonly numPeriods: AnyParameter;
  readonly numStepsPerPeriod: AnyParameter;
  /** Distance between sample and analyzer grating (NaN mm: not given). */
  readonly propagationDistance: Quantity;
  readonly #stepping = { numPeriods: 1, numStepsPerPeriod: 16 };

  constructor(options: GratingInterferometryOptions) {
    super({ ...options, numFlats: 0, numProjections: 1 } as RadiographyOptions);
    const owner = `${this.kind}.create`;
    this.steppingMotor = required(owner, options, 'steppingMotor');
    const unit = this.steppingMotor.position.unit;
    // Flats and projections are replaced by the steppings.
    this.numFlats.lock(true);
    this.numProjections.lock(true);
    this.remove('flats');
    this.remove('radios');
    this.gratingPeriod = this.quantitySetting('gratingPeriod', 'um', required(owner, options, 'gratingPeriod'), 'period of the stepped grating');
    this.steppingStartPosition = this.quantitySetting('steppingStartPosition', unit, required(owner, options, 'steppingStartPosition'), 'first stepping position');
    if (options.numPeriods !== undefined) this.#stepping.numPeriods = options.numPeriods;
    if (options.numStepsPerPeriod !== undefined) this.#stepping.numStepsPerPeriod = options.numStepsPerPeriod;
    const stepping = this.#stepping as Record<string, number>;
    const positive = (name: string) => (v: number) => {
      if (!Number.isSafeInteger(v) || v < 1) throw new ParameterError(`${this.name}.${name} must be an integer ≥ 1, got ${v}`);
    };
    for (const key of ['numPeriods', 'numStepsPerPeriod']) positive(key)(stepping[key]!);
    this.numPeriods = this.setting(this.parameter<number>('numPeriods', { help: 'grating periods scanned', read: () => stepping.numPeriods!, write: (v) => void (stepping.numPeriods = v), validate: positive('numPeriods') }));
    this.numStepsPerPeriod = this.setting(
      this.parameter<number>('numStepsPerPeriod', { help: 'steps per grating period', read: () => stepping.numStepsPerPeriod!, write: (v) => void (stepping.numStepsPerPeriod = v), validate: positive('numStepsPerPeriod') }),
    );
    this.propagationDistance = this.setting(
      this.quantity('propagationDistance', { unit: 'mm', help: 'distance between sample and analyzer grating', ...soft(options.propagationDistance ? toNumber(options.propagationDistance, 'mm', 'propagationDistance') : Number.NaN) }),
    );
    const steps = () => this.#stepping.numPeriods * this.#stepping.numStepsPerPeriod;
    this.add(new Acquisition('reference_stepping', (signal) => this.takeStepping(signal, 'flat'), { frames: steps }));
    this.add(new Acquisition('object_stepping', (signal) => this.takeStepping(signal, 'projection'), { frames: steps }));
  }

  protected override motors(): Motor[] {
    return [...super.motors(), this.steppingMotor];
  }

  /** Frames per stepping: numPeriods · numStepsPerPeriod. */
  get stepsPerScan(): number {
    return this.#stepping.numPeriods * this.#stepping.numStepsPerPeriod;
  }

  /** The grating period, and the propagation distance if set (in mm), for processing. */
  async geometry(): Promise<{ gratingPeriod: number; propagationDistance: number | undefined; numPeriods: number; numStepsPerPeriod: number }> {
    const d = toNumber(await this.propagationDistance.get(), 'mm');
    return {
      gratingPeriod: toNumber(await this.gratingPeriod.get(), 'mm'),
      propagationDistance: Number.isNaN(d) ? undefined : d,
      ...this.#stepping,
    };
  }

  /** One phase stepping: sample out (`flat`, reference) or in (`projection`, object). */
  protected async *takeStepping(signal: AbortSignal, kind: 'flat' | 'projection'): AsyncGenerator<Frame> {
    const unit = this.steppingMotor.position.unit;
    const position = await (kind === 'flat' ? this.flatPosition : this.radioPosition).get();
    await this.startSampleExposure(signal);
    await this.flatMotor.setPosition(position, { signal });
    const step = toNumber(await this.gratingPeriod.get(), unit) / this.#stepping.numStepsPerPeriod;
    const start = toNumber(await this.steppingStartPosition.get(), unit);
    yield* triggeredFrames(this.camera, this.stepsPerScan, signal, async (i, s) => {
      const at = start + i * step;
      await this.steppingMotor.setPosition(q(at, unit), { signal: s });
      return { image_key: IMAGE_KEYS[kind], step: i, stepping_position: at };
    });
  }
}

function lowerFirst(s: string): string {
  return s.length ? s[0]!.toLowerCase() + s.slice(1) : s;
}
