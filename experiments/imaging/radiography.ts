/**
 * Radiography, the base of every imaging experiment: darks, flats and projections.
 * @module
 */
import {
  OptionError,
  parseOptions,
  soft,
  toNumber,
  z,
  zinstance,
  zquantity,
  type AnyParameter,
  type Frame,
  type OptionsSchema,
  type Quantity,
  type Unit,
  errorMessage,
} from '../../core/index.js';
import { Camera } from '../../devices/cameras/index.js';
import { Motor } from '../../devices/motors/index.js';
import type { Acquisition } from '../acquisition.js';
import { ExperimentError } from '../errors.js';
import type { PlanContext, PlannedMove } from '../estimate.js';
import { Experiment, EXPERIMENT_OPTIONS } from '../experiment.js';
import type { Checkpoint } from '../pause.js';
import { zexposure, type Exposure } from './exposure.js';
import { autoFrames, checkCount, IMAGE_KEYS, imagingAcquisition, toStandby } from './frames.js';
import { planExposure, planStep, runStep, type ImagingStep, type StepDevices } from './step.js';

/** @internal The schema of a frame count option. */
export const zcount = z.number().int().min(0);

/** An imaging experiment class, as `create()` sees it. */
export type ImagingClass<T extends Radiography, O> = (new (options: O) => T) & {
  readonly options: OptionsSchema;
  readonly name: string;
};

/** The options of {@link Radiography}; every imaging experiment extends them. */
export const RADIOGRAPHY_OPTIONS = EXPERIMENT_OPTIONS.extend({
  /** The camera taking the frames. */
  camera: zinstance(Camera),
  /** How the sample is exposed: `shutterExposure(shutter)`, `tubeExposure(xrayTube)`. */
  exposure: zexposure,
  /** Moves the sample out of the beam (flats) and into it (projections). */
  flatMotor: zinstance(Motor),
  /** Position of `flatMotor` with the sample in the beam (in its position unit). */
  radioPosition: zquantity,
  /** Position of `flatMotor` with the sample out of the beam. */
  flatPosition: zquantity,
  /** Number of dark fields (default 200). */
  numDarks: zcount.optional(),
  /** Number of flat fields (default 200). */
  numFlats: zcount.optional(),
  /** Number of projections (default 3000). */
  numProjections: zcount.optional(),
});

/** Options of {@link Radiography}. */
export type RadiographyOptions = z.input<typeof RADIOGRAPHY_OPTIONS>;

/**
 * Radiography: dark fields (no exposure), flat fields (sample out of the beam) and projections
 * (sample in the beam), as acquisitions `darks`, `flats` and `radios`. The settings (numbers of
 * frames, positions) are locked while a run is in progress; the motors go back to where they were
 * when the run ends, however it ends, and the sample exposure is stopped.
 */
export class Radiography extends Experiment {
  static override readonly options: OptionsSchema = RADIOGRAPHY_OPTIONS;

  readonly camera: Camera;
  /** How the sample is exposed (a shutter, an X-ray tube). */
  readonly exposure: Exposure;
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

  /**
   * Makes the experiment.
   * @throws OptionError for unknown or missing options and values in the wrong unit.
   * @example
   * ```ts
   * const exp = await Radiography.create({ camera, exposure: shutterExposure(shutter), flatMotor,
   *   radioPosition: q('0 mm'), flatPosition: q('10 mm'), walker });
   * ```
   */
  static override async create<T extends Radiography, O>(this: ImagingClass<T, O>, options: O): Promise<T> {
    parseOptions(`${this.name}.create`, this.options, options);
    return new this(options);
  }

  constructor(options: RadiographyOptions) {
    const { name, walker, separateScans, nameFmt, prepare, finish, enterSafeState, leaveSafeState } = options;
    super([], { name, ...{ walker, separateScans, nameFmt, prepare, finish, enterSafeState, leaveSafeState } });
    this.camera = options.camera;
    this.exposure = options.exposure;
    this.flatMotor = options.flatMotor;
    this.numDarks = this.countSetting('numDarks', options.numDarks, 'number of dark fields');
    this.numFlats = this.countSetting('numFlats', options.numFlats, 'number of flat fields');
    this.numProjections = this.countSetting('numProjections', options.numProjections, 'number of projections');
    const unit = this.flatMotor.position.unit;
    this.radioPosition = this.quantitySetting(
      'radioPosition',
      unit,
      options.radioPosition,
      'flat motor position with the sample in the beam',
    );
    this.flatPosition = this.quantitySetting(
      'flatPosition',
      unit,
      options.flatPosition,
      'flat motor position with the sample out of the beam',
    );
    for (const [name, count] of [
      ['darks', () => this.counts.numDarks],
      ['flats', () => this.counts.numFlats],
      ['radios', () => this.counts.numProjections],
    ] as const)
      this.add(this.stepAcquisition(name, count));
  }

  /**
   * The acquisition `name` whose frames come from {@link step}`(name)`: the run executes the
   * step, a dry run walks it.
   */
  protected stepAcquisition(name: string, frames: () => number): Acquisition {
    return imagingAcquisition(
      name,
      this.camera,
      (signal, from) => this.#take(name, signal, from),
      frames,
      async (context) => planStep(await this.step(name), this, context),
    );
  }

