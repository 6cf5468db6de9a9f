/**
 * The single-threaded backprojector: same interface as {@link ParallelBackprojector}, running a
 * kernel on the calling thread. Used for small reconstructions (no worker start-up), where
 * workers are unwanted, and as the reference the parallel result is checked against.
 * @module
 */
import { ParameterError } from '../core/errors.js';
import {
  arenaLayout,
  arenaViews,
  GROUP,
  putRow,
  runBatch,
  type ArenaLayout,
  type ArenaViews,
  type KernelName,
} from './batch.js';
import type { SliceGeometry } from './geometry.js';
import { paddedLayout } from './geometry.js';
import { instantiateKernel, sharedMemory, wasmSimdSupported, type WasmKernel } from './wasm-kernel.js';

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
 * Backprojects on the calling thread with the wasm SIMD kernel where the runtime has it (the
 * JavaScript kernel otherwise), eight projections per pass over the slices (the last 0–7 are
 * added on {@link flush}). No thread start-up: the choice for small reconstructions.
 * @example
 * ```ts
 * const bp = new SerialBackprojector(sliceGeometry({ detectorWidth: 256 }));
 * await bp.accumulate([row], angle);
 * await bp.flush();
 * ```
 */
export class SerialBackprojector implements Backprojector {
  readonly #kernelName: KernelName;
  #layout!: ArenaLayout;
  #views!: ArenaViews;
  #kernel: WasmKernel | undefined;
  #count = 0;

  /** A backprojector for `slices` slices of geometry `geometry` (kernel: `'wasm'` where supported). */
  constructor(geometry: SliceGeometry, slices = 1, kernel: KernelName = wasmSimdSupported() ? 'wasm' : 'js') {
    if (kernel === 'wasm' && !wasmSimdSupported())
      throw new ParameterError('backproject: this runtime has no WebAssembly SIMD, use kernel "js"');
    this.#kernelName = kernel;
    this.#setup(geometry, slices);
  }

  /** Current slice geometry. */
  get geometry(): SliceGeometry {
    return this.#layout.geometry;
  }

  /** The kernel it runs. */
  get kernel(): KernelName {
    return this.#kernelName;
  }

  /** Sets a new geometry and number of slices (zeroed). */
  async configure(geometry: SliceGeometry, slices = 1): Promise<void> {
    this.#setup(geometry, slices);
  }

  /** Adds one filtered row per slice at `angle` [rad]; the slices are updated every eighth call. */
  async accumulate(rows: readonly ArrayLike<number>[], angle: number): Promise<void> {
    const a = this.#layout;
    if (rows.length !== a.slices) throw new ParameterError(`backproject: ${rows.length} rows for ${a.slices} slices`);
    const k = this.#count;
    for (let s = 0; s < rows.length; s++) putRow(a, this.#views.f32, k, s, rows[s]!);
    this.#views.angles[k] = angle;
    if (++this.#count === GROUP) this.#run();
  }

  /** Adds the rows still pending. */
  async flush(): Promise<void> {
    this.#run();
  }

  /** Copies of the slices (after {@link flush}). */
  slices(): Float32Array[] {
    const a = this.#layout;
    const size = a.geometry.width * a.geometry.height;
    return Array.from({ length: a.slices }, (_, s) =>
      this.#views.f32.slice(a.slicesByte / 4 + s * size, a.slicesByte / 4 + (s + 1) * size),
    );
  }

  /** Zeroes the slices and drops pending rows. */
  async reset(): Promise<void> {
    this.#count = 0;
    this.#views.f32.fill(0, this.#layout.slicesByte / 4);
  }

  /** Nothing to release. */
  async close(): Promise<void> {}

  #setup(geometry: SliceGeometry, slices: number): void {
    const layout = arenaLayout(geometry, paddedLayout(geometry), slices, GROUP, this.#kernelName);
    const memory = this.#kernelName === 'wasm' ? sharedMemory(layout.bytes) : undefined;
    this.#layout = layout;
    this.#views = arenaViews(memory?.buffer ?? new ArrayBuffer(layout.bytes), layout);
    this.#kernel = memory && instantiateKernel(memory);
    this.#count = 0;
  }

  #run(): void {
    if (this.#count > 0)
      runBatch(this.#layout, this.#views, this.#kernel, 0, this.#count, 0, this.#layout.geometry.height);
    this.#count = 0;
  }
}
