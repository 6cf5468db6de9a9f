/**
 * Backprojection on worker threads over shared memory: the calling thread pads each filtered
 * projection into a ring in a `SharedArrayBuffer` (a shared `WebAssembly.Memory` for the SIMD
 * kernel); each worker owns a band of slice rows and backprojects every queued projection into
 * it as soon as it is queued, so slices are complete moments after the last projection.
 * Configured with a filter, it takes corrected rather than filtered rows ({@link
 * ParallelBackprojector.queue}) and the workers filter them (`filter-stage.ts`).
 * @module
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../core/worker.js';
import { ConcertError, ParameterError } from '../core/errors.js';
import { Atomics, waitChange } from './atomics.js';
import type { ArenaLayout, ArenaViews, KernelName } from './batch.js';
import { CTRL, arenaLayout, arenaViews, putRow } from './batch.js';
import type { SliceGeometry } from './geometry.js';
import { paddedLayout } from './geometry.js';
import type { ConfigureMessage } from './backproject-worker.js';
import type { FilterSpec } from './filter-stage.js';
import { flagViews, inputIndex } from './filter-stage.js';
import { GROUP } from './batch.js';
import type { Backprojector } from './serial.js';
import { sharedMemory, wasmSimdSupported } from './wasm-kernel.js';

/** Starts the worker module (see `core/worker.ts` for how it runs under tsx). */
function startWorker(): Worker {
  return startModuleWorker(import.meta.url, 'backproject-worker');
}

/** Options of {@link ParallelBackprojector.create}. */
export interface ParallelBackprojectorOptions {
  geometry: SliceGeometry;
  /** Number of slices (one filtered row per slice per projection). Default 1. */
  slices?: number;
  /** Worker threads; default `min(2, os.availableParallelism())`. */
  workers?: number;
  /** `'wasm'` (SIMD, default where supported) or `'js'`. */
  kernel?: KernelName;
  /** Projections that may be queued ahead of the workers (≥ 8); default 16. A burst
   * leaves at most this many projections to do after the last one arrives (the live lag). */
  ring?: number;
  /** Workers filter corrected rows (see {@link ParallelBackprojector.queue}); ring ≥ 16. @internal */
  filter?: FilterSpec;
}

/**
 * Streams filtered projections into slices on worker threads.
 * @example
 * ```ts
 * const bp = await ParallelBackprojector.create({ geometry: sliceGeometry({ detectorWidth: 512 }) });
 * for (let i = 0; i < n; i++) await bp.accumulate([filteredRow[i]], angle[i]);
 * await bp.flush();
 * const [slice] = bp.slices();
 * await bp.close();
 * ```
 */
export class ParallelBackprojector implements Backprojector {
  #workers: Worker[];
  #kernel: KernelName;
  #ring: number;
  #layout!: ArenaLayout;
  #views!: ArenaViews;
  #head = 0;
  /** Projections written to the ring but not yet published (the first of a pair, see {@link queue}). */
  #pending = 0;
  #units: Int32Array | undefined;
  #pairs = false;
  #closed = false;
  #tail: Promise<void> = Promise.resolve();

  #failure: ConcertError | undefined;
  /** Workers that have exited (they answer no request). */
  #exited = new Set<Worker>();

