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
 * `[v, v + 1]`. `range`, if given, is that minimum and maximum already found, of finite pixels
 * (by {@link sampleBlockMeans}, whose at most 2¹⁷ samples are all taken).
 */
export function autoLimits(px: ArrayLike<number>, clip: number, range?: readonly [number, number]): [number, number] {
  const step = Math.max(1, Math.floor(px.length / SAMPLES));
  let mn = Infinity;
  let mx = -Infinity;
  if (range) [mn, mx] = range;
  else
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
  if (range && step === 1) {
    // Every sample lies in [mn, mx]: no test, four at a time.
    const len = px.length;
    let i = 0;
    for (; i + 3 < len; i += 4) {
      lanes[((px[i]! - mn) * sc) | 0]!++;
      lanes[B + (((px[i + 1]! - mn) * sc) | 0)]!++;
      lanes[2 * B + (((px[i + 2]! - mn) * sc) | 0)]!++;
      lanes[3 * B + (((px[i + 3]! - mn) * sc) | 0)]!++;
    }
    for (; i < len; i++) lanes[((px[i]! - mn) * sc) | 0]!++;
    n = len;
  } else
    for (let i = 0, lane = 0; i < px.length; i += step, lane = (lane + B) % (4 * B)) {
      const v = px[i]!;
      if (v >= mn && v <= mx) {
        lanes[lane + (((v - mn) * sc) | 0)]!++;
        n++;
      }
    }
  const hist = HISTOGRAM;
  for (let k = 0; k < B; k++) hist[k] = lanes[k]! + lanes[B + k]! + lanes[2 * B + k]! + lanes[3 * B + k]!;
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
  const limits = (px: Uint8Array | Uint16Array): [number, number] => {
    if (!contrast.auto) return [contrast.min, contrast.max];
    const samples = sampleBlockMeans(px, w, oh, ow, bin);
    return autoLimits(samples.values, contrast.clip, samples.range);
  };
  const simd = src instanceof Uint16Array && useWasm ? wasmDisplay() : undefined;
  if (simd?.takes(w, h, bin)) {
    // The kernel's copy of the frame is in the cache: the samples are read from it.
    const [lo, hi] = limits(simd.load(src as Uint16Array, w, h));
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

/** Samples of block means and their range, from {@link sampleBlockMeans}. */
export interface BlockSamples {
  /** The samples (a view of a buffer reused by the next call). */
  values: Float32Array;
  /** Their minimum and maximum. */
  range: [number, number];
}

/** The buffer of {@link sampleBlockMeans}, reused by every image. */
let sampleBuffer = new Float32Array(0);

/**
 * The float32 block means at the indices {@link autoLimits} samples of the binned image (every
 * `max(1, floor(n / 2¹⁶))`-th of its `n` pixels): it then takes every one of these, and their
 * minimum and maximum, found on the way, spare it a pass.
 */
export function sampleBlockMeans(
  src: Uint8Array | Uint16Array,
  w: number,
  oh: number,
  ow: number,
  bin: number,
): BlockSamples {
  const n = oh * ow;
  const step = Math.max(1, Math.floor(n / SAMPLES));
  const count = Math.ceil(n / step);
  if (sampleBuffer.length < count) sampleBuffer = new Float32Array(count);
  const out = sampleBuffer.subarray(0, count);
  const norm = 1 / (bin * bin);
  let mn = Infinity;
  let mx = -Infinity;
  if (bin === 2 && ow % step === 0 && src instanceof Uint16Array && w % 2 === 0 && src.byteOffset % 4 === 0) {
    // As below, with each block row's two pixels read as one 32-bit word (blocks start at even pixels).
    const words = new Uint32Array(src.buffer, src.byteOffset, src.length >> 1);
    const half = w >> 1;
    let low = Infinity;
    let high = -Infinity;
    for (let oy = 0, k = 0; oy < oh; oy++)
      for (let at = oy * w, end = at + ow, below = at + half; at < end; at += step, below += step) {
        const a = words[at]!;
        const b = words[below]!;
        const sum = (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16);
        out[k++] = sum * norm;
        if (sum < low) low = sum;
        if (sum > high) high = sum;
      }
    // Rounding to float32 keeps the order: the extreme sums give the extreme samples.
    return { values: out, range: [Math.fround(low * norm), Math.fround(high * norm)] };
  }
  if (bin === 2 && ow % step === 0) {
    // Every row's samples start at its first block: one strided pass per row, no index arithmetic.
    const jump = 2 * step;
    for (let oy = 0, k = 0; oy < oh; oy++)
      for (let at = 2 * oy * w, end = at + 2 * ow, below = at + w; at < end; at += jump, below += jump) {
        const v = Math.fround((src[at]! + src[at + 1]! + src[below]! + src[below + 1]!) * norm);
        out[k++] = v;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
    return { values: out, range: [mn, mx] };
  }
  let oy = 0;
  let ox = 0;
  for (let k = 0; k < count; k++) {
    const at = oy * bin * w + ox * bin;
    let sum = 0;
    if (bin === 1) sum = src[at]!;
    else if (bin === 2) sum = src[at]! + src[at + 1]! + src[at + w]! + src[at + w + 1]!;
    else for (let dy = 0, row = at; dy < bin; dy++, row += w) for (let dx = 0; dx < bin; dx++) sum += src[row + dx]!;
    const v = Math.fround(sum * norm);
    out[k] = v;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
    ox += step;
    while (ox >= ow) {
      ox -= ow;
      oy++;
    }
  }
  return { values: out, range: [mn, mx] };
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
