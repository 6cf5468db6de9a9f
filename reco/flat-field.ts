/**
 * Flat-field correction: running averages of dark and flat frames, then
 * `(projection − dark) / (flat − dark)`, optionally `−log(…)` (absorptivity) and NaN/±Inf fixed.
 * @module
 */
import type { Frame, PixelArray } from '../core/frame.js';
import { ParameterError } from '../core/errors.js';

/**
 * A running mean of frames of one shape, kept as float64 for accuracy and exposed as float32.
 * @example
 * ```ts
 * const darks = new RunningAverage(height * width);
 * for (const frame of darkFrames) darks.add(frame.data);
 * darks.mean; // Float32Array
 * ```
 */
export class RunningAverage {
  /** Number of frames added. */
  count = 0;
  readonly length: number;
  #sum: Float64Array;
  #mean: Float32Array;
  #last: Float32Array;

  constructor(length: number) {
    this.length = length;
    this.#sum = new Float64Array(length);
    this.#mean = new Float32Array(length);
    this.#last = new Float32Array(length);
  }

  /** Adds one frame's pixels (any numeric typed array of `length` values). */
  add(data: ArrayLike<number>): void {
    if (data.length !== this.length)
      throw new ParameterError(`flat field: frame has ${data.length} pixels, expected ${this.length}`);
    const sum = this.#sum;
    const mean = this.#mean;
    const last = this.#last;
    const n = ++this.count;
    for (let i = 0; i < sum.length; i++) {
      const v = data[i]!;
      sum[i]! += v;
      mean[i] = sum[i]! / n;
      last[i] = v;
    }
  }

  /** Mean of the frames added so far (zeros before the first). Live view: do not mutate. */
  get mean(): Float32Array {
    return this.#mean;
  }

  /** The most recently added frame, as float32. */
  get last(): Float32Array {
    return this.#last;
  }

  /** Forgets every frame. */
  reset(): void {
    this.count = 0;
    this.#sum.fill(0);
    this.#mean.fill(0);
    this.#last.fill(0);
  }
}

/** Options of {@link correctRows}. */
export interface CorrectionOptions {
  /** Divide by `(flat − dark)`; without it only the dark is subtracted. Default true. */
  flatCorrect?: boolean;
  /** Apply `−log(·)` to the corrected values (turns transmission into absorption). Default false. */
  absorptivity?: boolean;
  /** Replace NaN and ±Inf by 0. Default false. */
  fixNanAndInf?: boolean;
}

/**
 * Corrects rows `rows[0], rows[1], …` of `frame` (row-major, `width` pixels per row) into
 * consecutive rows of `output`. `dark` and `flat` are laid out like `output` (row `r` belongs to
 * `rows[r]`); pass `undefined` for a dark of zeros or a flat of ones.
 */
export function correctRows(
  frame: PixelArray | Float32Array,
  width: number,
  rows: readonly number[],
  output: Float32Array,
  dark: Float32Array | undefined,
  flat: Float32Array | undefined,
  options: CorrectionOptions = {},
): void {
  const { flatCorrect = true, absorptivity = false, fixNanAndInf = false } = options;
  const useFlat = flatCorrect && flat !== undefined;
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r]! * width;
    const dst = r * width;
    for (let i = 0; i < width; i++) {
      const d = dark === undefined ? 0 : dark[dst + i]!;
      let v = frame[src + i]! - d;
      if (useFlat) v /= flat[dst + i]! - d;
      if (absorptivity) v = -Math.log(v);
      if (fixNanAndInf && !Number.isFinite(v)) v = 0;
      output[dst + i] = v;
    }
  }
}

/**
 * Corrects a whole frame: `(p − dark) / (flat − dark)`, optionally `−log` and NaN/Inf fixed.
 * @throws ParameterError if the shapes differ.
 */
export function flatFieldCorrect(
  frame: Frame,
  dark: Float32Array | undefined,
  flat: Float32Array | undefined,
  options: CorrectionOptions = {},
): Float32Array {
  const [height, width] = frame.shape;
  for (const [name, ref] of [
    ['dark', dark],
    ['flat', flat],
  ] as const)
    if (ref !== undefined && ref.length !== height * width)
      throw new ParameterError(`flat field: ${name} has ${ref.length} pixels, frame has ${height * width}`);
  const out = new Float32Array(height * width);
  correctRows(
    frame.data,
    width,
    Array.from({ length: height }, (_, i) => i),
    out,
    dark,
    flat,
    options,
  );
  return out;
}
