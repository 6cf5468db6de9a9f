/**
 * Grating interferometry: phase stepping with and without the sample.
 * @module
 */
import type { z } from '../../core/index.js';
import {
  ParameterError,
  soft,
  toNumber,
  type AnyParameter,
  type Quantity,
  zinstance,
  zquantity,
  type OptionsSchema,
} from '../../core/index.js';
import { Motor } from '../../devices/motors/index.js';
import { IMAGE_KEYS } from './frames.js';
import type { ImagingStep } from './step.js';
import { Radiography, RADIOGRAPHY_OPTIONS, zcount, type RadiographyOptions } from './radiography.js';

/** The options of {@link GratingInterferometryStepping} (no flats or projections: the steppings replace them). */
export const GRATING_INTERFEROMETRY_OPTIONS = RADIOGRAPHY_OPTIONS.omit({ numFlats: true, numProjections: true }).extend(
  {
    /** Steps one of the gratings (a linear motor). */
    steppingMotor: zinstance(Motor),
    /** Period of the stepped grating. */
    gratingPeriod: zquantity,
    /** Position of `steppingMotor` at the first step. */
    steppingStartPosition: zquantity,
    /** Grating periods scanned (default 1). */
    numPeriods: zcount.optional(),
    /** Steps per period (default 16). */
    numStepsPerPeriod: zcount.optional(),
    /** Distance between sample and analyzer grating; only used to convert the differential phase into an angle. */
    propagationDistance: zquantity.optional(),
  },
);

/** Options of {@link GratingInterferometryStepping}. */
export type GratingInterferometryOptions = z.input<typeof GRATING_INTERFEROMETRY_OPTIONS>;

/**
 * Grating interferometry (phase stepping): dark fields, a `reference_stepping` without the sample
 * and an `object_stepping` with it. Each stepping moves `steppingMotor` by gratingPeriod /
 * numStepsPerPeriod for numPeriods · numStepsPerPeriod triggered frames. Process the data with
 * the `PhaseGratingSteppingFourierProcessing` addon.
 */
export class GratingInterferometryStepping extends Radiography {
  static override readonly options: OptionsSchema = GRATING_INTERFEROMETRY_OPTIONS;
  readonly steppingMotor: Motor;
  readonly gratingPeriod: Quantity;
  readonly steppingStartPosition: Quantity;
  readonly numPeriods: AnyParameter;
  readonly numStepsPerPeriod: AnyParameter;
  /** Distance between sample and analyzer grating (NaN mm: not given). */
  readonly propagationDistance: Quantity;
  readonly #stepping = { numPeriods: 1, numStepsPerPeriod: 16 };

  constructor(options: GratingInterferometryOptions) {
    super({ ...options, numFlats: 0, numProjections: 1 } satisfies RadiographyOptions);
    this.steppingMotor = options.steppingMotor;
    const unit = this.steppingMotor.position.unit;
    // Flats and projections are replaced by the steppings.
    this.numFlats.lock(true);
    this.numProjections.lock(true);
    this.remove('flats');
    this.remove('radios');
    this.gratingPeriod = this.quantitySetting(
      'gratingPeriod',
      'um',
      options.gratingPeriod,
      'period of the stepped grating',
    );
    this.steppingStartPosition = this.quantitySetting(
      'steppingStartPosition',
      unit,
      options.steppingStartPosition,
      'first stepping position',
    );
    if (options.numPeriods !== undefined) this.#stepping.numPeriods = options.numPeriods;
    if (options.numStepsPerPeriod !== undefined) this.#stepping.numStepsPerPeriod = options.numStepsPerPeriod;
    const stepping = this.#stepping as Record<string, number>;
    const positive = (name: string) => (v: number) => {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new ParameterError(`${this.name}.${name} must be an integer ≥ 1, got ${v}`);
    };
    for (const key of ['numPeriods', 'numStepsPerPeriod']) positive(key)(stepping[key]!);
    this.numPeriods = this.setting(
      this.parameter<number>('numPeriods', {
        help: 'grating periods scanned',
        read: () => stepping.numPeriods!,
        write: (v) => void (stepping.numPeriods = v),
        validate: positive('numPeriods'),
      }),
    );
    this.numStepsPerPeriod = this.setting(
      this.parameter<number>('numStepsPerPeriod', {
        help: 'steps per grating period',
        read: () => stepping.numStepsPerPeriod!,
        write: (v) => void (stepping.numStepsPerPeriod = v),
        validate: positive('numStepsPerPeriod'),
      }),
    );
    this.propagationDistance = this.setting(
      this.quantity('propagationDistance', {
        unit: 'mm',
        help: 'distance between sample and analyzer grating',
        ...soft(
          options.propagationDistance ? toNumber(options.propagationDistance, 'mm', 'propagationDistance') : Number.NaN,
        ),
      }),
    );
    const steps = () => this.#stepping.numPeriods * this.#stepping.numStepsPerPeriod;
    this.add(this.stepAcquisition('reference_stepping', steps));
    this.add(this.stepAcquisition('object_stepping', steps));
  }

  protected override motors(): Motor[] {
    return [...super.motors(), this.steppingMotor];
  }

  /** Frames per stepping: numPeriods · numStepsPerPeriod. */
  get stepsPerScan(): number {
    return this.#stepping.numPeriods * this.#stepping.numStepsPerPeriod;
  }

  /** The grating period, and the propagation distance if set (in mm), for processing. */
  async geometry(): Promise<{
    gratingPeriod: number;
    propagationDistance: number | undefined;
    numPeriods: number;
    numStepsPerPeriod: number;
  }> {
    const d = toNumber(await this.propagationDistance.get(), 'mm');
    return {
      gratingPeriod: toNumber(await this.gratingPeriod.get(), 'mm'),
      propagationDistance: Number.isNaN(d) ? undefined : d,
      ...this.#stepping,
    };
  }

  /**
   * A phase stepping: sample out (`reference_stepping`, flat) or in (`object_stepping`,
   * projection), exposed, one triggered frame per position of the stepping motor.
   */
  protected override async step(name: string): Promise<ImagingStep> {
    if (name !== 'reference_stepping' && name !== 'object_stepping') return super.step(name);
    const kind = name === 'reference_stepping' ? 'flat' : 'projection';
    const unit = this.steppingMotor.position.unit;
    const position = await (kind === 'flat' ? this.flatPosition : this.radioPosition).get();
    const flat = { motor: this.flatMotor, target: this.flatMotor.position.toNumber(position) };
    const step = toNumber(await this.gratingPeriod.get(), unit) / this.#stepping.numStepsPerPeriod;
    const start = toNumber(await this.steppingStartPosition.get(), unit);
    const motor = this.steppingMotor;
    return {
      count: this.stepsPerScan,
      exposed: true,
      setup: () => [flat],
      trigger: 'software',
      before: (i) => [{ motor, target: start + i * step }],
      metadata: (i) => ({ image_key: IMAGE_KEYS[kind], step: i, stepping_position: start + i * step }),
    };
  }
}
