/**
 * Tomography: stepped and continuous.
 * @module
 */
import {
  math,
  OptionError,
  q,
  toNumber,
  type Frame,
  type OptionCheck,
  type OptionSpec,
  type Quantity,
  type Unit,
} from '../../core/index.js';
import { Motor } from '../../devices/motors/index.js';
import { IMAGE_KEYS, triggeredFrames } from './frames.js';
import { imagingOptionChecks, Radiography, required, type RadiographyOptions } from './radiography.js';

const { anyQuantity, motor } = imagingOptionChecks;

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
  static override readonly options: OptionSpec = {
    ...Radiography.options,
    tomographyMotor: motor,
    angularRange: anyQuantity,
    startAngle: anyQuantity,
  };
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
      throw new OptionError(
        `${owner}: option 'tomographyMotor' must be a rotation motor (position in degrees), got one in ${this.tomographyMotor.position.unit}`,
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
  return (
    m instanceof Motor && typeof (m as Partial<VelocityMotor>).setVelocity === 'function' && m.hasParam('velocity')
  );
}

/** @internal */
export const velocityMotor: OptionCheck = (v) =>
  isVelocityMotor(v) ? undefined : 'must be a continuous motor (with a velocity)';

/**
 * Continuous tomography: the sample rotates at `velocity` = frame rate · range / numProjections
 * while the camera records freely; the motor is stopped and moved back afterwards.
 */
export abstract class ContinuousTomography extends Tomography {
  static override readonly options: OptionSpec = { ...Tomography.options, tomographyMotor: velocityMotor };
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

  protected override async *takeRadios(signal: AbortSignal): AsyncGenerator<Frame> {
    await this.prepareRadios(signal);
    const start = toNumber(await this.startAngle.get(), 'deg');
    const step = toNumber(await this.angularRange.get(), 'deg') / Math.max(1, this.counts.numProjections);
    try {
      await this.#motor.setVelocity(await this.getVelocity(), { signal });
      yield* this.produceFrames(this.counts.numProjections, signal, (i) => ({
        image_key: IMAGE_KEYS.projection,
        angle: start + i * step,
      }));
    } finally {
      await this.#motor.stop();
    }
    await this.stopSampleExposure(signal);
  }
}