  async *#take(name: string, signal: AbortSignal, from: number): AsyncGenerator<Frame> {
    const devices: StepDevices = {
      camera: this.camera,
      exposure: this.exposure,
      produce: (count, s, metadata, start) => this.produceFrames(count, s, metadata, start),
    };
    yield* runStep(await this.step(name), devices, signal, from);
  }

  /**
   * What acquisition `name` does, from the settings now: `darks` (exposure stopped), `flats`
   * (sample out of the beam, exposed) and `radios` ({@link radiosStep}). Subclasses add theirs.
   * @throws ExperimentError for a name this experiment has no step for.
   */
  protected async step(name: string): Promise<ImagingStep> {
    switch (name) {
      case 'darks':
        return {
          count: this.counts.numDarks,
          exposed: false,
          setup: () => [],
          trigger: 'auto',
          metadata: () => ({ image_key: IMAGE_KEYS.dark }),
        };
      case 'flats': {
        const target = this.flatMotor.position.toNumber(await this.flatPosition.get());
        return {
          count: this.counts.numFlats,
          exposed: true,
          setup: () => [{ motor: this.flatMotor, target }],
          trigger: 'auto',
          metadata: () => ({ image_key: IMAGE_KEYS.flat }),
        };
      }
      case 'radios':
        return this.radiosStep();
      default:
        throw new ExperimentError(`${this.name} has no imaging step for acquisition '${name}'`);
    }
  }

  /** Projections: sample in the beam, exposed; the exposure stops after the last one. */
  protected async radiosStep(): Promise<ImagingStep> {
    const move = await this.radioMove();
    return {
      count: this.counts.numProjections,
      exposed: true,
      setup: () => [move],
      trigger: 'auto',
      metadata: () => ({ image_key: IMAGE_KEYS.projection }),
      stopAfter: true,
    };
  }

  /** The flat motor's move that puts the sample into the beam. */
  protected async radioMove(): Promise<PlannedMove> {
    return { motor: this.flatMotor, target: this.flatMotor.position.toNumber(await this.radioPosition.get()) };
  }

  /**
   * The dry run of {@link finish}: the exposure stopped and every motor moved back to where it
   * was when the run started (in parallel).
   */
  protected override async planAfter(context: PlanContext): Promise<number> {
    const exposure = await planExposure(this.exposure, false, context);
    const back = await Promise.all(
      [...new Set(this.motors())].map(async (motor) => ({ motor, target: await context.initialPosition(motor) })),
    );
    return exposure + (await context.move(back)) + (await super.planAfter(context));
  }

  /** Declares a frame-count setting (locked while running). */
  protected countSetting(
    name: 'numDarks' | 'numFlats' | 'numProjections',
    initial: number | undefined,
    help: string,
  ): AnyParameter {
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
      throw new OptionError(`${this.kind}.create: option '${name}' ${errorMessage(error)}`, { cause: error });
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
  protected startSampleExposure(signal?: AbortSignal): Promise<void> {
    return this.exposure.start(signal);
  }

  /** Stops exposing the sample (closes a shutter, switches a tube off). */
  protected stopSampleExposure(signal?: AbortSignal): Promise<void> {
    return this.exposure.stop(signal);
  }

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
    await attempt(() =>
      Promise.all(
        [...new Set(this.motors())].map(async (m) => ((await m.getState()) === 'moving' ? m.stop() : undefined)),
      ),
    );
    const stashed = this.#stashed;
    this.#stashed = [];
    await attempt(() => Promise.all(stashed.map((p) => p.restore({ signal }))));
    for (const p of this.#settings) if (p.locked && !p.lockedPermanently) p.unlock();
    await attempt(() => super.finish(signal));
    if (failures.length > 0) throw failures[0];
  }

  /** Free-running frames `from` … `count - 1` of one acquisition, tagged by `metadata(i)`. */
  protected produceFrames(
    count: number,
    signal: AbortSignal,
    metadata: (index: number) => Record<string, unknown>,
    from = 0,
  ): AsyncGenerator<Frame> {
    return autoFrames(this.camera, count, signal, metadata, from);
  }

  /**
   * The safe state of a paused run: the exposure stopped (shutter closed, tube off), the camera in
   * standby and every moving motor stopped where it is. The restarted producer sets positions,
   * velocities and the exposure up again for the frame it goes on with.
   */
  protected override async enterSafeState(signal: AbortSignal, checkpoint: Checkpoint): Promise<void> {
    await this.stopSampleExposure(signal);
    await toStandby(this.camera);
    await Promise.all(
      [...new Set(this.motors())].map(async (m) => ((await m.getState()) === 'moving' ? m.stop() : undefined)),
    );
    await super.enterSafeState(signal, checkpoint);
  }

  /**
   * An imaging run can be paused only where its hardware can be stopped and set up again: in a
   * restartable acquisition (all of its own, with a local camera) or between acquisitions.
   */
  protected override pauseRefusal(current: Acquisition | undefined): string | undefined {
    const refusal = super.pauseRefusal(current);
    if (refusal !== undefined || !current || current.restartable) return refusal;
    return (
      `acquisition '${current.name}' cannot restart from a checkpoint (create it with { restartable: true }), so ` +
      `its camera, motors and exposure cannot be stopped while it is held; pause between acquisitions or cancel() the run`
    );
  }
}
