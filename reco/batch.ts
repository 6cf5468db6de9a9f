/**
 * Runs one batch of queued projections over a band of slice rows with either kernel; shared by
 * the workers and the single-threaded paths of the benchmarks and tests.
 * @module
 * @internal
 */
import type { PaddedLayout, SliceGeometry } from './geometry.js';
import { padRow } from './geometry.js';
import { accumulatePadded } from './backproject.js';
import type { WasmKernel } from './wasm-kernel.js';

/** Which kernel computes the sums. */
export type KernelName = 'wasm' | 'js';

/**
 * Memory layout of a backprojection arena (one buffer; offsets in bytes): a control block,
 * a ring of angles (f64), a ring of padded rows (`ring × slices × rowFloats` f32) and the
 * slices (`slices × height × width` f32). The JavaScript kernel reads plain padded rows; the
 * wasm kernel reads each position `i` as the pair `(p[i], p[i+1] − p[i])`, so one 64-bit load
 * gives a pixel's value and slope (see {@link putRow}). When the workers filter (see
 * `filter-stage.ts`), a ring of corrected detector rows (`ring × slices × inputWidth` f32) and
 * two Int32 flags per slot (`ready`, then `units`) lie between the angles and the padded rows.
 * @internal
 */
export interface ArenaLayout {
  readonly ring: number;
  readonly slices: number;
  readonly geometry: SliceGeometry;
  readonly padded: PaddedLayout;
  readonly kernel: KernelName;
  /** Floats per stored row: `padded.length`, or twice that for the wasm kernel's pairs. */
  readonly rowFloats: number;
  readonly anglesByte: number;
  /** Detector width of the corrected rows the workers filter; 0 when rows arrive filtered. */
  readonly inputWidth: number;
  /** Per-slot flags (Int32, `2 × ring`) and the corrected-row ring (both empty when `inputWidth` is 0). */
  readonly flagsByte: number;
  readonly inputByte: number;
  readonly rowsByte: number;
  readonly slicesByte: number;
  readonly bytes: number;
}

/** Projections a worker waits for before a pass (the wasm kernel sums eight per slice visit). @internal */
export const GROUP = 8;

/** Largest number of projections a worker handles in one call of {@link runBatch}. @internal */
export const BATCH = 32;

/**
 * How many projections a worker backprojects next, from sequence number `seq` with `head` queued,
 * or 0 to wait: whole groups of {@link GROUP} (any remainder when `flushing`), never past the end
 * of the ring, at most {@link BATCH}, and at most half the ring (at least one group), so the
 * calling thread refills the other half while the workers run instead of waiting for all of it.
 * @internal
 */
export function batchCount(head: number, seq: number, ring: number, flushing: boolean): number {
  if (!(head - seq >= GROUP || (flushing && seq < head))) return 0;
  const count = Math.min(head - seq, BATCH, ring - (seq % ring), Math.max(GROUP, ring >> 1));
  return !flushing && count > GROUP ? count - (count % GROUP) : count;
}

/** Control-block indices (Int32). @internal */
export const CTRL = { head: 0, wake: 1, stop: 2, flush: 3, claim: 4, filtered: 5, done: 8 } as const;
const CONTROL_BYTES = 256;

const align = (n: number): number => Math.ceil(n / 64) * 64;

/** Computes an arena layout. @internal */
export function arenaLayout(
  geometry: SliceGeometry,
  padded: PaddedLayout,
  slices: number,
  ring: number,
  kernel: KernelName,
  inputWidth = 0,
): ArenaLayout {
  const rowFloats = kernel === 'wasm' ? 2 * padded.length : padded.length;
  const anglesByte = CONTROL_BYTES;
  const flagsByte = align(anglesByte + ring * 8);
  const inputByte = align(flagsByte + (inputWidth > 0 ? 2 * ring * 4 : 0));
  const rowsByte = align(inputByte + ring * slices * inputWidth * 4);
  const slicesByte = align(rowsByte + ring * slices * rowFloats * 4);
  const bytes = align(slicesByte + slices * geometry.width * geometry.height * 4);
  return {
    ring,
    slices,
    geometry,
    padded,
    kernel,
    rowFloats,
    anglesByte,
    inputWidth,
    flagsByte,
    inputByte,
    rowsByte,
    slicesByte,
    bytes,
  };
}

/**
 * Stores detector row `row` of slice `slice` in ring slot `slot`, padded (and as value/slope
 * pairs for the wasm kernel). @internal
 */
