/**
 * Runs one batch of queued projections over a band of slice rows with either kernel; shared by
 * the workers and the single-threaded paths of the benchmarks and tests.
 * @module
 * @internal
 */
import type { PaddedLayout, SliceGeometry } from './geometry.js';
import { accumulatePadded } from './backproject.js';
import type { WasmKernel } from './wasm-kernel.js';

/** Which kernel computes the sums. */
export type KernelName = 'wasm' | 'js';

/**
 * Memory layout of a backprojection arena (one buffer; offsets in bytes): a control block,
 * a ring of angles (f64), a ring of padded rows (`ring × slices × layout.length` f32) and the
 * slices (`slices × height × width` f32).
 * @internal
 */
export interface ArenaLayout {
  readonly ring: number;
  readonly slices: number;
  readonly geometry: SliceGeometry;
  readonly padded: PaddedLayout;
  readonly anglesByte: number;
  readonly rowsByte: number;
  readonly slicesByte: number;
  readonly bytes: number;
}

/** Control-block indices (Int32). @internal */
export const CTRL = { head: 0, wake: 1, stop: 2, done: 8 } as const;
const CONTROL_BYTES = 256;

const align = (n: number): number => Math.ceil(n / 64) * 64;

/** Computes an arena layout. @internal */
export function arenaLayout(geometry: SliceGeometry, padded: PaddedLayout, slices: number, ring: number): ArenaLayout {
  const anglesByte = CONTROL_BYTES;
  const rowsByte = align(anglesByte + ring * 8);
  const slicesByte = align(rowsByte + ring * slices * padded.length * 4);
  const bytes = align(slicesByte + slices * geometry.width * geometry.height * 4);
  return { ring, slices, geometry, padded, anglesByte, rowsByte, slicesByte, bytes };
}

/** Typed views of an arena. @internal */
export interface ArenaViews {
  readonly control: Int32Array;
  readonly angles: Float64Array;
  readonly f32: Float32Array;
}

/** Views on an arena buffer. @internal */
export function arenaViews(buffer: ArrayBufferLike, a: ArenaLayout): ArenaViews {
  return {
    control: new Int32Array(buffer, 0, CONTROL_BYTES / 4),
    angles: new Float64Array(buffer, a.anglesByte, a.ring),
    f32: new Float32Array(buffer),
  };
}

/**
 * Backprojects ring slots `[first, first + count)` (no wrap-around) into slice rows
 * `[rowFrom, rowTo)` of every slice.
 * @internal
 */
export function runBatch(a: ArenaLayout, v: ArenaViews, kernel: WasmKernel | undefined, first: number, count: number, rowFrom: number, rowTo: number): void {
  const g = a.geometry;
  const L = a.padded.length;
  const sliceSize = g.width * g.height;
  const groups = g.width >> 2;
  const tail = groups * 4;
  const base = g.centerPositionX + a.padded.offset;
  for (let s = 0; s < a.slices; s++) {
    const sliceIndex = a.slicesByte / 4 + s * sliceSize;
    const rowIndex = (slot: number): number => a.rowsByte / 4 + (slot * a.slices + s) * L;
    if (kernel === undefined) {
      accumulatePadded(v.f32, sliceIndex, v.f32, rowIndex(first), v.angles, first, count, g, a.padded, rowFrom, rowTo, a.slices * L);
      continue;
    }
    for (let k = 0; k < count; ) {
      const n = k + 4 <= count ? 4 : 1;
      const cos = [0, 0, 0, 0];
      const sin = [0, 0, 0, 0];
      const rows = [0, 0, 0, 0];
      for (let j = 0; j < n; j++) {
        cos[j] = Math.cos(v.angles[first + k + j]!);
        sin[j] = Math.sin(v.angles[first + k + j]!);
        rows[j] = rowIndex(first + k + j);
      }
      for (let r = rowFrom; r < rowTo; r++) {
        const y = g.y0 - r * g.step;
        const dst = sliceIndex + r * g.width;
        const t0 = base + g.x0 * cos[0]! + y * sin[0]!;
        if (n === 4) {
          const t1 = base + g.x0 * cos[1]! + y * sin[1]!;
          const t2 = base + g.x0 * cos[2]! + y * sin[2]!;
          const t3 = base + g.x0 * cos[3]! + y * sin[3]!;
          if (groups > 0)
            kernel.bp4(dst * 4, groups, rows[0]! * 4, rows[1]! * 4, rows[2]! * 4, rows[3]! * 4, t0, t1, t2, t3,
              g.step * cos[0]!, g.step * cos[1]!, g.step * cos[2]!, g.step * cos[3]!);
          for (let c = tail; c < g.width; c++)
            for (let j = 0; j < 4; j++) addPixel(v.f32, dst + c, rows[j]!, (j === 0 ? t0 : j === 1 ? t1 : j === 2 ? t2 : t3) + c * g.step * cos[j]!);
        } else {
          if (groups > 0) kernel.bp1(dst * 4, groups, rows[0]! * 4, t0, g.step * cos[0]!);
          for (let c = tail; c < g.width; c++) addPixel(v.f32, dst + c, rows[0]!, t0 + c * g.step * cos[0]!);
        }
      }
      k += n;
    }
  }
}

function addPixel(f32: Float32Array, dst: number, row: number, t: number): void {
  const i = t | 0;
  const a = f32[row + i]!;
  f32[dst]! += a + (t - i) * (f32[row + i + 1]! - a);
}
