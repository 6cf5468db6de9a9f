/**
 * What the page draws, made on the server thread: the frame binned to at most `maxSize` on its
 * long side (block means), its contrast limits (the page's manual min/max, or the clip and
 * 100 − clip percentiles), and one byte per pixel after the contrast mapping
 * `index = clamp(floor((v − lo) · 255 / (hi − lo) + 0.5), 0, 255)`. The page only looks the bytes
 * up in its colormap: a quarter to an eighth of the data of raw pixels, and no per-pixel
 * arithmetic in the browser.
 * @module
 * @internal
 */
// core/frame.js, not the core barrel: this runs on the server thread, which should not load mathjs.
import type { Frame, PixelArray } from '../../../core/frame.js';
import { displayIndex } from './display-index.js';
import { wasmDisplay } from './display-wasm.js';

/** How a page wants a panel's contrast: automatic from percentiles, or fixed limits. */
export interface Contrast {
  auto: boolean;
  /** Auto: percent clipped at each end (0 ≤ clip < 50). */
  clip: number;
  /** Manual limits (used when `auto` is false). */
  min: number;
  max: number;
}

/** Auto contrast at the 0.5 and 99.5 percentiles. */
export const DEFAULT_CONTRAST: Contrast = { auto: true, clip: 0.5, min: 0, max: 1 };

/** A contrast from a page's message, or undefined if it is not one. */
export function parseContrast(m: {
  auto?: unknown;
  clip?: unknown;
  min?: unknown;
  max?: unknown;
}): Contrast | undefined {
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (typeof m.auto !== 'boolean') return undefined;
  if (m.auto) return finite(m.clip) && m.clip >= 0 && m.clip < 50 ? { ...DEFAULT_CONTRAST, clip: m.clip } : undefined;
  return finite(m.min) && finite(m.max)
    ? { auto: false, clip: DEFAULT_CONTRAST.clip, min: m.min, max: m.max }
    : undefined;
}

/** A key that tells contrasts apart (for caching what was made with them). */
export function contrastKey(c: Contrast): string {
  return c.auto ? `auto ${c.clip}` : `${c.min} ${c.max}`;
}

/** The image as the page gets it. */
export interface DisplayImage {
  /** One byte per pixel, row-major, `shape[0] × shape[1]`. */
  body: Uint8Array;
  /** `[height, width]` after binning. */
  shape: [number, number];
  /** Binning factor (1: every pixel). */
  bin: number;
  /** The contrast limits the bytes were mapped with. */
  lo: number;
  hi: number;
}

/** The binning factor that brings the long side of `shape` to at most `maxSize`. */
export function binFactor(shape: readonly [number, number], maxSize: number): number {
  const long = Math.max(shape[0], shape[1]);
  return long <= maxSize ? 1 : Math.ceil(long / maxSize);
}

/**
 * Means of `bin × bin` blocks as float32 (edge pixels that do not fill a whole block are left out);
 * `bin` 1 returns the pixels as they are.
 */
export function binPixels(frame: Frame, bin: number): { data: PixelArray; shape: [number, number] } {
  const [h, w] = frame.shape;
  if (bin <= 1) return { data: frame.data, shape: [h, w] };
  const oh = Math.floor(h / bin);
  const ow = Math.floor(w / bin);
  const src = frame.data;
  const out = new Float32Array(oh * ow);
  const sums = new Float64Array(ow);
  const norm = 1 / (bin * bin);
  for (let oy = 0; oy < oh; oy++) {
    sums.fill(0);
    for (let dy = 0; dy < bin; dy++) {
      let i = (oy * bin + dy) * w;
      if (bin === 2) for (let ox = 0; ox < ow; ox++, i += 2) sums[ox]! += src[i]! + src[i + 1]!;
      else
        for (let ox = 0; ox < ow; ox++) {
          let s = 0;
          for (let dx = 0; dx < bin; dx++) s += src[i++]!;
          sums[ox]! += s;
        }
    }
    const o = oy * ow;
    for (let ox = 0; ox < ow; ox++) out[o + ox] = sums[ox]! * norm;
  }
  return { data: out, shape: [oh, ow] };
}

