/**
 * The parameters of online reconstruction (Concert's names, with units), shared by the local
 * and the remote `OnlineReconstruction` addons.
 * @module
 */
import { Parameterizable, ParameterError, soft, type SetOptions, type Unit } from '../core/index.js';
import { FILTER_NAMES, type FilterName, type ReconstructionParameters } from '../reco/index.js';
import type { Addon } from './base.js';

/** The reconstruction's parameters, settable in the session (`reco.params.param('filter')`). */
export class ReconstructionSettings extends Parameterizable {
  /** Detector column of the rotation axis; default: the middle. */
  readonly centerPositionX = this.quantity('centerPositionX', {
    unit: 'px',
    help: 'rotation axis column (default: the middle)',
    read: () => this.#center ?? NaN,
    write: (v) => void (this.#center = v),
  });
  #center: number | undefined;
  /** Angular range of all projections. */
  readonly overallAngle = this.quantity('overallAngle', {
    unit: 'rad',
    ...soft(Math.PI),
    help: 'angular range of the projections',
  });
  /** Detector rows to reconstruct: [from, to, step] (to exclusive); empty: the middle row. */
  readonly region = this.parameter<readonly number[]>('region', {
    ...soft<readonly number[]>([]),
    help: 'rows [from, to, step]',
    validate: checkRegion,
  });
  /** Number of projections (0: the radios acquisition's count). */
  readonly number = this.parameter<number>('number', {
    ...soft(0),
    help: 'number of projections',
    validate: (v) => checkInt('number', v, 0),
  });
  readonly absorptivity = this.parameter<boolean>('absorptivity', {
    ...soft(false),
    help: 'apply −log after flat-field correction',
    validate: checkBool('absorptivity'),
  });
  readonly fixNanAndInf = this.parameter<boolean>('fixNanAndInf', {
    ...soft(false),
    help: 'replace NaN/Inf by 0',
    validate: checkBool('fixNanAndInf'),
  });
  readonly filter = this.selection<FilterName>('filter', FILTER_NAMES, {
    ...soft<FilterName>('ramp'),
    help: 'ramp filter window',
  });
  readonly doNormalization = this.parameter<boolean>('doNormalization', {
    ...soft(true),
    help: 'flat-field correct',
    validate: checkBool('doNormalization'),
  });
  readonly averageNormalization = this.parameter<boolean>('averageNormalization', {
    ...soft(true),
    help: 'use the mean of all darks/flats',
    validate: checkBool('averageNormalization'),
  });
  /** Side of the square slice (0: the detector width). */
  readonly sliceWidth = this.quantity('sliceWidth', { unit: 'px', ...soft(0), help: 'slice side (0: detector width)' });

  /** The parameters as the reconstructor takes them. */
  async toReconstruction(): Promise<ReconstructionParameters & { number: number }> {
    const center = this.#center;
    const region = await this.region.get();
    const side = this.sliceWidth.toNumber(await this.sliceWidth.get());
    return {
      ...(center !== undefined ? { centerPositionX: center } : {}),
      overallAngle: this.overallAngle.toNumber(await this.overallAngle.get()),
      ...(region.length === 3 ? { region: region as [number, number, number] } : {}),
      absorptivity: await this.absorptivity.get(),
      fixNanAndInf: await this.fixNanAndInf.get(),
      filter: await this.filter.get(),
      doNormalization: await this.doNormalization.get(),
      averageNormalization: await this.averageNormalization.get(),
      ...(side > 0 ? { sliceWidth: side } : {}),
      number: await this.number.get(),
    };
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin base: TypeScript requires any[] constructor arguments
type AddonBase = abstract new (...args: any[]) => Addon;

/** Adds `params` and Concert's setters (`setCenterPositionX`, `setRegion`, …) to an addon class. */
export function WithReconstructionSettings<B extends AddonBase>(Base: B) {
  abstract class ReconstructionAddon extends Base {
    /** The reconstruction parameters (`reco.params.param('filter')`). */
    readonly params = new ReconstructionSettings({ name: 'reco' });

    setCenterPositionX(v: Unit, o?: SetOptions): Promise<void> {
      return this.params.centerPositionX.set(v, o);
    }
    setOverallAngle(v: Unit, o?: SetOptions): Promise<void> {
      return this.params.overallAngle.set(v, o);
    }
    setRegion(v: readonly [number, number, number]): Promise<void> {
      return this.params.region.set(v);
    }
    setNumber(v: number): Promise<void> {
      return this.params.number.set(v);
    }
    setAbsorptivity(v: boolean): Promise<void> {
      return this.params.absorptivity.set(v);
    }
    setFixNanAndInf(v: boolean): Promise<void> {
      return this.params.fixNanAndInf.set(v);
    }
    setFilter(v: FilterName): Promise<void> {
      return this.params.filter.set(v);
    }
    setDoNormalization(v: boolean): Promise<void> {
      return this.params.doNormalization.set(v);
    }
    setAverageNormalization(v: boolean): Promise<void> {
      return this.params.averageNormalization.set(v);
    }
    setSliceWidth(v: Unit): Promise<void> {
      return this.params.sliceWidth.set(v);
    }
  }
  return ReconstructionAddon;
}

function checkRegion(v: readonly number[]): void {
  if (
    !Array.isArray(v) ||
    !(v.length === 0 || (v.length === 3 && v.every(Number.isInteger) && v[0]! >= 0 && v[1]! > v[0]! && v[2]! > 0))
  )
    throw new ParameterError(
      `reco.region must be [from, to, step] rows with 0 ≤ from < to and step > 0 (or [] for the middle row), got ${JSON.stringify(v)}`,
    );
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new ParameterError(`reco.${name} must be an integer ≥ ${min}, got ${v}`);
}

function checkBool(name: string) {
  return (v: boolean) => {
    if (typeof v !== 'boolean')
      throw new ParameterError(`reco.${name} must be true or false, got ${JSON.stringify(v)}`);
  };
}
