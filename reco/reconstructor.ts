/**
 * The streaming reconstructor: darks and flats are averaged as they arrive, and every projection
 * is corrected, filtered and backprojected into the requested slices the moment it is added, so
 * the slices are complete moments after the last projection. With workers the calling thread only
 * corrects and copies each projection into shared memory; the workers filter and backproject it.
 * @module
 */
import type { Frame } from '../core/frame.js';
import { ConcertError, ParameterError } from '../core/errors.js';
import type { AxisMetric, AxisSearch } from './axis.js';
import { axisScore, searchAxis } from './axis.js';
import { RunningAverage, correctRows } from './flat-field.js';
import { RowFilter } from './filter.js';
import type { SliceGeometry } from './geometry.js';
import type { KernelName } from './batch.js';
import type { FilterSpec } from './filter-stage.js';
import type { FullParameters, ReconstructionParameters } from './parameters.js';
import { circleMask, mergeParameters, pickRows, regionRows, scaled, sliceGeometryOf } from './parameters.js';
import { ParallelBackprojector } from './parallel.js';
import type { Backprojector } from './serial.js';
import { SerialBackprojector } from './serial.js';

export type { ReconstructionParameters } from './parameters.js';

/** Default for small reconstructions (see {@link ReconstructorOptions.workers}): on the calling thread up to this many slice pixels × projections… */
const SERIAL_WORK = 2 ** 25;
/** …and this many slice pixels per projection (about a millisecond of the calling thread each). */
const SERIAL_PIXELS = 2 ** 19;

/** Options of {@link Reconstructor.create}. */
export interface ReconstructorOptions extends ReconstructionParameters {
  /** Detector width [px]. */
  width: number;
  /** Detector height (rows) [px]. */
  height: number;
  /** Number of projections. */
  number: number;
  /**
   * Worker threads; 0 runs on the calling thread. Default: the calling thread for small
   * reconstructions (at most 2²⁵ slice pixels × projections, and 2¹⁹ slice pixels per projection:
   * starting workers would cost more than the work), else `min(2, os.availableParallelism())`.
   */
  workers?: number;
  /** Kernel (on the workers or the calling thread); default `'wasm'` where supported. */
  kernel?: KernelName;
}

/** Options of {@link Reconstructor.findAxis}. */
export interface FindAxisOptions {
  /** Candidate centers `[from, to, step]` [px]; refined to a tenth of `step` around the best. */
  centers: readonly [number, number, number];
  /** Default `'entropy'`. */
  metric?: AxisMetric;
  /** Detector row to use (must be in the reconstructed region); default the region's first. */
  row?: number;
  /** Refinement levels (each divides the step by 10); default 2. */
  levels?: number;
}

/** What one reconstruction pass feeds: parameters, detector rows, filter and scratch. */
interface Pass {
  params: FullParameters;
  geometry: SliceGeometry;
  rows: number[];
  /** Where each of `rows` is in a cached projection. */
  positions: number[];
  filter: RowFilter;
  /** Corrected rows of up to two projections (an odd row count is filtered two projections at a time). */
  corrected: Float32Array;
  filtered: Float32Array;
  /** Projections corrected but not yet filtered (at most one). */
  queued: number[];
  /** Dark/flat rows of this pass and the counts they were taken at. */
  reference: { darks: number; flats: number; dark: Float32Array | undefined; flat: Float32Array | undefined };
}

/**
 * Streaming filtered backprojection of parallel-beam projections.
 * @example
 * ```ts
 * const reco = await Reconstructor.create({ width: 512, height: 512, number: 512, region: [256, 257, 1] });
 * for (const dark of darks) reco.addDark(dark);
 * for (const flat of flats) reco.addFlat(flat);
 * for (const [i, p] of projections.entries()) await reco.addProjection(p, i);
 * const [slice] = await reco.slices();
 * await reco.close();
 * ```
 */
export class Reconstructor {
  readonly width: number;
  readonly height: number;
  readonly number: number;
  #pass!: Pass;
  #darks: RunningAverage;
  #flats: RunningAverage;
  #backprojector: Backprojector;
  #cache: Float32Array | undefined;
  #cachedRows: number[] = [];
  #have: Uint8Array;
  #count = 0;
  #tail: Promise<void> = Promise.resolve();

  private constructor(options: ReconstructorOptions, backprojector: Backprojector) {
    this.width = options.width;
    this.height = options.height;
    this.number = options.number;
    this.#darks = new RunningAverage(this.width * this.height);
    this.#flats = new RunningAverage(this.width * this.height);
    this.#have = new Uint8Array(this.number);
    this.#backprojector = backprojector;
  }

