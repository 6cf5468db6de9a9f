/**
 * Tomography: stepped and continuous.
 * @module
 */
import type { z } from '../../core/index.js';
import {
  math,
  OptionError,
  q,
  toNumber,
  zinstance,
  zquantity,
  zwhere,
  type Quantity,
  type Unit,
  type OptionsSchema,
} from '../../core/index.js';
import { Motor } from '../../devices/motors/index.js';
import { IMAGE_KEYS } from './frames.js';
import { Radiography, RADIOGRAPHY_OPTIONS } from './radiography.js';
import type { ImagingStep } from './step.js';

/** The options of the tomography experiments. */
export const TOMOGRAPHY_OPTIONS = RADIOGRAPHY_OPTIONS.extend({
  /** Rotates the sample (position in degrees). */
  tomographyMotor: zinstance(Motor),
  /** Range of the scan (default 180°). */
  angularRange: zquantity.optional(),
  /** Angle of the first projection (default 0°). */
  startAngle: zquantity.optional(),
});

/** Options of the tomography experiments. */
export type TomographyOptions = z.input<typeof TOMOGRAPHY_OPTIONS>;

/** Tomography: a {@link Radiography} whose projections are taken while rotating the sample. */
export abstract class Tomography extends Radiography {
  static override readonly options: OptionsSchema = TOMOGRAPHY_OPTIONS;
  readonly tomographyMotor: Motor;
  /** Range of the scan. */
  readonly angularRange: Quantity;
  /** Angle of the first projection. */
  readonly startAngle: Quantity;

  constructor(options: TomographyOptions) {
    super(options);
    const owner = `${this.kind}.create`;
    this.tomographyMotor = options.tomographyMotor;
    if (!math.unit(this.tomographyMotor.position.unit).equalBase(math.unit('deg')))
      throw new OptionError(
        `${owner}: option 'tomographyMotor' must be a rotation motor (position in degrees), got one in ` +
          `${this.tomographyMotor.position.unit}`,
      );
    this.angularRange = this.quantitySetting(
      'angularRange',
      'deg',
      options.angularRange ?? q(180, 'deg'),
      'angular range of the scan',
    );
    this.startAngle = this.quantitySetting(
      'startAngle',
      'deg',
      options.startAngle ?? q(0, 'deg'),
      'angle of the first projection',
    );
  }

  protected override motors(): Motor[] {
    return [...super.motors(), this.tomographyMotor];
  }

  /** The angle of projection `i` in degrees: start + i · range / numProjections (settings read now). */
  protected async angles(): Promise<(i: number) => number> {
    const range = toNumber(await this.angularRange.get(), 'deg');
    const start = toNumber(await this.startAngle.get(), 'deg');
    const n = this.counts.numProjections;
    return (i) => start + (i * range) / n;
  }

  /** Projections: the sample moved into the beam and to the angle of projection `from` (in parallel), then exposed. */
  protected override async radiosStep(): Promise<ImagingStep> {
    const step = await super.radiosStep();
    const angleOf = await this.angles();
    const motor = this.tomographyMotor;
    return { ...step, setup: (from) => [...step.setup(from), { motor, target: angleOf(from) }] };
  }
}

/** Stepped tomography: the sample is rotated to each angle, then one frame is triggered there. */
export class SteppedTomography extends Tomography {
  /** Triggered projections, the sample rotated to each angle before its frame. */
  protected override async radiosStep(): Promise<ImagingStep> {
    const step = await super.radiosStep();
    const angleOf = await this.angles();
    const motor = this.tomographyMotor;
    return {
      ...step,
      trigger: 'software',
      before: (i) => [{ motor, target: angleOf(i) }],
      metadata: (i) => ({ image_key: IMAGE_KEYS.projection, angle: angleOf(i) }),
    };
  }
}

/** A motor that can move at a constant velocity (`Continuous*Motor`). */
export type VelocityMotor = Motor & {
  readonly velocity: Quantity;
  setVelocity(velocity: Unit, options?: { signal?: AbortSignal }): Promise<void>;
};

function isVelocityMotor(m: unknown): m is VelocityMotor {
  return (
    m instanceof Motor && typeof (m as Partial<VelocityMotor>).setVelocity === 'function' && m.hasParam('velocity')
  );
}

/** @internal The schema of a motor option that needs a continuous motor. */
export const zvelocityMotor = zwhere('a continuous motor (with a velocity)', isVelocityMotor);

/** The options of the continuous tomography. */
export const CONTINUOUS_TOMOGRAPHY_OPTIONS = TOMOGRAPHY_OPTIONS.extend({
  /** Rotates the sample continuously (a continuous rotation motor). */
  tomographyMotor: zvelocityMotor,
});

/**
 * Continuous tomography: the sample rotates at `velocity` = frame rate · range / numProjections
 * while the camera records freely; the motor is stopped and moved back afterwards.
 */
export class ContinuousTomography extends Tomography {
  static override readonly options: OptionsSchema = CONTINUOUS_TOMOGRAPHY_OPTIONS;
  /** The rotation velocity of the scan (read-only): frame rate · angularRange / numProjections. */
  readonly velocity = this.quantity('velocity', {
    unit: 'deg/s',
    help: 'rotation velocity of the scan',
    read: () => this.#velocity(),
  });

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

  /**
   * Projections: the motor starts at the angle of projection `from` and turns at {@link velocity}
   * while the camera records, so that frame i is taken at start + i · step also after a pause
   * (the producer restarts there); the motor is stopped afterwards.
   */
  protected override async radiosStep(): Promise<ImagingStep> {
    const step = await super.radiosStep();
    const start = toNumber(await this.startAngle.get(), 'deg');
    const angle = toNumber(await this.angularRange.get(), 'deg') / Math.max(1, this.counts.numProjections);
    const velocity = toNumber(await this.getVelocity(), 'deg/s');
    return {
      ...step,
      runs: [{ motor: this.#motor, velocity }],
      metadata: (i) => ({ image_key: IMAGE_KEYS.projection, angle: start + i * angle }),
    };
  }
}
