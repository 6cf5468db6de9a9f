/**
 * Spiral (helical) tomography: stepped and continuous.
 * @module
 */
import {
  ParameterError,
  q,
  toNumber,
  type Frame,
  type OptionSpec,
  type Quantity,
  type Unit,
} from '../../core/index.js';
import type { Motor } from '../../devices/motors/index.js';
import { IMAGE_KEYS, triggeredFrames } from './frames.js';
import { imagingOptionChecks, required } from './radiography.js';
import {
  ContinuousTomography,
  SteppedTomography,
  velocityMotor,
  type TomographyOptions,
  type VelocityMotor,
} from './tomography.js';

const { anyQuantity, motor } = imagingOptionChecks;

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

const SPIRAL_OPTIONS: OptionSpec = {
  verticalMotor: motor,
  startPositionVertical: anyQuantity,
  sampleHeight: anyQuantity,
  verticalShiftPerTomogram: anyQuantity,
};

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
  readonly numTomograms = this.parameter<number>('numTomograms', {
    help: 'tomograms to cover the sample',
    read: async () => (await spiralValues(this)).tomograms,
  });

  constructor(options: TomographyOptions & SpiralOptions) {
    super(options);
    const owner = `${this.kind}.create`;
    this.verticalMotor = required(owner, options, 'verticalMotor');
    const unit = this.verticalMotor.position.unit;
    this.startPositionVertical = this.quantitySetting(
      'startPositionVertical',
      unit,
      required(owner, options, 'startPositionVertical'),
      'vertical position at the first projection',
    );
    this.sampleHeight = this.quantitySetting(
      'sampleHeight',
      unit,
      required(owner, options, 'sampleHeight'),
      'height of the sample',
    );
    this.verticalShiftPerTomogram = this.quantitySetting(
      'verticalShiftPerTomogram',
      unit,
      required(owner, options, 'verticalShiftPerTomogram'),
      'vertical shift per tomogram',
    );
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
  static override readonly options: OptionSpec = {
    ...ContinuousTomography.options,
    ...SPIRAL_OPTIONS,
    verticalMotor: velocityMotor,
  };
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

  constructor(options: TomographyOptions & SpiralOptions) {
    super(options);
    const owner = `${this.kind}.create`;
    this.verticalMotor = required(owner, options, 'verticalMotor');
    const unit = this.verticalMotor.position.unit;
    this.startPositionVertical = this.quantitySetting(
      'startPositionVertical',
      unit,
      required(owner, options, 'startPositionVertical'),
      'vertical position at the first projection',
    );
    this.sampleHeight = this.quantitySetting(
      'sampleHeight',
      unit,
      required(owner, options, 'sampleHeight'),
      'height of the sample',
    );
    this.verticalShiftPerTomogram = this.quantitySetting(
      'verticalShiftPerTomogram',
      unit,
      required(owner, options, 'verticalShiftPerTomogram'),
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
      await Promise.all([
        tomo.setVelocity(await this.getVelocity(), { signal }),
        vertical.setVelocity(await this.getVerticalVelocity(), { signal }),
      ]);
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
