/**
 * Filtering on the backprojection workers. The calling thread copies corrected detector rows into
 * a ring in the shared arena and publishes them in units: one projection, or two filtered together
 * when the number of slices is odd (one complex FFT packs two rows, as on the calling thread).
 * Each worker claims the next unit with `Atomics.compareExchange`, filters it, pads it into the
 * backprojection ring and marks its slots ready; a worker backprojects a batch only once every slot
 * of it is ready. The filter work is so shared between the workers, and each worker reads every
 * filtered row (it owns a band of slice rows, which all of a row reaches).
 * @module
 * @internal
 */
import { Atomics } from './atomics.js';
import type { ArenaLayout, ArenaViews } from './batch.js';
import { CTRL, putRow } from './batch.js';
import type { FilterName } from './filter.js';
import { RowFilter } from './filter.js';

/** How the workers filter; part of the configure message. @internal */
export interface FilterSpec {
  /** Detector width of the corrected rows [px]. */
  width: number;
  /** Window of the ramp. */
  filter: FilterName;
  /** Filtered-row samples per detector pixel (1, 2 or 4). */
  oversample: number;
  /** Angular weight every filtered row is multiplied by. */
  scale: number;
  /** Filter two consecutive projections together (an odd number of slices; an even number pairs up within a projection). */
  pairs: boolean;
}

/**
 * The per-slot flags: `ready[slot]` is `seq + 1` once projection `seq` is filtered into the slot,
 * `units[slot]` the number of projections published together from the slot. @internal
 */
export function flagViews(buffer: ArrayBufferLike, a: ArenaLayout): { ready: Int32Array; units: Int32Array } {
  return {
    ready: new Int32Array(buffer, a.flagsByte, a.ring),
    units: new Int32Array(buffer, a.flagsByte + 4 * a.ring, a.ring),
  };
}

/** Float index of the corrected row of slice `slice` in ring slot `slot`. @internal */
export function inputIndex(a: ArenaLayout, slot: number, slice: number): number {
  return a.inputByte / 4 + (slot * a.slices + slice) * a.inputWidth;
}

let warm = false;

/** A worker's part of the filtering (one per worker and configuration). @internal */
export class FilterStage {
  readonly #a: ArenaLayout;
  readonly #views: ArenaViews;
  readonly #ready: Int32Array;
  readonly #units: Int32Array;
  readonly #filter: RowFilter;
  readonly #scale: number;
  /** Two filtered rows (the pair of one transform) before `putRow` pads them into the ring. */
  readonly #out: Float32Array;
  readonly #rowA: Float32Array;
  readonly #rowB: Float32Array;

  constructor(a: ArenaLayout, views: ArenaViews, buffer: ArrayBufferLike, spec: FilterSpec) {
    this.#a = a;
    this.#views = views;
    ({ ready: this.#ready, units: this.#units } = flagViews(buffer, a));
    this.#filter = new RowFilter(spec.width, { filter: spec.filter, oversample: spec.oversample });
    this.#scale = spec.scale;
    const ow = this.#filter.outputWidth;
    this.#out = new Float32Array(2 * ow);
    this.#rowA = this.#out.subarray(0, ow);
    this.#rowB = this.#out.subarray(ow);
    if (!warm) this.#warmUp();
    warm = true;
  }

  /** Claims the next unit published before `head` and filters it; false if there is none left. */
  claim(head: number): boolean {
    const control = this.#views.control;
    for (;;) {
      const first = Atomics.load(control, CTRL.claim);
      if (first >= head) return false;
      const length = Atomics.load(this.#units, first % this.#a.ring);
      // Another worker may have taken it since the load (then the claim moved on: try the next).
      if (Atomics.compareExchange(control, CTRL.claim, first, first + length) !== first) continue;
      this.#filterUnit(first, length);
      return true;
    }
  }

  /** True once projections `[seq, seq + count)` are filtered into their slots. */
  ready(seq: number, count: number): boolean {
    const ring = this.#a.ring;
    for (let k = 0; k < count; k++) if (Atomics.load(this.#ready, (seq + k) % ring) !== seq + k + 1) return false;
    return true;
  }

  /**
   * Waits (at most `timeoutMs`) for another worker to finish a unit of `[seq, seq + count)`; call
   * when {@link ready} is false and {@link claim} found nothing.
   */
  wait(seq: number, count: number, timeoutMs = 50): void {
    const control = this.#views.control;
    const filtered = Atomics.load(control, CTRL.filtered);
    if (!this.ready(seq, count)) Atomics.wait(control, CTRL.filtered, filtered, timeoutMs);
  }

  /** Filters the `length` projections published from `first`: rows in order, two per transform. */
  #filterUnit(first: number, length: number): void {
    const a = this.#a;
    const n = a.slices;
    const rows = length * n;
    const f32 = this.#views.f32;
    const ow = this.#filter.outputWidth;
    for (let j = 0; j < rows; j += 2) {
      const pair = j + 1 < rows;
      // Row j of the unit is slice j % n of its projection first + ⌊j / n⌋.
      const slotA = (first + Math.floor(j / n)) % a.ring;
      const slotB = (first + Math.floor((j + 1) / n)) % a.ring;
      const inB = pair ? inputIndex(a, slotB, (j + 1) % n) : -1;
      this.#filter.applyPair(f32, inputIndex(a, slotA, j % n), inB, this.#out, 0, ow, this.#scale);
      putRow(a, f32, slotA, j % n, this.#rowA);
      if (pair) putRow(a, f32, slotB, (j + 1) % n, this.#rowB);
    }
    const control = this.#views.control;
    for (let k = 0; k < length; k++) Atomics.store(this.#ready, (first + k) % a.ring, first + k + 1);
    Atomics.add(control, CTRL.filtered, 1);
    Atomics.notify(control, CTRL.filtered);
  }

  /**
   * Once per worker: filters and pads a few dozen pseudo-random rows into scratch (not the shared
   * ring, which the other workers warm up on), so the first scan runs optimised code (see the
   * calling thread's warm-up in `reconstructor.ts`).
   */
  #warmUp(): void {
    const width = this.#a.inputWidth;
    let seed = 1;
    const rows = Float32Array.from({ length: 2 * width }, () => (seed = (seed * 16807) % 2147483647) / 2147483647);
    const scratch = { ...this.#a, rowsByte: 0, slices: 1 };
    const padded = new Float32Array(this.#a.rowFloats);
    const ow = this.#filter.outputWidth;
    for (let i = 0; i < 48; i++) {
      this.#filter.applyPair(rows, 0, width, this.#out, 0, ow, 0.5 + i / 97);
      putRow(scratch, padded, 0, 0, this.#rowA);
    }
  }
}