/** Pixels sampled for automatic limits: enough for a 0.5 % tail of 300 pixels. */
const SAMPLES = 65536;

/** Bins of the histogram of {@link autoLimits}. */
const BINS = 4096;
/** Four interleaved histograms (consecutive samples count into different ones, so no increment waits for the previous), and their sum; reused by every image. */
const LANES = new Uint32Array(4 * BINS);
const HISTOGRAM = new Uint32Array(BINS);

/**
 * Limits at the `clip` and 100 − `clip` percentiles: a 4096-bin histogram between the minimum and
 * maximum of at most 2¹⁶ evenly strided pixels (NaN and infinities ignored). A flat image gets
 * `[v, v + 1]`. (8- and 16-bit frames take {@link blockSumLimits}: the same limits, from counts.)
 */
export function autoLimits(px: ArrayLike<number>, clip: number): [number, number] {
  const step = Math.max(1, Math.floor(px.length / SAMPLES));
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < px.length; i += step) {
    const v = px[i]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  if (!(mx > mn) || !Number.isFinite(mn) || !Number.isFinite(mx)) {
    const v = Number.isFinite(mn) ? mn : 0;
    return [v, v + 1];
  }
  const B = BINS;
  const lanes = LANES.fill(0);
  const sc = (B - 1) / (mx - mn);
  let n = 0;
  for (let i = 0, lane = 0; i < px.length; i += step, lane = (lane + B) % (4 * B)) {
    const v = px[i]!;
    if (v >= mn && v <= mx) {
      lanes[lane + (((v - mn) * sc) | 0)]!++;
      n++;
    }
  }
  foldLanes(HISTOGRAM);
  return percentileLimits(HISTOGRAM, n, clip, mn, mx, sc);
}

/** `hist` = the sum of the four interleaved histograms in {@link LANES}. */
function foldLanes(hist: Uint32Array): void {
  const B = BINS;
  const lanes = LANES;
  for (let k = 0; k < B; k++) hist[k] = lanes[k]! + lanes[B + k]! + lanes[2 * B + k]! + lanes[3 * B + k]!;
}

/** The limits {@link autoLimits} reads off `hist` ({@link BINS} bins of `n` samples in `[mn, mx]`, `sc` bins per unit). */
function percentileLimits(
  hist: Uint32Array,
  n: number,
  clip: number,
  mn: number,
  mx: number,
  sc: number,
): [number, number] {
  const B = BINS;
  const a = (clip / 100) * n;
  const b = (1 - clip / 100) * n;
  let cum = 0;
  let lo = 0;
  let hi = B - 1;
  let seenLo = false;
  for (let k = 0; k < B; k++) {
    cum += hist[k]!;
    if (!seenLo && cum > a) {
      lo = k;
      seenLo = true;
    }
    if (cum >= b) {
      hi = k;
      break;
    }
  }
  const l = mn + lo / sc;
  const h = Math.min(mx, mn + (hi + 1) / sc);
  return h > l ? [l, h] : [mn, mx];
}

/** Maps pixels to bytes with limits `[lo, hi]` (see the module's formula). */
export function mapToBytes(
  px: PixelArray,
  lo: number,
  hi: number,
  out: Uint8Array = new Uint8Array(px.length),
): Uint8Array {
  const sc = hi > lo ? 255 / (hi - lo) : 0;
  if (px instanceof Uint16Array || px instanceof Uint8Array) {
    // One table lookup per pixel: the table costs at most 65536 steps, once per image.
    const size = px instanceof Uint8Array ? 256 : 65536;
    const table = new Uint8Array(size); // 0 below lo
    const from = Math.max(0, Math.floor(lo));
    const to = sc > 0 ? Math.min(size, Math.ceil(lo + 255 / sc) + 1) : from;
    for (let v = from; v < to; v++) table[v] = displayIndex(v, lo, sc);
    if (sc > 0) table.fill(255, Math.max(from, to)); // 255 above hi
    for (let i = 0; i < px.length; i++) out[i] = table[px[i]!]!;
    return out;
  }
  for (let i = 0; i < px.length; i++) out[i] = displayIndex(px[i]!, lo, sc);
  return out;
}