  private constructor(workers: Worker[], kernel: KernelName, ring: number) {
    this.#workers = workers;
    this.#kernel = kernel;
    this.#ring = ring;
    // A worker that dies makes every later call fail instead of waiting for it forever.
    for (const w of workers) {
      w.on(
        'error',
        (error) =>
          (this.#failure ??= new ConcertError(`backproject: worker failed: ${error.message}`, { cause: error })),
      );
      w.on('exit', (code) => {
        this.#exited.add(w);
        if (!this.#closed) this.#failure ??= new ConcertError(`backproject: worker exited with code ${code}`);
      });
    }
  }

  /**
   * Starts the workers and allocates the shared arena.
   * @throws ParameterError for a bad worker count or an unsupported kernel.
   */
  static async create(options: ParallelBackprojectorOptions): Promise<ParallelBackprojector> {
    const count = options.workers ?? Math.min(2, availableParallelism());
    if (!Number.isInteger(count) || count < 1)
      throw new ParameterError(`backproject: workers must be a positive integer, got ${count}`);
    const kernel = options.kernel ?? (wasmSimdSupported() ? 'wasm' : 'js');
    if (kernel === 'wasm' && !wasmSimdSupported())
      throw new ParameterError('backproject: this runtime has no WebAssembly SIMD, use kernel "js"');
    const workers = Array.from({ length: count }, () => startWorker());
    const ring = options.ring ?? 16;
    if (!Number.isInteger(ring) || ring < GROUP)
      throw new ParameterError(`backproject: ring must be an integer ≥ ${GROUP}, got ${ring}`);
    const bp = new ParallelBackprojector(workers, kernel, ring);
    try {
      await bp.configure(options.geometry, options.slices ?? 1, options.filter);
    } catch (error) {
      await bp.close();
      throw error;
    }
    return bp;
  }

  /** The kernel the workers run. */
  get kernel(): KernelName {
    return this.#kernel;
  }

  /** Number of worker threads. */
  get workers(): number {
    return this.#workers.length;
  }

  /** Current geometry. */
  get geometry(): SliceGeometry {
    return this.#layout.geometry;
  }

  /**
   * Sets a new geometry and slice count, with zeroed slices (waits for queued work first). With
   * `filter` (internal) the workers filter: feed corrected rows with {@link queue}.
   * @throws ParameterError for a filter with a ring of fewer than 16 projections.
   */
  async configure(geometry: SliceGeometry, slices = 1, filter?: FilterSpec): Promise<void> {
    // A pending first of a pair holds a slot: a ring of two groups still leaves a whole one queued.
    if (filter && this.#ring < 2 * GROUP)
      throw new ParameterError(`backproject: filtering on the workers needs a ring ≥ ${2 * GROUP}, got ${this.#ring}`);
    if (this.#layout !== undefined) await this.#stop();
    const layout = arenaLayout(geometry, paddedLayout(geometry), slices, this.#ring, this.#kernel, filter?.width);
    const memory = this.#kernel === 'wasm' ? sharedMemory(layout.bytes) : undefined;
    const buffer = (memory?.buffer ?? new SharedArrayBuffer(layout.bytes)) as SharedArrayBuffer;
    this.#layout = layout;
    this.#views = arenaViews(buffer, layout);
    this.#units = filter && flagViews(buffer, layout).units;
    this.#head = 0;
    this.#pending = 0;
    this.#pairs = filter?.pairs ?? false;
    warmUpPutRow(layout, this.#views.f32);
    const n = this.#workers.length;
    await Promise.all(
      this.#workers.map((worker, index) => {
        const message: ConfigureMessage = {
          type: 'configure',
          buffer,
          memory,
          layout,
          kernel: this.#kernel,
          index,
          workers: n,
          rowFrom: Math.floor((geometry.height * index) / n),
          rowTo: Math.floor((geometry.height * (index + 1)) / n),
          filter,
        };
        return this.#request(worker, message, 'ready');
      }),
    );
  }

  /**
   * Queues one projection: `rows[s]` (detector width, already filtered and weighted) goes into
   * slice `s` at `angle` (radians). Resolves once queued; waits only while the ring is full.
   * Calls may overlap; `rows` are read when the call's turn comes, so keep them unchanged until
   * the promise resolves.
   * @throws ParameterError if the number of rows differs from the number of slices.
   */
  accumulate(rows: readonly ArrayLike<number>[], angle: number): Promise<void> {
    // Calls need not be awaited one by one: each waits for the previous (slots are taken in order).
    const run = this.#tail.then(() => this.#accumulate(rows, angle));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #accumulate(rows: readonly ArrayLike<number>[], angle: number): Promise<void> {
    const a = this.#layout;
    if (this.#closed) throw new ConcertError('backproject: closed');
    if (this.#failure) throw this.#failure;
    if (this.#units) throw new ConcertError('backproject: configured to filter on the workers: queue corrected rows');
    if (rows.length !== a.slices) throw new ParameterError(`backproject: ${rows.length} rows for ${a.slices} slices`);
    const seq = this.#head;
    while (this.#minDone() <= seq - a.ring) {
      this.#wake(); // a worker may be waiting for a full group that the ring cannot hold
      await this.#waitSlowest();
    }
    const slot = seq % a.ring;
    for (let s = 0; s < a.slices; s++) putRow(a, this.#views.f32, slot, s, rows[s]!);
    this.#views.angles[slot] = angle;
    this.#head = seq + 1;
    const control = this.#views.control;
    Atomics.store(control, CTRL.head, seq + 1);
    // Workers take groups of eight: wake them only when a group is complete (flush wakes them too).
    if ((seq + 1) % GROUP === 0) this.#wake();
  }

  /**
   * Queues one projection for the workers to filter and backproject (configured with a filter):
   * `fill` writes its corrected rows (`slices × width`, row-major) into the view it is given, when
   * the call's turn comes and a ring slot is free; `angle` in radians. With `filter.pairs` every
   * other projection waits for the next (or {@link flush}) to be filtered with it. @internal
   */
  queue(fill: (rows: Float32Array) => void, angle: number): Promise<void> {
    const run = this.#tail.then(() => this.#queue(fill, angle));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #queue(fill: (rows: Float32Array) => void, angle: number): Promise<void> {
    const a = this.#layout;
    if (this.#closed) throw new ConcertError('backproject: closed');
    if (this.#failure) throw this.#failure;
    if (!this.#units) throw new ConcertError('backproject: not configured to filter: accumulate filtered rows');
    const seq = this.#head + this.#pending;
    while (this.#minDone() <= seq - a.ring) {
      this.#wake();
      await this.#waitSlowest();
    }
    const slot = seq % a.ring;
    fill(this.#views.f32.subarray(inputIndex(a, slot, 0), inputIndex(a, slot, a.slices)));
    this.#views.angles[slot] = angle;
    if (this.#pairs && this.#pending === 0) this.#pending = 1;
    else this.#publish(this.#pending + 1);
  }

  /** Publishes the projections written since the last publish as one filter unit. */
  #publish(length: number): void {
    const start = this.#head;
    Atomics.store(this.#units!, start % this.#layout.ring, length);
    this.#head = start + length;
    this.#pending = 0;
    Atomics.store(this.#views.control, CTRL.head, this.#head);
    // Workers take groups of eight: wake them when a group is complete (flush wakes them too).
    if (Math.floor(this.#head / GROUP) > Math.floor(start / GROUP)) this.#wake();
  }

  #wake(): void {
    Atomics.add(this.#views.control, CTRL.wake, 1);
    Atomics.notify(this.#views.control, CTRL.wake);
  }

  /** Resolves when every queued projection is in the slices. */
  async flush(): Promise<void> {
    await this.#tail;
    if (this.#pending > 0) this.#publish(this.#pending);
    if (this.#minDone() >= this.#head) return;
    const control = this.#views.control;
    Atomics.store(control, CTRL.flush, this.#head);
    this.#wake();
    while (this.#minDone() < this.#head) await this.#waitSlowest();
  }

  /** Copies of the slices (call after {@link flush}). */
  slices(): Float32Array[] {
    const a = this.#layout;
    const size = a.geometry.width * a.geometry.height;
    return Array.from({ length: a.slices }, (_, s) =>
      this.#views.f32.slice(a.slicesByte / 4 + s * size, a.slicesByte / 4 + (s + 1) * size),
    );
  }

  /** Zeroes the slices (after {@link flush}) to start a new reconstruction with the same geometry. */
  async reset(): Promise<void> {
    await this.flush();
    const a = this.#layout;
    this.#views.f32.fill(0, a.slicesByte / 4, a.bytes / 4);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#layout !== undefined) await this.#stop().catch(() => undefined);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #minDone(): number {
    let min = Infinity;
    for (let i = 0; i < this.#workers.length; i++)
      min = Math.min(min, Atomics.load(this.#views.control, CTRL.done + i));
    return min;
  }

  async #waitSlowest(): Promise<void> {
    if (this.#failure) throw this.#failure;
    const control = this.#views.control;
    let index = 0;
    for (let i = 1; i < this.#workers.length; i++)
      if (Atomics.load(control, CTRL.done + i) < Atomics.load(control, CTRL.done + index)) index = i;
    for (const w of this.#workers) w.ref();
    try {
      await waitChange(control, CTRL.done + index, Atomics.load(control, CTRL.done + index), 50);
    } finally {
      for (const w of this.#workers) w.unref();
    }
  }

  async #stop(): Promise<void> {
    await this.flush();
    const control = this.#views.control;
    const stopped = Promise.all(this.#workers.map((w) => this.#request(w, undefined, 'stopped')));
    Atomics.store(control, CTRL.stop, 1);
    this.#wake();
    await stopped;
  }

  /** Posts `message` (if any) and resolves on the worker's reply of type `reply`. */
  #request(worker: Worker, message: ConfigureMessage | undefined, reply: string): Promise<void> {
    if (this.#exited.has(worker))
      return Promise.reject(this.#failure ?? new ConcertError('backproject: worker exited'));
    worker.ref();
    return new Promise<void>((resolve, reject) => {
      const onMessage = (m: { type: string }): void => {
        if (m.type !== reply) return;
        cleanup();
        resolve();
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(new ConcertError(`backproject: worker failed: ${error.message}`, { cause: error }));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new ConcertError(`backproject: worker exited with code ${code}`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        worker.unref();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      if (message !== undefined) worker.postMessage(message);
    });
  }
}

let putRowWarm = false;

/**
 * Once per process: stores a few dozen pseudo-random rows in ring slot 0 (zeroed again after, the
 * workers warm up on a zero ring), so `putRow` runs optimised code from the first projection on.
 */
function warmUpPutRow(layout: ArenaLayout, f32: Float32Array): void {
  if (putRowWarm) return;
  putRowWarm = true;
  let seed = 1;
  const row = Float32Array.from(
    { length: layout.geometry.detectorWidth },
    () => (seed = (seed * 16807) % 2147483647) / 2147483647,
  );
  for (let i = 0; i < 48; i++) putRow(layout, f32, 0, 0, row);
  f32.fill(0, layout.rowsByte / 4, layout.slicesByte / 4);
}
