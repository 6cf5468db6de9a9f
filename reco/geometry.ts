/**
 * Slice geometry shared by the backprojection kernels, the workers and the reconstructor.
 * @module
 */
import { ParameterError } from '../core/errors.js';

/**
 * Where slice pixels lie relative to the rotation axis. Pixel `(row r, column c)` sits at
 * `x = x0 + c · step`, `y = y0 − r · step` pixels from the axis (x right, y up), and reads the
 * filtered row at detector column `centerPositionX + x cos θ + y sin θ`.
 */
export interface SliceGeometry {
  /** Detector (row) width in pixels. */
  readonly detectorWidth: number;
  /** Detector column of the rotation axis [px], may be fractional. */
  readonly centerPositionX: number;
  /** Slice columns. */
  readonly width: number;
  /** Slice rows. */
  readonly height: number;
  /** x of column 0 [px from the axis]. */
  readonly x0: number;
  /** y of row 0 [px from the axis, up]. */
  readonly y0: number;
  /** Slice pixel size in detector pixels. */
  readonly step: number;
}

/** Options of {@link sliceGeometry}; everything but the detector is optional. */
export interface SliceGeometryOptions {
  detectorWidth: number;
  /** Default `(detectorWidth − 1) / 2`. */
  centerPositionX?: number;
  /** Default `detectorWidth`. */
  width?: number;
  /** Default `width`. */
  height?: number;
  /** Default `−(width − 1) / 2 · step` (slice centered on the axis). */
  x0?: number;
  /** Default `(height − 1) / 2 · step`. */
  y0?: number;
  /** Default 1. */
  step?: number;
}

/**
 * Fills in the defaults: a `detectorWidth²` slice centered on the axis.
 * @throws ParameterError for non-positive or non-integer sizes.
 */
export function sliceGeometry(options: SliceGeometryOptions): SliceGeometry {
  const { detectorWidth } = options;
  const width = options.width ?? detectorWidth;
  const height = options.height ?? width;
  const step = options.step ?? 1;
  for (const [name, v] of [
    ['detectorWidth', detectorWidth],
    ['width', width],
    ['height', height],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new ParameterError(`reco: ${name} must be a positive integer, got ${v}`);
  if (!(step > 0)) throw new ParameterError(`reco: step must be positive, got ${step}`);
  const centerPositionX = options.centerPositionX ?? (detectorWidth - 1) / 2;
  if (!Number.isFinite(centerPositionX))
    throw new ParameterError(`reco: centerPositionX must be finite, got ${centerPositionX}`);
  return {
    detectorWidth,
    centerPositionX,
    width,
    height,
    step,
    x0: options.x0 ?? (-(width - 1) / 2) * step,
    y0: options.y0 ?? ((height - 1) / 2) * step,
  };
}

/**
 * Layout of a zero-padded filtered row: detector column `u` is stored at `u + offset`, and every
 * slice pixel reads indices in `[1, length − 2]`, so kernels need no bounds checks.
 * @internal
 */
export interface PaddedLayout {
  readonly offset: number;
  readonly length: number;
}

/** The padded-row layout for a geometry (from the farthest slice corner). @internal */
export function paddedLayout(g: SliceGeometry): PaddedLayout {
  let reach = 0;
  for (const x of [g.x0, g.x0 + (g.width - 1) * g.step])
    for (const y of [g.y0, g.y0 - (g.height - 1) * g.step]) reach = Math.max(reach, Math.hypot(x, y));
  const offset = Math.max(0, Math.ceil(reach - g.centerPositionX)) + 2;
  const right = Math.max(g.detectorWidth, Math.ceil(g.centerPositionX + reach) + 1);
  return { offset, length: offset + right + 3 };
}

/** Copies a detector row into its padded form (zeros outside the detector). @internal */
export function padRow(row: ArrayLike<number>, layout: PaddedLayout, out: Float32Array, outOffset = 0): void {
  out.fill(0, outOffset, outOffset + layout.length);
  for (let u = 0; u < row.length; u++) out[outOffset + layout.offset + u] = row[u]!;
}
