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

/**
 * Limits at the `clip` and 100 − `clip` percentiles: a 4096-bin histogram between the minimum and
 * maximum of at most 2¹⁶ evenly strided pixels (NaN and infinities ignored). A flat image gets
 * `[v, v + 1]`.
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
  const B = 4096;
  const hist = new Uint32Array(B);
  const sc = (B - 1) / (mx - mn);
  let n = 0;
  for (let i = 0; i < px.length; i += step) {
    const v = px[i]!;
    if (v >= mn && v <= mx) {
      hist[((v - mn) * sc) | 0]!++;
      n++;
    }
  }
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
export function mapToBytes(px: PixelArray, lo: number, hi: number, out = new Uint8Array(px.length)): Uint8Array {
  const sc = hi > lo ? 255 / (hi - lo) : 0;
  if (px instanceof Uint16Array || px instanceof Uint8Array) {
    // One table lookup per pixel: the table costs at most 65536 steps, once per image.
    const size = px instanceof Uint8Array ? 256 : 65536;
    const table = new Uint8Array(size); // 0 below lo
    const from = Math.max(0, Math.floor(lo));
    const to = sc > 0 ? Math.min(size, Math.ceil(lo + 255 / sc) + 1) : from;
    for (let v = from; v < to; v++) table[v] = index(v, lo, sc);
    if (sc > 0) table.fill(255, Math.max(from, to)); // 255 above hi
    for (let i = 0; i < px.length; i++) out[i] = table[px[i]!]!;
    return out;
  }
  for (let i = 0; i < px.length; i++) out[i] = index(px[i]!, lo, sc);
  return out;
}

function index(v: number, lo: number, sc: number): number {
  const t = (v - lo) * sc + 0.5;
  return t <= 0 ? 0 : t >= 255 ? 255 : t | 0;
}

/** Bins, finds the limits and maps: what one page needs of one frame with its contrast. */
export function displayImage(frame: Frame, maxSize: number, contrast: Contrast): DisplayImage {
  const bin = binFactor(frame.shape, maxSize);
  const { data, shape } = binPixels(frame, bin);
  const [lo, hi] = contrast.auto ? autoLimits(data, contrast.clip) : [contrast.min, contrast.max];
  return { body: mapToBytes(data, lo, hi), shape, bin, lo, hi };
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
