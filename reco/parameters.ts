/**
 * Reconstruction parameters (Concert's names) with their defaults, and the slice geometry and
 * detector rows they imply.
 * @module
 */
import { ParameterError } from '../core/errors.js';
import type { FilterName } from './filter.js';
import type { SliceGeometry } from './geometry.js';
import { sliceGeometry } from './geometry.js';

/** Parameters that {@link Reconstructor.rereconstruct} may change. */
export interface ReconstructionParameters {
  /** Detector rows to reconstruct: `[from, to, step]` (to exclusive). Default: the middle row. */
  region?: readonly [number, number, number];
  /** Angular range of all projections [rad]; default π. Angle of projection i = angleOffset + i · overallAngle / number. */
  overallAngle?: number;
  /** Angle of projection 0 [rad]; default 0. */
  angleOffset?: number;
  /** Detector column of the rotation axis [px]; default `(width − 1) / 2`. */
  centerPositionX?: number;
  /** Apply `−log` after flat-field correction (transmission → absorption). Default false. */
  absorptivity?: boolean;
  /** Replace NaN and ±Inf after correction by 0. Default false. */
  fixNanAndInf?: boolean;
  /** Ramp window; default `'ramp'`. */
  filter?: FilterName;
  /** Flat-field correct (divide by flat − dark); without it only darks are subtracted. Default true. */
  doNormalization?: boolean;
  /** Correct with the mean of all darks/flats (true, default) or with the last one received. */
  averageNormalization?: boolean;
  /**
   * Filtered-row samples per detector pixel (1, 2 or 4; default 2): band-limited upsampling
   * before the backprojection's linear interpolation, which sharpens slices at no kernel cost.
   */
  oversample?: number;
  /** Zero slice pixels outside the circle every projection sees (like scikit-image `circle=True`). Default false. */
  circleMask?: boolean;
  /** Side of the square slice [px]; default the detector width. */
  sliceWidth?: number;
  /** Crop of the `sliceWidth²` slice: columns `x: [from, to)`, rows `y: [from, to)`. */
  roi?: { readonly x?: readonly [number, number]; readonly y?: readonly [number, number] };
}

/** Parameters with every default filled in. @internal */
export type FullParameters = Required<Omit<ReconstructionParameters, 'roi'>> & Pick<ReconstructionParameters, 'roi'>;

/** Fills in the defaults. @internal */
export function mergeParameters(p: ReconstructionParameters, o: { width: number; height?: number }): FullParameters {
  const mid = Math.floor((o.height ?? 1) / 2);
  if (p.overallAngle !== undefined && !(Number.isFinite(p.overallAngle) && p.overallAngle > 0))
    throw new ParameterError(`reco: overallAngle must be a positive number of radians, got ${p.overallAngle}`);
  if (p.sliceWidth !== undefined && !(Number.isInteger(p.sliceWidth) && p.sliceWidth > 0))
    throw new ParameterError(`reco: sliceWidth must be a positive integer, got ${p.sliceWidth}`);
  return {
    region: p.region ?? [mid, mid + 1, 1],
    overallAngle: p.overallAngle ?? Math.PI,
    angleOffset: p.angleOffset ?? 0,
    centerPositionX: p.centerPositionX ?? (o.width - 1) / 2,
    absorptivity: p.absorptivity ?? false,
    fixNanAndInf: p.fixNanAndInf ?? false,
    filter: p.filter ?? 'ramp',
    doNormalization: p.doNormalization ?? true,
    averageNormalization: p.averageNormalization ?? true,
    sliceWidth: p.sliceWidth ?? o.width,
    oversample: p.oversample ?? 2,
    circleMask: p.circleMask ?? false,
    roi: p.roi,
  };
}

/** The (not oversampled) slice geometry of parameters. @internal */
export function sliceGeometryOf(width: number, p: FullParameters): SliceGeometry {
  const side = p.sliceWidth;
  const [xFrom, xTo] = p.roi?.x ?? [0, side];
  const [yFrom, yTo] = p.roi?.y ?? [0, side];
  if (!(xFrom >= 0 && xTo <= side && xTo > xFrom && yFrom >= 0 && yTo <= side && yTo > yFrom))
    throw new ParameterError(`reco: roi x [${xFrom}, ${xTo}) y [${yFrom}, ${yTo}) must lie within the ${side}² slice`);
  return sliceGeometry({
    detectorWidth: width,
    centerPositionX: p.centerPositionX,
    width: xTo - xFrom,
    height: yTo - yFrom,
    x0: -(side - 1) / 2 + xFrom,
    y0: (side - 1) / 2 - yFrom,
  });
}

/** Detector rows of a region. @throws ParameterError for a bad region. @internal */
export function regionRows(region: readonly [number, number, number], height: number): number[] {
  const [from, to, step] = region;
  if (
    !Number.isInteger(from) ||
    !Number.isInteger(to) ||
    !Number.isInteger(step) ||
    step < 1 ||
    from < 0 ||
    to > height ||
    to <= from
  )
    throw new ParameterError(
      `reco: region [${region.join(', ')}] must be integers [from, to, step] within [0, ${height}] with from < to, step ≥ 1`,
    );
  const rows: number[] = [];
  for (let r = from; r < to; r += step) rows.push(r);
  return rows;
}

/** The geometry of a row oversampled `os` times (sample k at detector position k / os). @internal */
export function scaled(g: SliceGeometry, os: number): SliceGeometry {
  if (os === 1) return g;
  return {
    ...g,
    detectorWidth: g.detectorWidth * os,
    centerPositionX: g.centerPositionX * os,
    x0: g.x0 * os,
    y0: g.y0 * os,
    step: g.step * os,
  };
}

/** Zeroes pixels farther from the axis than the nearer detector edge (+ ½ px). @internal */
export function circleMask(slice: Float32Array, g: SliceGeometry): void {
  const radius = Math.min(g.centerPositionX, g.detectorWidth - 1 - g.centerPositionX) + 0.5;
  for (let r = 0; r < g.height; r++) {
    const y = g.y0 - r * g.step;
    for (let c = 0; c < g.width; c++) {
      const x = g.x0 + c * g.step;
      if (x * x + y * y > radius * radius) slice[r * g.width + c] = 0;
    }
  }
}

/** Rows `rows` of a frame, packed. @internal */
export function pickRows(frame: Float32Array, rows: readonly number[], width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(frame.subarray(r * width, (r + 1) * width), i * width));
  return out;
}
