/**
 * Per-row ramp filtering of projections, the "F" of filtered backprojection.
 *
 * Each detector row is zero padded to a power of two (at least twice its width, at least 64),
 * transformed with `fft.js`, multiplied by a real, even frequency response and transformed back.
 * Because the response is real and even, two real rows are packed into one complex transform
 * (`a + i·b`) and come back as the real and imaginary parts, which halves the FFT work.
 *
 * The ramp is built like scikit-image's `iradon` (after Kak & Slaney): the band-limited ramp's
 * spatial kernel is sampled and transformed, which avoids the DC error of sampling `|ω|` directly.
 * @module
 */
import type FFTClass from 'fft.js';
import { createRequire } from 'node:module';
import { ParameterError } from '../core/errors.js';

// `require`, not `import`: node would scan the CommonJS module for its exports at each start.
type FFT = FFTClass;
const FFT = createRequire(import.meta.url)('fft.js') as typeof FFTClass;

/** Window applied to the ramp (Concert/ufo `projection_filter` names). */
export type FilterName = 'ramp' | 'shepp-logan' | 'cosine' | 'hamming' | 'hann';

/** Every filter name, in a stable order. */
export const FILTER_NAMES: readonly FilterName[] = ['ramp', 'shepp-logan', 'cosine', 'hamming', 'hann'];

/** How a row is extended to the padded size: zeros (scikit-image) or its edge values repeated. */
export type PaddingMode = 'zero' | 'edge';

/** Padded FFT size for rows of `width` pixels: the power of two ≥ 2 × width, at least 64. */
export function paddedSize(width: number): number {
  if (!Number.isInteger(width) || width < 1)
    throw new ParameterError(`filter: width must be a positive integer, got ${width}`);
  let size = 64;
  while (size < 2 * width) size *= 2;
  return size;
}

/**
 * Frequency response of a filter of `size` points (FFT order: DC first, then positive, then
 * negative frequencies). The ramp is `|f|` in cycles per pixel (≈ 0 at DC, ½ at Nyquist), so a
 * backprojection summed over `n` angles spanning π is scaled by the angle step π / n.
 * @throws ParameterError for an unknown name or a size that is not a power of two ≥ 4.
 */
export function filterResponse(size: number, name: FilterName = 'ramp'): Float64Array {
  if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0)
    throw new ParameterError(`filter: size must be a power of two ≥ 4, got ${size}`);
  if (!FILTER_NAMES.includes(name))
    throw new ParameterError(`filter: unknown filter '${name}', use one of ${FILTER_NAMES.join(', ')}`);
  // Spatial ramp kernel: h[0] = 1/4, h[k odd] = −1/(πk)², h[k even] = 0 (k taken circularly).
  const kernel = new Float64Array(2 * size);
  kernel[0] = 0.25;
  for (let k = 1; k < size; k += 2) {
    const d = Math.min(k, size - k);
    kernel[2 * k] = -1 / (Math.PI * d) ** 2;
  }
  const fft = new FFT(size);
  const spectrum = new Float64Array(2 * size);
  fft.transform(spectrum, kernel);
  const response = new Float64Array(size);
  for (let k = 0; k < size; k++) response[k] = spectrum[2 * k]!;
  for (let k = 1; k < size; k++) {
    const f = k <= size / 2 ? k / size : (k - size) / size; // numpy fftfreq
    const omega = Math.PI * f;
    response[k]! *= windowAt(name, omega, f);
  }
  return response;
}

/** The window's value at frequency `f` (cycles/pixel, −½…½), `omega` = π f. */
function windowAt(name: FilterName, omega: number, f: number): number {
  switch (name) {
    case 'ramp':
      return 1;
    case 'shepp-logan':
      return omega === 0 ? 1 : Math.sin(omega) / omega;
    case 'cosine':
      return Math.cos(omega);
    case 'hamming':
      return 0.54 + 0.46 * Math.cos(2 * Math.PI * f);
    case 'hann':
      return 0.5 + 0.5 * Math.cos(2 * Math.PI * f);
  }
}

/** Options of a {@link RowFilter}. */
export interface RowFilterOptions {
  /** Window; default `'ramp'` (Ram-Lak). */
  filter?: FilterName;
  /** Padding of each row to the FFT size; default `'zero'`. */
  padding?: PaddingMode;
  /**
   * Output samples per detector pixel (1, 2 or 4; default 1). Above 1 the filtered row is
   * band-limited-interpolated (zero-filled spectrum) so that the backprojection's linear
   * interpolation blurs less: sample `k` of the output lies at detector position `k / oversample`.
   */
  oversample?: number;
}

/**
 * Filters rows of one width; the response and FFT tables are computed once, in the constructor.
 * Not thread-safe (owns scratch buffers): make one per worker.
 * @example
 * ```ts
 * const f = new RowFilter(512, { filter: 'shepp-logan' });
 * f.apply(rows, out, rows.length / 512, Math.PI / numberOfAngles);
 * ```
 */