  /**
   * Validates the options and starts the backprojector (workers unless `workers: 0`).
   * @throws ParameterError for inconsistent sizes, regions or parameters.
   */
  static async create(options: ReconstructorOptions): Promise<Reconstructor> {
    for (const key of ['width', 'height', 'number'] as const)
      if (!Number.isInteger(options[key]) || options[key] < 1)
        throw new ParameterError(`reco: ${key} must be a positive integer, got ${options[key]}`);
    const params = mergeParameters(options, options);
    const geometry = scaled(sliceGeometryOf(options.width, params), params.oversample);
    const rows = regionRows(params.region, options.height);
    const pixels = geometry.width * geometry.height * rows.length;
    const small = pixels <= SERIAL_PIXELS && pixels * options.number <= SERIAL_WORK;
    const workers = options.workers ?? (small ? 0 : undefined);
    const bp: Backprojector =
      workers === 0
        ? new SerialBackprojector(geometry, rows.length, options.kernel)
        : await ParallelBackprojector.create({
            geometry,
            slices: rows.length,
            workers,
            ...(options.kernel ? { kernel: options.kernel } : {}),
            filter: filterSpec(options.width, params, options.number, rows.length),
          });
    const reco = new Reconstructor(options, bp);
    reco.#cachedRows = rows;
    reco.#pass = reco.#makePass(params, rows);
    warmUp(reco.#pass.filter, reco.#pass.params);
    return reco;
  }

  /**
   * The shape (`[height, width]`) and number of the slices a reconstruction with `options`
   * makes, without starting one (dry runs). @throws ParameterError for bad parameters.
   */
  static sliceLayout(options: ReconstructionParameters & { width: number; height: number }): {
    shape: [number, number];
    count: number;
  } {
    const params = mergeParameters(options, options);
    const geometry = sliceGeometryOf(options.width, params);
    return { shape: [geometry.height, geometry.width], count: regionRows(params.region, options.height).length };
  }

  /** Current parameters (defaults filled in). */
  get parameters(): Readonly<ReconstructionParameters> {
    return { ...this.#pass.params };
  }

  /** Detector rows being reconstructed, one slice each. */
  get rows(): readonly number[] {
    return this.#pass.rows;
  }

  /** Geometry of the slices. */
  get geometry(): SliceGeometry {
    return this.#pass.geometry;
  }

  /** Adds a dark frame to the running average. */
  addDark(frame: Frame): void {
    this.#check(frame, 'dark');
    this.#darks.add(frame.data);
  }

  /** Adds a flat frame to the running average. */
  addFlat(frame: Frame): void {
    this.#check(frame, 'flat');
    this.#flats.add(frame.data);
  }

  /**
   * Corrects, filters and backprojects projection `index` (default: the next one) into every
   * slice; caches its region rows for {@link rereconstruct} and {@link findAxis}.
   * @throws ParameterError for a wrong shape, an index outside `[0, number)` or one added before.
   */
  async addProjection(frame: Frame, index = this.#count): Promise<void> {
    this.#check(frame, 'projection');
    if (!Number.isInteger(index) || index < 0 || index >= this.number)
      throw new ParameterError(`reco: projection index ${index} is outside [0, ${this.number})`);
    if (this.#have[index]) throw new ParameterError(`reco: projection ${index} was already added`);
    const w = this.width;
    const cache = (this.#cache ??= new Float32Array(this.number * this.#cachedRows.length * w));
    for (let s = 0; s < this.#cachedRows.length; s++) {
      const src = this.#cachedRows[s]! * w;
      const dst = (index * this.#cachedRows.length + s) * w;
      for (let i = 0; i < w; i++) cache[dst + i] = frame.data[src + i]!;
    }
    this.#have[index] = 1;
    this.#count++;
    const pass = this.#pass;
    await this.#serialize(() => this.#feed(pass, index));
  }

  /** Runs `task` after every task queued before it (callers need not await each projection). */
  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Number of projections added. */
  get count(): number {
    return this.#count;
  }

  /** Waits for queued work and returns copies of the slices (one per region row). */
  slices(): Promise<Float32Array[]> {
    return this.#serialize(() => this.#slices());
  }

  async #slices(): Promise<Float32Array[]> {
    await this.#drain(this.#pass);
    await this.#backprojector.flush();
    const slices = this.#backprojector.slices();
    if (this.#pass.params.circleMask) for (const s of slices) circleMask(s, this.#pass.geometry);
    return slices;
  }

  /**
   * Reconstructs again from the cached projections with changed parameters. A new region must
   * lie within the rows cached (the region at creation).
   * @throws ParameterError if the new region needs rows that were not cached.
   */
  rereconstruct(parameters: ReconstructionParameters = {}): Promise<Float32Array[]> {
    return this.#serialize(() => this.#rereconstruct(parameters));
  }

  async #rereconstruct(parameters: ReconstructionParameters): Promise<Float32Array[]> {
    const params = mergeParameters({ ...this.#pass.params, ...parameters }, { width: this.width });
    const rows = regionRows(params.region, this.height);
    const missing = rows.filter((r) => !this.#cachedRows.includes(r));
    if (missing.length > 0)
      throw new ParameterError(
        `reco: rows ${missing.join(', ')} were not cached; rereconstruct can only use rows of the original region`,
      );
    this.#pass = this.#makePass(params, rows);
    const geometry = scaled(this.#pass.geometry, params.oversample);
    const bp = this.#backprojector;
    if (bp instanceof ParallelBackprojector)
      await bp.configure(geometry, rows.length, filterSpec(this.width, params, this.number, rows.length));
    else await bp.configure(geometry, rows.length);
    for (let i = 0; i < this.number; i++) if (this.#have[i]) await this.#feed(this.#pass, i);
    return this.#slices();
  }

  /**
   * Searches the rotation axis: reconstructs one row at every candidate center of `centers`
   * (then at tenth steps around the best, per refinement level) and keeps the best score.
   * Leaves the reconstructor's own slices and parameters unchanged.
   * @throws ConcertError if no projection was added yet.
   */
  findAxis(options: FindAxisOptions): Promise<AxisSearch> {
    return this.#serialize(() => this.#findAxis(options));
  }

  async #findAxis(options: FindAxisOptions): Promise<AxisSearch> {
    if (this.count === 0) throw new ConcertError('reco: findAxis needs projections; none were added');
    const row = options.row ?? this.#pass.rows[0]!;
    if (!this.#cachedRows.includes(row))
      throw new ParameterError(`reco: findAxis row ${row} is not in the reconstructed region`);
    const bp = this.#backprojector;
    const saved = this.#pass;
    // Filtered rows do not depend on the center: filter once, backproject per candidate.
    const base = this.#makePass(saved.params, [row]);
    const indices = [...this.#have.keys()].filter((i) => this.#have[i]);
    const filtered = indices.map((i) => {
      this.#correct(base, i, base.corrected);
      base.filter.apply(base.corrected, base.filtered, 1, this.#weight(base.params));
      return base.filtered.slice(0, base.filter.outputWidth);
    });
    try {
      return await searchAxis(
        options.centers,
        async (center) => {
          const params = { ...saved.params, centerPositionX: center };
          const g = sliceGeometryOf(this.width, params);
          await bp.configure(scaled(g, params.oversample), 1);
          for (let k = 0; k < indices.length; k++)
            await bp.accumulate([filtered[k]!], this.#angle(params, indices[k]!));
          await bp.flush();
          const slice = bp.slices()[0]!;
          if (params.circleMask) circleMask(slice, g);
          return axisScore(slice, g.width, g.height, options.metric);
        },
        options.levels,
      );
    } finally {
      await this.#rereconstruct(saved.params);
    }
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.#tail;
    await this.#backprojector.close();
  }

  #makePass(params: FullParameters, rows: number[]): Pass {
    const n = 2 * rows.length * this.width;
    const filter = new RowFilter(this.width, { filter: params.filter, oversample: params.oversample });
    const geometry = sliceGeometryOf(this.width, params);
    const reference = { darks: -1, flats: -1, dark: undefined, flat: undefined };
    return {
      params,
      geometry,
      rows,
      positions: rows.map((r) => this.#cachedRows.indexOf(r)),
      filter,
      corrected: new Float32Array(n),
      filtered: new Float32Array(n * params.oversample),
      queued: [],
      reference,
    };
  }

  /**
   * Corrects cached projection `index` and, once two are corrected (or at once for an even number
   * of rows, which pair up by themselves), filters and queues them for backprojection. Filtering
   * packs two rows into one complex FFT, so pairing projections halves the FFT work for one slice.
   * With workers, corrects it straight into their ring; they pair, filter and backproject.
   */
  async #feed(pass: Pass, index: number): Promise<void> {
    const bp = this.#backprojector;
    if (bp instanceof ParallelBackprojector) {
      await bp.queue((out) => this.#correct(pass, index, out), this.#angle(pass.params, index));
      return;
    }
    const size = pass.rows.length * this.width;
    this.#correct(pass, index, pass.corrected.subarray(pass.queued.length * size, (pass.queued.length + 1) * size));
    pass.queued.push(index);
    if (pass.queued.length === 2 || pass.rows.length % 2 === 0) await this.#drain(pass);
  }

  /** Filters and queues the corrected projections of `pass`. */
  async #drain(pass: Pass): Promise<void> {
    const count = pass.queued.length;
    if (count === 0) return;
    const n = pass.rows.length;
    pass.filter.apply(pass.corrected, pass.filtered, count * n, this.#weight(pass.params));
    const ow = pass.filter.outputWidth;
    const queued = pass.queued.splice(0);
    for (let k = 0; k < count; k++) {
      const rows = pass.rows.map((_, s) => pass.filtered.subarray((k * n + s) * ow, (k * n + s + 1) * ow));
      await this.#backprojector.accumulate(rows, this.#angle(pass.params, queued[k]!));
    }
  }

  #weight(p: FullParameters): number {
    return angularWeight(p, this.number);
  }

  #angle(p: FullParameters, index: number): number {
    return p.angleOffset + (index * p.overallAngle) / this.number;
  }

  /** Flat-field corrects the cached rows of projection `index` into `out` (`rows × width`). */
  #correct(pass: Pass, index: number, out: Float32Array): void {
    const w = this.width;
    const p = pass.params;
    const ref = pass.reference;
    if (ref.darks !== this.#darks.count || ref.flats !== this.#flats.count) {
      const pick = (avg: RunningAverage): Float32Array | undefined =>
        avg.count > 0 ? pickRows(p.averageNormalization ? avg.mean : avg.last, pass.rows, w) : undefined;
      pass.reference = {
        darks: this.#darks.count,
        flats: this.#flats.count,
        dark: pick(this.#darks),
        flat: pick(this.#flats),
      };
    }
    const nCached = this.#cachedRows.length;
    const source = this.#cache!.subarray(index * nCached * w, (index + 1) * nCached * w);
    correctRows(source, w, pass.positions, out, pass.reference.dark, pass.reference.flat, {
      flatCorrect: p.doNormalization,
      absorptivity: p.absorptivity,
      fixNanAndInf: p.fixNanAndInf,
    });
  }

  #check(frame: Frame, what: string): void {
    const [h, w] = frame.shape;
    if (h !== this.height || w !== this.width)
      throw new ParameterError(`reco: ${what} frame is ${h} × ${w}, expected ${this.height} × ${this.width}`);
  }
}

/** What the workers need to filter like {@link Reconstructor} on the calling thread. */
function filterSpec(width: number, p: FullParameters, number: number, slices: number): FilterSpec {
  return {
    width,
    filter: p.filter,
    oversample: p.oversample,
    scale: angularWeight(p, number),
    pairs: slices % 2 === 1,
  };
}

/** The weight of each of `number` projections (a 2π scan measures every line twice). */
function angularWeight(p: FullParameters, number: number): number {
  return Math.min(p.overallAngle, Math.PI) / number;
}

let warmed = false;

/**
 * Runs the flat-field correction and the filter a few dozen times once per process, so the first
 * scan runs optimised code. The rows are pseudo-random fractions and the scale is not a whole
 * number: on zeros the JIT would record small-integer feedback and throw the optimised code away at
 * the first real projection.
 */
function warmUp(filter: RowFilter, p: FullParameters): void {
  if (warmed) return;
  warmed = true;
  const rows = new Float32Array(2 * filter.width);
  let seed = 1;
  for (let i = 0; i < rows.length; i++) rows[i] = (seed = (seed * 16807) % 2147483647) / 2147483647;
  const out = new Float32Array(2 * filter.outputWidth);
  const dark = rows.map((v) => v / 8);
  const flat = rows.map((v) => v + 1);
  const options = { flatCorrect: p.doNormalization, absorptivity: p.absorptivity, fixNanAndInf: p.fixNanAndInf };
  for (let i = 0; i < 48; i++) {
    correctRows(rows, filter.width, [0, 1], out, dark, flat, options);
    filter.apply(rows, out, 2, 0.5 + i / 97);
  }
}
