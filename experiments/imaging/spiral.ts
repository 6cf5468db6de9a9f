/**
 * Spiral (helical) tomography: stepped and continuous.
 * @module
 */
import type { z } from '../../core/index.js';
import {
  ParameterError,
  toNumber,
  zinstance,
  zquantity,
  type Quantity,
  type Unit,
  type OptionsSchema,
} from '../../core/index.js';
import { Motor } from '../../devices/motors/index.js';
import { IMAGE_KEYS } from './frames.js';
import type { ImagingStep } from './step.js';
import {
  CONTINUOUS_TOMOGRAPHY_OPTIONS,
  ContinuousTomography,
  SteppedTomography,
  TOMOGRAPHY_OPTIONS,
  zvelocityMotor,
  type VelocityMotor,
} from './tomography.js';

/** What the spiral tomographies add to the options of the tomographies. */
const SPIRAL_SHAPE = {
  /** Moves the sample along the rotation axis. */
  verticalMotor: zinstance(Motor),
  /** Position of `verticalMotor` at the first projection. */
  startPositionVertical: zquantity,
  /** Height of the sample. */
  sampleHeight: zquantity,
  /** How far `verticalMotor` moves during one `angularRange`. */
  verticalShiftPerTomogram: zquantity,
};

/** The options of {@link SteppedSpiralTomography}. */
export const STEPPED_SPIRAL_OPTIONS = TOMOGRAPHY_OPTIONS.extend(SPIRAL_SHAPE);
/** The options of {@link ContinuousSpiralTomography} (a continuous vertical motor). */
export const CONTINUOUS_SPIRAL_OPTIONS = CONTINUOUS_TOMOGRAPHY_OPTIONS.extend({
  ...SPIRAL_SHAPE,
  verticalMotor: zvelocityMotor,
});

/** Options of the spiral tomography experiments. */
export type SpiralTomographyOptions = z.input<typeof STEPPED_SPIRAL_OPTIONS>;

/** What the spiral tomographies add to the options of the tomographies. */
export type SpiralOptions = Pick<SpiralTomographyOptions, keyof typeof SPIRAL_SHAPE>;

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

/**
 * Stepped spiral tomography: frame i is taken at angle start + i · range / N and height
 * startPositionVertical + i · shift / N, for N · numTomograms frames.
 */
export class SteppedSpiralTomography extends SteppedTomography implements SpiralSettings {
  static override readonly options: OptionsSchema = STEPPED_SPIRAL_OPTIONS;
  readonly verticalMotor: Motor;
  readonly startPositionVertical: Quantity;
  readonly sampleHeight: Quantity;
  readonly verticalShiftPerTomogram: Quantity;
  /** Tomograms needed to cover the sample (read-only): |sampleHeight / verticalShiftPerTomogram| + 1. */
  readonly numTomograms = this.parameter<number>('numTomograms', {
    help: 'tomograms to cover the sample',
    read: async () => (await spiralValues(this)).tomograms,
  });

  constructor(options: SpiralTomographyOptions) {
    super(options);
    this.verticalMotor = options.verticalMotor;
    const unit = this.verticalMotor.position.unit;
    this.startPositionVertical = this.quantitySetting(
      'startPositionVertical',
      unit,
      options.startPositionVertical,
      'vertical position at the first projection',
    );
    this.sampleHeight = this.quantitySetting('sampleHeight', unit, options.sampleHeight, 'height of the sample');
    this.verticalShiftPerTomogram = this.quantitySetting(
      'verticalShiftPerTomogram',
      unit,
      options.verticalShiftPerTomogram,
      'vertical shift per tomogram',
    );
    spiralTomograms(0, this.verticalShiftPerTomogram.toNumber(options.verticalShiftPerTomogram));
  }

  protected override motors(): Motor[] {
    return [...super.motors(), this.verticalMotor];
  }