export class RowFilter {
  /** Row width in pixels. */
  readonly width: number;
  /** FFT size (power of two ≥ 2 × width). */
  readonly size: number;
  /** Frequency response, FFT order. */
  readonly response: Float64Array;
  readonly filter: FilterName;
  readonly padding: PaddingMode;
  /** Output samples per detector pixel. */
  readonly oversample: number;
  /** Length of each output row: `width × oversample`. */
  readonly outputWidth: number;
  #fft: FFT;
  #inverse: FFT;
  #data: Float64Array;
  #spectrum: Float64Array;
  #wide: Float64Array;
  #result: Float64Array;

  constructor(width: number, options: RowFilterOptions = {}) {
    this.width = width;
    this.size = paddedSize(width);
    this.filter = options.filter ?? 'ramp';
    this.padding = options.padding ?? 'zero';
    this.oversample = options.oversample ?? 1;
    if (![1, 2, 4].includes(this.oversample))
      throw new ParameterError(`filter: oversample must be 1, 2 or 4, got ${this.oversample}`);
    this.outputWidth = width * this.oversample;
    this.response = filterResponse(this.size, this.filter);
    this.#fft = new FFT(this.size);
    this.#inverse = this.oversample === 1 ? this.#fft : new FFT(this.size * this.oversample);
    this.#data = new Float64Array(2 * this.size);
    this.#spectrum = new Float64Array(2 * this.size);
    this.#wide = new Float64Array(2 * this.size * this.oversample);
    this.#result = new Float64Array(2 * this.size * this.oversample);
  }

  /**
   * Filters `rows` rows of `input` (row-major, `width` each, starting at `inputOffset`) into
   * `output` (`outputWidth` each, from `outputOffset`), multiplying by `scale` (the angular weight).
   * `input` and `output` may be the same array.
   */
  apply(
    input: ArrayLike<number>,
    output: Float32Array,
    rows = Math.floor(input.length / this.width),
    scale = 1,
    inputOffset = 0,
    outputOffset = 0,
  ): void {
    const { width, outputWidth: ow } = this;
    for (let r = 0; r < rows; r += 2) {
      const a = inputOffset + r * width;
      const oa = outputOffset + r * ow;
      this.applyPair(input, a, r + 1 < rows ? a + width : -1, output, oa, oa + ow, scale);
    }
  }

  /**
   * Filters the row at `a` of `input` into `output` at `outA`, and the row at `b` (packed into the
   * same transform; −1 for none) into `output` at `outB`, multiplied by `scale`. The rows need not
   * be adjacent: {@link apply} is this on consecutive rows (same arithmetic, same results).
   * @internal
   */
  applyPair(
    input: ArrayLike<number>,
    a: number,
    b: number,
    output: Float32Array,
    outA: number,
    outB: number,
    scale: number,
  ): void {
    const { width, size } = this;
    const data = this.#data;
    const spectrum = this.#spectrum;
    const result = this.#result;
    const response = this.response;
    const pair = b >= 0;
    // The padding of `data` and the middle of `wide` are never written: they stay zero.
    for (let i = 0; i < width; i++) {
      data[2 * i] = input[a + i]!;
      data[2 * i + 1] = pair ? input[b + i]! : 0;
    }
    if (this.padding === 'edge') {
      const half = width + ((size - width) >> 1);
      const lastA = input[a + width - 1]!;
      const firstA = input[a]!;
      const lastB = pair ? input[b + width - 1]! : 0;
      const firstB = pair ? input[b]! : 0;
      for (let i = width; i < size; i++) {
        data[2 * i] = i < half ? lastA : firstA;
        data[2 * i + 1] = i < half ? lastB : firstB;
      }
    }
    this.#fft.transform(spectrum, data);
    const os = this.oversample;
    if (os === 1) {
      for (let k = 0; k < size; k++) {
        const h = response[k]! * scale;
        spectrum[2 * k]! *= h;
        spectrum[2 * k + 1]! *= h;
      }
      this.#fft.inverseTransform(result, spectrum);
    } else {
      // Filter and zero-fill the spectrum to os × size points in one pass (the Nyquist bin split
      // between ±), scaled by os. os is a power of two, so (response · scale · os) · X rounds
      // exactly like os · ((response · scale) · X): the result does not depend on the order.
      const wide = this.#wide;
      const half = size / 2;
      const big = size * os;
      for (let k = 0; k < half; k++) {
        const h = response[k]! * scale * os;
        wide[2 * k] = h * spectrum[2 * k]!;
        wide[2 * k + 1] = h * spectrum[2 * k + 1]!;
      }
      for (let k = 1; k < half; k++) {
        const h = response[size - k]! * scale * os;
        wide[2 * (big - k)] = h * spectrum[2 * (size - k)]!;
        wide[2 * (big - k) + 1] = h * spectrum[2 * (size - k) + 1]!;
      }
      const h = response[half]! * scale * os;
      const nyRe = (h * spectrum[2 * half]!) / 2;
      const nyIm = (h * spectrum[2 * half + 1]!) / 2;
      wide[2 * half] = nyRe;
      wide[2 * half + 1] = nyIm;
      wide[2 * (big - half)] = nyRe;
      wide[2 * (big - half) + 1] = nyIm;
      this.#inverse.inverseTransform(result, wide);
    }
    const ow = this.outputWidth;
    for (let i = 0; i < ow; i++) output[outA + i] = result[2 * i]!;
    if (pair) for (let i = 0; i < ow; i++) output[outB + i] = result[2 * i + 1]!;
  }
}
