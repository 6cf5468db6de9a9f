/**
 * The single-threaded backprojector: same interface as {@link ParallelBackprojector}, running the
 * JavaScript kernel on the calling thread. Used where workers are unwanted and as the reference
 * the parallel result is checked against.
 * @module
 */
import { ParameterError } from '../core/errors.js';
import { accumulatePadded } from './backproject.js';
import type { PaddedLayout, SliceGeometry } from './geometry.js';
import { padRow, paddedLayout } from './geometry.js';

/** What the reconstructor needs from a backprojector (serial or parallel). */
export interface Backprojector {
  /** Current slice geometry. */
  readonly geometry: SliceGeometry;
  /** Sets a new geometry and number of slices; the slices start at zero. */
  configure(geometry: SliceGeometry, slices?: number): Promise<void>;
  /** Adds one filtered (and weighted) row per slice, taken at `angle` [rad]. */
  accumulate(rows: readonly ArrayLike<number>[], angle: number): Promise<void>;
  /** Resolves when everything accumulated so far is in the slices. */
  flush(): Promise<void>;
  /** Copies of the slices (after {@link Backprojector.flush}). */
  slices(): Float32Array[];
  /** Zeroes the slices, keeping the geometry. */
  reset(): Promise<void>;
  /** Releases threads and memory. */
  close(): Promise<void>;
}

/**
 * Backprojects on the calling thread, four projections per pass over the slices (the last
 * 0–3 are added on {@link flush}).
 * @example
 * ```ts
 * const bp = new SerialBackprojector(sliceGeometry({ detectorWidth: 256 }));
 * await bp.accumulate([row], angle);
 * await bp.flush();
 * ```
 */
export class SerialBackprojector implements Backprojector {
  #geometry!: SliceGeometry;
  #layout!: PaddedLayout;
  #slices: Float32Array[] = [];
  #pending!: Float32Array;
  #angles = new Float64Array(4);
  #count = 0;

  /** A backprojector for `slices` slices of geometry `geometry`. */
  constructor(geometry: SliceGeometry, slices = 1) {
    this.#setup(geometry, slices);
  }

  /** Current slice geometry. */
  get geometry(): SliceGeometry {
    return this.#geometry;
  }

  /** Sets a new geometry and number of slices (zeroed). */
  async configure(geometry: SliceGeometry, slices = 1): Promise<void> {
    this.#setup(geometry, slices);
  }

  /** Adds one filtered row per slice at `angle` [rad]; the slices are updated every fourth call. */
  async accumulate(rows: readonly ArrayLike<number>[], angle: number): Promise<void> {
    if (rows.length !== this.#slices.length)
      throw new ParameterError(`backproject: ${rows.length} rows for ${this.#slices.length} slices`);
    const L = this.#layout.length;
    const k = this.#count;
    for (let s = 0; s < rows.length; s++) padRow(rows[s]!, this.#layout, this.#pending, (s * 4 + k) * L);
    this.#angles[k] = angle;
    if (++this.#count === 4) this.#run();
  }

  /** Adds the 0–3 rows still pending. */
  async flush(): Promise<void> {
    this.#run();
  }

  /** Copies of the slices (after {@link flush}). */
  slices(): Float32Array[] {
    return this.#slices.map((s) => s.slice());
  }

  /** Zeroes the slices and drops pending rows. */
  async reset(): Promise<void> {
    this.#count = 0;
    for (const s of this.#slices) s.fill(0);
  }

  /** Nothing to release. */
  async close(): Promise<void> {}

  #setup(geometry: SliceGeometry, slices: number): void {
    this.#geometry = geometry;
    this.#layout = paddedLayout(geometry);
    this.#slices = Array.from({ length: slices }, () => new Float32Array(geometry.width * geometry.height));
    this.#pending = new Float32Array(slices * 4 * this.#layout.length);
    this.#count = 0;
  }

  #run(): void {
    const L = this.#layout.length;
    for (let s = 0; s < this.#slices.length; s++)
      accumulatePadded(
        this.#slices[s]!,
        0,
        this.#pending,
        s * 4 * L,
        this.#angles,
        0,
        this.#count,
        this.#geometry,
        this.#layout,
        0,
        this.#geometry.height,
      );
    this.#count = 0;
  }
}