  /**
   * N · numTomograms triggered frames, each at its angle and height (both motors moved in
   * parallel before it).
   */
  protected override async radiosStep(): Promise<ImagingStep> {
    const step = await super.radiosStep();
    const { start, shift, tomograms } = await spiralValues(this);
    const n = this.counts.numProjections;
    const verticalOf = (i: number) => start + (i * shift) / Math.max(1, n);
    const angleOf = await this.angles();
    const [tomo, vertical] = [this.tomographyMotor, this.verticalMotor];
    return {
      ...step,
      count: spiralFrames(n, tomograms),
      setup: (from) => [...step.setup(from), { motor: vertical, target: verticalOf(from) }],
      before: (i) => [
        { motor: tomo, target: angleOf(i) },
        { motor: vertical, target: verticalOf(i) },
      ],
      metadata: (i) => ({ image_key: IMAGE_KEYS.projection, angle: angleOf(i), vertical_position: verticalOf(i) }),
    };
  }
}

/**
 * Continuous spiral tomography: rotates at `velocity` and moves up at `verticalVelocity` =
 * shift · frame rate / numProjections while the camera records N · numTomograms frames.
 */
export class ContinuousSpiralTomography extends ContinuousTomography implements SpiralSettings {
  static override readonly options: OptionsSchema = CONTINUOUS_SPIRAL_OPTIONS;
  readonly verticalMotor: Motor;
  readonly startPositionVertical: Quantity;
  readonly sampleHeight: Quantity;
  readonly verticalShiftPerTomogram: Quantity;
  /** Tomograms needed to cover the sample (read-only): |sampleHeight / verticalShiftPerTomogram| + 1. */
  readonly numTomograms = this.parameter<number>('numTomograms', {
    help: 'tomograms to cover the sample',
    read: async () => (await spiralValues(this)).tomograms,
  });
  /** Vertical velocity of the scan (read-only): shift · frame rate / numProjections. */
  readonly verticalVelocity: Quantity;

  constructor(options: SpiralTomographyOptions) {
    super(options);
    this.verticalMotor = options.verticalMotor;
    const unit = this.verticalMotor.position.unit;
    this.startPositionVertical = this.quantitySetting(
      'startPositionVertical',
      unit,
      options.startPositionVertical,
      'vertical position at the first projection',
    );
    this.sampleHeight = this.quantitySetting('sampleHeight', unit, options.sampleHeight, 'height of the sample');
    this.verticalShiftPerTomogram = this.quantitySetting(
      'verticalShiftPerTomogram',
      unit,
      options.verticalShiftPerTomogram,
      'vertical shift per tomogram',
    );
    spiralTomograms(0, this.verticalShiftPerTomogram.toNumber(options.verticalShiftPerTomogram));
    this.verticalVelocity = this.quantity('verticalVelocity', {
      unit: `${unit}/s`,
      help: 'vertical velocity of the scan',
      read: async () => {
        const fps = toNumber(await this.camera.getFrameRate(), 'Hz');
        return (
          (toNumber(await this.verticalShiftPerTomogram.get(), unit) * fps) / Math.max(1, this.counts.numProjections)
        );
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

  /** N · numTomograms free-running frames while rotating at `velocity` and rising at `verticalVelocity`. */
  protected override async radiosStep(): Promise<ImagingStep> {
    const step = await super.radiosStep();
    const { start, shift, tomograms } = await spiralValues(this);
    const n = Math.max(1, this.counts.numProjections);
    const vertical = this.verticalMotor as VelocityMotor;
    const unit = vertical.position.unit;
    const startAngle = toNumber(await this.startAngle.get(), 'deg');
    const angle = toNumber(await this.angularRange.get(), 'deg') / n;
    return {
      ...step,
      count: spiralFrames(this.counts.numProjections, tomograms),
      setup: (from) => [...step.setup(from), { motor: vertical, target: start + (from * shift) / n }],
      runs: [
        ...(step.runs ?? []),
        { motor: vertical, velocity: toNumber(await this.getVerticalVelocity(), `${unit}/s`) },
      ],
      metadata: (i) => ({
        image_key: IMAGE_KEYS.projection,
        angle: startAngle + i * angle,
        vertical_position: start + (i * shift) / n,
      }),
    };
  }
}