export function putRow(a: ArenaLayout, f32: Float32Array, slot: number, slice: number, row: ArrayLike<number>): void {
  const at = a.rowsByte / 4 + (slot * a.slices + slice) * a.rowFloats;
  if (a.kernel === 'js') return padRow(row, a.padded, f32, at);
  const { offset } = a.padded;
  const n = row.length;
  f32.fill(0, at, at + a.rowFloats);
  let next = n > 0 ? Math.fround(row[0]!) : 0;
  if (offset > 0) f32[at + 2 * (offset - 1) + 1] = next; // the zero before the row rises to row[0]
  for (let u = 0; u < n; u++) {
    const p = next;
    next = u + 1 < n ? Math.fround(row[u + 1]!) : 0;
    const i = at + 2 * (offset + u);
    f32[i] = p;
    f32[i + 1] = next - p;
  }
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
 * Per-group scratch of {@link runBatch} (typed, reused: no allocation per call, and the JIT sees one
 * element kind whatever the angles, so the code optimised during the workers' warm-up stays valid).
 */
const cos = new Float64Array(8);
const sin = new Float64Array(8);
const dt = new Float64Array(8);
const t = new Float64Array(8);
const rows = new Float64Array(8);

/**
 * Backprojects ring slots `[first, first + count)` (no wrap-around) into slice rows
 * `[rowFrom, rowTo)` of every slice.
 * @internal
 */
export function runBatch(
  a: ArenaLayout,
  v: ArenaViews,
  kernel: WasmKernel | undefined,
  first: number,
  count: number,
  rowFrom: number,
  rowTo: number,
): void {
  const g = a.geometry;
  const L = a.rowFloats;
  const sliceSize = g.width * g.height;
  const groups = g.width >> 2;
  const tail = groups * 4;
  const base = g.centerPositionX + a.padded.offset;
  for (let s = 0; s < a.slices; s++) {
    const sliceIndex = a.slicesByte / 4 + s * sliceSize;
    if (kernel === undefined) {
      accumulatePadded(
        v.f32,
        sliceIndex,
        v.f32,
        rowIndex(a, first, s),
        v.angles,
        first,
        count,
        g,
        a.padded,
        rowFrom,
        rowTo,
        a.slices * L,
      );
      continue;
    }
    for (let k = 0; k < count;) {
      const n = count - k >= 8 ? 8 : count - k >= 4 ? 4 : 1;
      for (let j = 0; j < n; j++) {
        const angle = v.angles[first + k + j]!;
        cos[j] = Math.cos(angle);
        sin[j] = Math.sin(angle);
        dt[j] = g.step * cos[j]!;
        rows[j] = rowIndex(a, first + k + j, s);
      }
      for (let r = rowFrom; r < rowTo; r++) {
        const y = g.y0 - r * g.step;
        const dst = sliceIndex + r * g.width;
        for (let j = 0; j < n; j++) t[j] = base + g.x0 * cos[j]! + y * sin[j]!;
        if (groups > 0) {
          if (n === 8)
            kernel.bp8(
              dst * 4,
              groups,
              rows[0]! * 4,
              rows[1]! * 4,
              rows[2]! * 4,
              rows[3]! * 4,
              rows[4]! * 4,
              rows[5]! * 4,
              rows[6]! * 4,
              rows[7]! * 4,
              t[0]!,
              t[1]!,
              t[2]!,
              t[3]!,
              t[4]!,
              t[5]!,
              t[6]!,
              t[7]!,
              dt[0]!,
              dt[1]!,
              dt[2]!,
              dt[3]!,
              dt[4]!,
              dt[5]!,
              dt[6]!,
              dt[7]!,
            );
          else if (n === 4)
            kernel.bp4(
              dst * 4,
              groups,
              rows[0]! * 4,
              rows[1]! * 4,
              rows[2]! * 4,
              rows[3]! * 4,
              t[0]!,
              t[1]!,
              t[2]!,
              t[3]!,
              dt[0]!,
              dt[1]!,
              dt[2]!,
              dt[3]!,
            );
          else kernel.bp1(dst * 4, groups, rows[0]! * 4, t[0]!, dt[0]!);
        }
        for (let c = tail; c < g.width; c++)
          for (let j = 0; j < n; j++) addPairPixel(v.f32, dst + c, rows[j]!, t[j]! + c * dt[j]!);
      }
      k += n;
    }
  }
}

/** Float index of the stored row of slice `slice` in ring slot `slot`. */
function rowIndex(a: ArenaLayout, slot: number, slice: number): number {
  return a.rowsByte / 4 + (slot * a.slices + slice) * a.rowFloats;
}

function addPairPixel(f32: Float32Array, dst: number, row: number, t: number): void {
  const i = t | 0;
  f32[dst]! += f32[row + 2 * i]! + (t - i) * f32[row + 2 * i + 1]!;
}