/**
 * Bins, finds the limits and maps: what one page needs of one frame with its contrast. 8- and
 * 16-bit frames take a fused path (the same bytes as {@link binPixels}, {@link autoLimits} and
 * {@link mapToBytes} in turn, in one pass over the pixels; see {@link integerDisplayImage}).
 * `alloc` gives the output bytes (a caller may pass buffers it reuses).
 */
export function displayImage(
  frame: Frame,
  maxSize: number,
  contrast: Contrast,
  alloc: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): DisplayImage {
  const bin = binFactor(frame.shape, maxSize);
  const fused = integerDisplayImage(frame, bin, contrast, alloc);
  if (fused) return fused;
  const { data, shape } = binPixels(frame, bin);
  const [lo, hi] = contrast.auto ? autoLimits(data, contrast.clip) : [contrast.min, contrast.max];
  return { body: mapToBytes(data, lo, hi, alloc(data.length)), shape, bin, lo, hi };
}

let useWasm = true;

/**
 * Whether uint16 frames binned 1 × 1 or 2 × 2 take the WebAssembly SIMD kernel (display-wasm.ts,
 * the same bytes; on by default where it checked out): off for tests and benchmarks that compare
 * it with the JavaScript. Answers the kernel's name.
 */
export function displayKernel(wasm?: boolean): 'wasm-simd' | 'javascript' {
  if (wasm !== undefined) useWasm = wasm;
  return useWasm && wasmDisplay() ? 'wasm-simd' : 'javascript';
}

/** True where a Uint32Array stores its lowest byte first (writing four display bytes at once). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The display image of a uint8 or uint16 frame without the float32 binned copy: the limits come
 * from the same strided samples of the block means {@link autoLimits} would take, and the bytes
 * from one table indexed by the block *sum* (`bin² × 2^bits` entries, built only between the
 * limits; the table value is the module's formula applied to the float32 block mean, so the bytes
 * equal the general path's). Four bytes are written per store. Undefined for other dtypes, or
 * when the table would be larger than the frame.
 */
export function integerDisplayImage(
  frame: Frame,
  bin: number,
  contrast: Contrast,
  alloc: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): DisplayImage | undefined {
  const src = frame.data;
  if (!(src instanceof Uint16Array || src instanceof Uint8Array)) return undefined;
  const [h, w] = frame.shape;
  const b2 = bin * bin;
  const oh = bin > 1 ? Math.floor(h / bin) : h;
  const ow = bin > 1 ? Math.floor(w / bin) : w;
  const limits = (px: Uint8Array | Uint16Array, sampled?: BlockSums): [number, number] => {
    if (!contrast.auto) return [contrast.min, contrast.max];
    return blockSumLimits(px, w, oh, ow, bin, contrast.clip, sampled);
  };
  const simd = src instanceof Uint16Array && useWasm ? wasmDisplay() : undefined;
  if (simd?.takes(w, h, bin)) {
    // The kernel's copy of the frame is in the cache: the samples are read from it, 2 × 2 blocks
    // by the kernel too (walkRows2's samples, a third of its time).
    const copy = simd.load(src as Uint16Array, w, h);
    const step = sampleStep(oh * ow);
    const sampled = contrast.auto && bin === 2 && ow % step === 0 ? simd.sample2(w, h, oh, ow, step) : undefined;
    const [lo, hi] = limits(copy, sampled);
    return { body: simd.mapLoaded(w, h, bin, lo, hi, alloc(oh * ow)), shape: [oh, ow], bin, lo, hi };
  }
  const size = b2 * (src instanceof Uint8Array ? 256 : 65536);
  if (bin > 1 && size > src.length) return undefined;
  const norm = 1 / b2;
  const [lo, hi] = limits(src);
  const sc = hi > lo ? 255 / (hi - lo) : 0;
  const table = lookupTable(size);
  // Block means a whole unit outside [lo, hi] map to 0 or 255 whatever float32 rounding does.
  const from = Math.min(size, Math.max(0, Math.floor(lo * b2) - b2));
  const to = sc > 0 ? Math.min(size, Math.max(from, Math.ceil(hi * b2) + b2 + 1)) : from;
  table.fill(0, 0, from); // 0 below lo
  for (let s = from; s < to; s++) table[s] = displayIndex(Math.fround(s * norm), lo, sc);
  table.fill(sc > 0 ? 255 : 0, to); // 255 above hi
  const out = alloc(oh * ow);
  if (bin === 1) lookUp(src, table, out);
  else if (bin === 2) mapBlocks2(src, w, oh, ow, table, out);
  else mapBlocks(src, w, oh, ow, bin, table, out);
  return { body: out, shape: [oh, ow], bin, lo, hi };
}

