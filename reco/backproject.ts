/**
 * Parallel-beam backprojection kernels, single-threaded. A projection is added into the slices
 * the moment it is filtered ({@link accumulate}), so slices are complete right after the last one.
 *
 * Two kernels compute the same sum:
 * - {@link accumulatePlain}: the textbook loop (per pixel: coordinates, bounds check, linear
 *   interpolation); the baseline the benchmarks compare against.
 * - {@link accumulatePadded}: rows zero-padded so no bounds checks are needed, detector position
 *   stepped incrementally along each slice row, and up to four angles summed per slice-pixel visit
 *   (one load and one store of the slice per four projections). This is what the workers run.
 * @module
 */
import { ParameterError } from '../core/errors.js';
import type { PaddedLayout, SliceGeometry } from './geometry.js';
import { padRow, paddedLayout } from './geometry.js';

/**
 * Textbook backprojection of one filtered row per slice at `angle` (radians), with linear
 * interpolation and zero outside the detector. Baseline for benchmarks and tests.
 */
export function accumulatePlain(
  slices: readonly Float32Array[],
  rows: readonly Float32Array[],
  angle: number,
  g: SliceGeometry,
): void {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const last = g.detectorWidth - 1;
  for (let s = 0; s < slices.length; s++) {
    const slice = slices[s]!;
    const row = rows[s]!;
    for (let r = 0; r < g.height; r++) {
      const y = g.y0 - r * g.step;
      for (let c = 0; c < g.width; c++) {
        const x = g.x0 + c * g.step;
        const t = g.centerPositionX + x * cos + y * sin;
        const i = Math.floor(t);
        if (i < -1 || i > last) continue;
        const f = t - i;
        const a = i >= 0 ? row[i]! : 0;
        const b = i < last ? row[i + 1]! : 0;
        slice[r * g.width + c]! += a + f * (b - a);
      }
    }
  }
}

/**
 * The fast kernel: adds `count` (1…4) padded rows to slice rows `[rowFrom, rowTo)` of one slice.
 * `rows[rowsOffset + k · rowStride …]` is the k-th padded row, at angle `angles[anglesOffset + k]`.
 * @internal
 */
export function accumulatePadded(
  slice: Float32Array,
  sliceOffset: number,
  rows: Float32Array,
  rowsOffset: number,
  angles: ArrayLike<number>,
  anglesOffset: number,
  count: number,
  g: SliceGeometry,
  layout: PaddedLayout,
  rowFrom: number,
  rowTo: number,
  rowStride: number = layout.length,
): void {
  const { width, step, x0 } = g;
  const base = g.centerPositionX + layout.offset;
  const L = rowStride;
  let k = 0;
  for (; k + 4 <= count; k += 4) {
    const a0 = angles[anglesOffset + k]!;
    const a1 = angles[anglesOffset + k + 1]!;
    const a2 = angles[anglesOffset + k + 2]!;
    const a3 = angles[anglesOffset + k + 3]!;
    const c0 = Math.cos(a0),
      s0 = Math.sin(a0);
    const c1 = Math.cos(a1),
      s1 = Math.sin(a1);
    const c2 = Math.cos(a2),
      s2 = Math.sin(a2);
    const c3 = Math.cos(a3),
      s3 = Math.sin(a3);
    const p0 = rowsOffset + k * L;
    const p1 = p0 + L;
    const p2 = p1 + L;
    const p3 = p2 + L;
    const d0 = step * c0,
      d1 = step * c1,
      d2 = step * c2,
      d3 = step * c3;
    for (let r = rowFrom; r < rowTo; r++) {
      const y = g.y0 - r * step;
      let t0 = base + x0 * c0 + y * s0 + p0;
      let t1 = base + x0 * c1 + y * s1 + p1;
      let t2 = base + x0 * c2 + y * s2 + p2;
      let t3 = base + x0 * c3 + y * s3 + p3;
      const o = sliceOffset + r * width;
      for (let c = 0; c < width; c++) {
        const i0 = t0 | 0,
          i1 = t1 | 0,
          i2 = t2 | 0,
          i3 = t3 | 0;
        const v0 = rows[i0]!,
          v1 = rows[i1]!,
          v2 = rows[i2]!,
          v3 = rows[i3]!;
        slice[o + c]! +=
          v0 +
          (t0 - i0) * (rows[i0 + 1]! - v0) +
          (v1 + (t1 - i1) * (rows[i1 + 1]! - v1)) +
          (v2 + (t2 - i2) * (rows[i2 + 1]! - v2)) +
          (v3 + (t3 - i3) * (rows[i3 + 1]! - v3));
        t0 += d0;
        t1 += d1;
        t2 += d2;
        t3 += d3;
      }
    }
  }
  for (; k < count; k++) {
    const a = angles[anglesOffset + k]!;
    const cs = Math.cos(a),
      sn = Math.sin(a);
    const p = rowsOffset + k * L;
    const d = step * cs;
    for (let r = rowFrom; r < rowTo; r++) {
      const y = g.y0 - r * step;
      let t = base + x0 * cs + y * sn + p;
      const o = sliceOffset + r * width;
      for (let c = 0; c < width; c++) {
        const i = t | 0;
        const v = rows[i]!;
        slice[o + c]! += v + (t - i) * (rows[i + 1]! - v);
        t += d;
      }
    }
  }
}

/**
 * Adds one filtered row per slice, taken at `angle` (radians), into `slices` (each
 * `g.height × g.width`, row-major). Single-threaded; see {@link ParallelBackprojector} for the
 * worker version.
 * @throws ParameterError if the counts or lengths do not match.
 * @example
 * ```ts
 * const g = sliceGeometry({ detectorWidth: 512 });
 * const slice = new Float32Array(g.width * g.height);
 * for (let i = 0; i < n; i++) accumulate([slice], [filtered[i]], angles[i], g);
 * ```
 */
export function accumulate(
  slices: readonly Float32Array[],
  rows: readonly Float32Array[],
  angle: number,
  g: SliceGeometry,
  layout: PaddedLayout = paddedLayout(g),
): void {
  if (slices.length !== rows.length)
    throw new ParameterError(`backproject: ${slices.length} slices but ${rows.length} rows`);
  const padded = new Float32Array(layout.length);
  const angles = [angle];
  for (let s = 0; s < slices.length; s++) {
    if (rows[s]!.length !== g.detectorWidth)
      throw new ParameterError(`backproject: row ${s} has ${rows[s]!.length} pixels, detector has ${g.detectorWidth}`);
    if (slices[s]!.length !== g.width * g.height)
      throw new ParameterError(
        `backproject: slice ${s} has ${slices[s]!.length} pixels, expected ${g.width * g.height}`,
      );
    padRow(rows[s]!, layout, padded);
    accumulatePadded(slices[s]!, 0, padded, 0, angles, 0, 1, g, layout, 0, g.height);
  }
}