/** One table per size, reused by every image (refilled each time; display images are made one at a time). */
const tables = new Map<number, Uint8Array>();
function lookupTable(size: number): Uint8Array {
  let table = tables.get(size);
  if (!table) {
    if (tables.size >= 4) tables.clear();
    tables.set(size, (table = new Uint8Array(size)));
  }
  return table;
}

/** Block sums of {@link sampleBlockSums} (a view of a buffer reused by the next call) and their range. */
export interface BlockSums {
  sums: Uint32Array;
  low: number;
  high: number;
}

/** The buffers of {@link sampleBlockSums} and {@link blockSumLimits}, reused by every image. */
let sumBuffer = new Uint32Array(0);
let sumCounts = new Uint32Array(0);

/**
 * The range of the sums the last walk below wrote. (Each hot loop is a small function of its own
 * that returns nothing: V8 then optimizes it whole. Loops inside one big function were compiled
 * on stack and thrown away again at every call, at several times the cost.)
 */
let walkLow = 0;
let walkHigh = 0;

/** Pixels `0, step, 2·step, …`: the samples of an image binned 1 × 1. */
function walkPixels(src: Uint8Array | Uint16Array, step: number, sums: Uint32Array): void {
  let low = 0x7fffffff;
  let high = -1;
  for (let k = 0, at = 0; k < sums.length; k++, at += step) {
    const v = src[at]!;
    sums[k] = v;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  walkLow = low;
  walkHigh = high;
}

/** 2 × 2 blocks every `step` blocks when each block row starts with a sample (`ow % step === 0`). */
function walkRows2(
  src: Uint8Array | Uint16Array,
  w: number,
  oh: number,
  ow: number,
  step: number,
  sums: Uint32Array,
): void {
  let low = 0x7fffffff;
  let high = -1;
  const jump = 2 * step;
  for (let oy = 0, k = 0; oy < oh; oy++)
    for (let at = 2 * oy * w, end = at + 2 * ow, below = at + w; at < end; at += jump, below += jump) {
      const v = src[at]! + src[at + 1]! + src[below]! + src[below + 1]!;
      sums[k++] = v;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  walkLow = low;
  walkHigh = high;
}

/** `bin` × `bin` blocks every `step` blocks of the `ow` blocks per row. */
function walkBlocks(
  src: Uint8Array | Uint16Array,
  w: number,
  ow: number,
  bin: number,
  step: number,
  sums: Uint32Array,
): void {
  let low = 0x7fffffff;
  let high = -1;
  let oy = 0;
  let ox = 0;
  for (let k = 0; k < sums.length; k++) {
    const at = oy * bin * w + ox * bin;
    let sum = 0;
    for (let dy = 0, row = at; dy < bin; dy++, row += w) for (let dx = 0; dx < bin; dx++) sum += src[row + dx]!;
    sums[k] = sum;
    if (sum < low) low = sum;
    if (sum > high) high = sum;
    ox += step;
    while (ox >= ow) {
      ox -= ow;
      oy++;
    }
  }
  walkLow = low;
  walkHigh = high;
}

/**
 * The integer sums of the `bin` × `bin` blocks whose means {@link autoLimits} samples in the
 * binned image (every `max(1, floor(n / 2¹⁶))`-th of its `n` blocks), with their minimum and
 * maximum, found on the way: at most 2¹⁷ samples, all of which it then takes. A block's sum must
 * stay below 2³¹ (`bin`² · the largest pixel value: integerDisplayImage's table is smaller).
 */
function sampleBlockSums(src: Uint8Array | Uint16Array, w: number, oh: number, ow: number, bin: number): BlockSums {
  const n = oh * ow;
  const step = sampleStep(n);
  const count = Math.ceil(n / step);
  if (sumBuffer.length < count) sumBuffer = new Uint32Array(count);
  const sums = sumBuffer.subarray(0, count);
  // (bin 1: the binned image is the frame, and block k is pixel k · step)
  if (bin === 1) walkPixels(src, step, sums);
  else if (bin === 2 && ow % step === 0) walkRows2(src, w, oh, ow, step, sums);
  else walkBlocks(src, w, ow, bin, step, sums);
  return { sums, low: walkLow, high: walkHigh };
}

/** Every how many of `n` blocks {@link sampleBlockSums} takes one. */
const sampleStep = (n: number) => Math.max(1, Math.floor(n / SAMPLES));

/** Adds each sum of `sums` into `hist` with the bin {@link autoLimits} gives its float32 mean. */
function histogramOfSums(sums: Uint32Array, norm: number, mn: number, sc: number, hist: Uint32Array): void {
  const B = BINS;
  const lanes = LANES.fill(0);
  let k = 0;
  for (; k + 3 < sums.length; k += 4) {
    lanes[((Math.fround(sums[k]! * norm) - mn) * sc) | 0]!++;
    lanes[B + (((Math.fround(sums[k + 1]! * norm) - mn) * sc) | 0)]!++;
    lanes[2 * B + (((Math.fround(sums[k + 2]! * norm) - mn) * sc) | 0)]!++;
    lanes[3 * B + (((Math.fround(sums[k + 3]! * norm) - mn) * sc) | 0)]!++;
  }
  for (; k < sums.length; k++) lanes[((Math.fround(sums[k]! * norm) - mn) * sc) | 0]!++;
  foldLanes(hist);
}

/** As {@link histogramOfSums}, counting the sums by value first (`low` … `low + counts.length − 1`). */
function histogramOfCounts(
  sums: Uint32Array,
  low: number,
  counts: Uint32Array,
  norm: number,
  mn: number,
  sc: number,
  hist: Uint32Array,
): void {
  for (let k = 0; k < sums.length; k++) counts[sums[k]! - low]!++;
  hist.fill(0);
  for (let s = 0; s < counts.length; s++) {
    const c = counts[s]!;
    if (c === 0) continue;
    hist[((Math.fround((low + s) * norm) - mn) * sc) | 0]! += c;
    counts[s] = 0;
  }
}

/**
 * {@link autoLimits} of the block means of an 8- or 16-bit frame binned `bin` × `bin` (source rows
 * of `w` pixels, `oh` × `ow` blocks): the same samples ({@link sampleBlockSums}) and the same
 * limits, from integer sums. Sums are counted by value when they span at most twice as many
 * values as there are samples; each distinct sum then goes into the histogram once, with its
 * count, by the float32 mean {@link autoLimits} would have binned. `sampled`: those samples,
 * taken already (by the WebAssembly kernel).
 */
export function blockSumLimits(
  src: Uint8Array | Uint16Array,
  w: number,
  oh: number,
  ow: number,
  bin: number,
  clip: number,
  sampled: BlockSums = sampleBlockSums(src, w, oh, ow, bin),
): [number, number] {
  const { sums, low, high } = sampled;
  const norm = 1 / (bin * bin);
  const mn = Math.fround(low * norm);
  const mx = Math.fround(high * norm);
  if (!(mx > mn)) return [mn, mn + 1];
  const sc = (BINS - 1) / (mx - mn);
  const span = high - low + 1;
  if (span <= 2 * sums.length) {
    if (sumCounts.length < span) sumCounts = new Uint32Array(Math.max(span, 2 * sumCounts.length));
    histogramOfCounts(sums, low, sumCounts.subarray(0, span), norm, mn, sc, HISTOGRAM);
  } else histogramOfSums(sums, norm, mn, sc, HISTOGRAM);
  return percentileLimits(HISTOGRAM, sums.length, clip, mn, mx, sc);
}

/** `out[i] = table[px[i]]`, four bytes per store where the platform allows. */
function lookUp(px: Uint8Array | Uint16Array, table: Uint8Array, out: Uint8Array): void {
  let i = 0;
  if (LITTLE_ENDIAN && out.byteOffset % 4 === 0) {
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
    for (let k = 0; k < words.length; k++, i += 4)
      words[k] = table[px[i]!]! | (table[px[i + 1]!]! << 8) | (table[px[i + 2]!]! << 16) | (table[px[i + 3]!]! << 24);
  }
  for (; i < px.length; i++) out[i] = table[px[i]!]!;
}

/** 2 × 2 blocks: `out = table[sum of the block]`, four output bytes per store where the platform allows. */
function mapBlocks2(
  src: Uint8Array | Uint16Array,
  w: number,
  oh: number,
  ow: number,
  table: Uint8Array,
  out: Uint8Array,
): void {
  const words =
    LITTLE_ENDIAN && ow % 4 === 0 ? new Uint32Array(out.buffer, out.byteOffset, out.length >> 2) : undefined;
  for (let oy = 0; oy < oh; oy++) {
    let i = 2 * oy * w;
    let j = i + w;
    if (words) {
      for (let k = (oy * ow) >> 2, end = k + (ow >> 2); k < end; k++, i += 8, j += 8)
        words[k] =
          table[src[i]! + src[i + 1]! + src[j]! + src[j + 1]!]! |
          (table[src[i + 2]! + src[i + 3]! + src[j + 2]! + src[j + 3]!]! << 8) |
          (table[src[i + 4]! + src[i + 5]! + src[j + 4]! + src[j + 5]!]! << 16) |
          (table[src[i + 6]! + src[i + 7]! + src[j + 6]! + src[j + 7]!]! << 24);
    } else
      for (let o = oy * ow, end = o + ow; o < end; o++, i += 2, j += 2)
        out[o] = table[src[i]! + src[i + 1]! + src[j]! + src[j + 1]!]!;
  }
}

/** Blocks of any size: row sums of each block row, then one table lookup per block. */
function mapBlocks(
  src: Uint8Array | Uint16Array,
  w: number,
  oh: number,
  ow: number,
  bin: number,
  table: Uint8Array,
  out: Uint8Array,
): void {
  const sums = new Float64Array(ow);
  for (let oy = 0; oy < oh; oy++) {
    sums.fill(0);
    for (let dy = 0; dy < bin; dy++) {
      let i = (oy * bin + dy) * w;
      for (let ox = 0; ox < ow; ox++) {
        let s = 0;
        for (let dx = 0; dx < bin; dx++) s += src[i++]!;
        sums[ox]! += s;
      }
    }
    const o = oy * ow;
    for (let ox = 0; ox < ow; ox++) out[o + ox] = table[sums[ox]!]!;
  }
}

/** The frame's value at display pixel `(x, y)`: the block mean when binned. */
export function valueAt(frame: Frame, bin: number, x: number, y: number): number | undefined {
  const [h, w] = frame.shape;
  if (!(x >= 0 && y >= 0 && (x + 1) * bin <= w && (y + 1) * bin <= h)) return undefined;
  let sum = 0;
  for (let dy = 0; dy < bin; dy++)
    for (let dx = 0; dx < bin; dx++) sum += frame.data[(y * bin + dy) * w + x * bin + dx]!;
  return sum / (bin * bin);
}

/**
 * Runs the display path on synthetic frames until the JIT has optimised it (a few tens of ms of
 * the server thread, once, when it starts): the first frames a page gets would otherwise run
 * interpreted code for a large part of a second, competing with the producer for the CPU.
 */
export function warmUpDisplay(): void {
  const side = 256;
  const frames: Frame[] = [
    { data: new Uint16Array(side * side).map((_, i) => i), dtype: 'uint16' },
    { data: new Uint8Array(side * side).map((_, i) => i), dtype: 'uint8' },
    { data: new Float32Array(side * side).map((_, i) => i / 7), dtype: 'float32' },
  ].map(
    ({ data, dtype }) => ({ data, dtype, shape: [side, side], metadata: { frameNumber: 0, timestamp: 0 } }) as Frame,
  );
  for (let round = 0; round < 12; round++)
    for (const f of frames) {
      displayImage(f, side, DEFAULT_CONTRAST);
      displayImage(f, side / 2, { auto: false, clip: 0, min: 10, max: 1000 });
    }
}
