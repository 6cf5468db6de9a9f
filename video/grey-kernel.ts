/**
 * The pixel loops of the contrast mapping (see `contrast.ts` for the formula): percentiles and the
 * mapping of pixels to 8-bit grey under a window. No runtime imports, so the mapping thread
 * (`grey-thread.ts`) loads only this and the overlay font.
 * @module
 * @internal
 */
import type { DType, PixelArray } from '../core/index.js';

/** The offset that makes every value of an 8- or 16-bit integer dtype a table index (others: none). */
export const HISTOGRAM_OFFSET: Partial<Record<DType, number>> = { uint8: 0, int8: 128, uint16: 0, int16: 32768 };

/** The typed array of each dtype. */
export const PIXEL_ARRAYS: Record<
  DType,
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => PixelArray
> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** Pixels of one dtype, e.g. a frame's data. */
export interface Pixels {
  data: PixelArray;
  dtype: DType;
}

/** The `[low, high]` percentiles of the pixels of `images` (see `contrast.ts`). */
export function percentilesOf(images: readonly Pixels[], low: number, high: number): [number, number] {
  if (images.length === 0) return [0, 1];
  const dtype = images[0]!.dtype;
  const histogram = HISTOGRAM_OFFSET[dtype];
  if (histogram !== undefined && images.every((f) => f.dtype === dtype)) {
    const bins = new Float64Array(dtype === 'uint8' || dtype === 'int8' ? 256 : 65536);
    let n = 0;
    for (const f of images) {
      const data = f.data;
      for (let i = 0; i < data.length; i++) bins[data[i]! + histogram]++;
      n += data.length;
    }
    if (n === 0) return [0, 1];
    const rank = (p: number) => {
      const target = Math.floor((p / 100) * (n - 1));
      let seen = 0;
      for (let b = 0; b < bins.length; b++) {
        seen += bins[b]!;
        if (seen > target) return b - histogram;
      }
      return bins.length - 1 - histogram;
    };
    return [rank(low), rank(high)];
  }
  const samples: number[] = [];
  for (const f of images) {
    const data = f.data;
    const step = Math.max(1, Math.floor(data.length / (1 << 20)));
    for (let i = 0; i < data.length; i += step) {
      const v = Number(data[i]!);
      if (!Number.isNaN(v)) samples.push(v);
    }
  }
  if (samples.length === 0) return [0, 1];
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => sorted[Math.floor((p / 100) * (sorted.length - 1))]!;
  return [at(low), at(high)];
}

/**
 * The range of the 8-bit values: `'full'` (0 … 255, grey images, PNG/JPEG) or `'video'` (16 … 235,
 * the luma of yuv420p as ffmpeg converts grey to it: `round(16 + g · 219 / 255)`), so that a movie's
 * frames go to ffmpeg as yuv420p it encodes without converting them.
 */
export type GreyRange = 'full' | 'video';

/** Full-range grey value → video-range luma (what ffmpeg's gray → yuv420p conversion gives). */
export const VIDEO_LUMA: Uint8Array = Uint8Array.from({ length: 256 }, (_, g) => Math.round(16 + (g * 219) / 255));

/** Converts full-range grey values to video-range luma, in place (or from `data` into `out`). */
export function toVideoRange(out: Uint8Array, data: Uint8Array = out): void {
  for (let i = 0; i < data.length; i++) out[i] = VIDEO_LUMA[data[i]!]!;
}

/** The lookup table last built (one per mapper or thread: a window rarely changes). */
export interface TableCache {
  key?: string;
  table?: Uint8Array;
}

/**
 * Maps `data` (pixels of `dtype`, or a range of them) to 8-bit grey under `window` into `out`:
 * through a lookup table for 8- and 16-bit integers (about 4× faster), by the formula otherwise;
 * in the video range, the table maps straight to luma (no second pass).
 */
export function mapPixels(
  data: PixelArray,
  dtype: DType,
  window: readonly [number, number],
  out: Uint8Array,
  cache: TableCache = {},
  range: GreyRange = 'full',
): void {
  const offset = HISTOGRAM_OFFSET[dtype];
  const table = lookupTable(dtype, window, cache, range);
  if (offset === undefined || !table) {
    const [min, max] = widen(window);
    mapLinear(data, out, min, max);
    if (range === 'video') toVideoRange(out);
    return;
  }
  if (data instanceof Uint16Array && LITTLE_ENDIAN && out.byteOffset % 4 === 0) lookUint16(data, table, out);
  else for (let i = 0; i < data.length; i++) out[i] = table[data[i]! + offset]!;
}

/**
 * The lookup table of `window` for an 8- or 16-bit integer dtype (index: value + the dtype's
 * `HISTOGRAM_OFFSET`), kept in `cache` while the window stays; undefined for other dtypes.
 */
export function lookupTable(
  dtype: DType,
  window: readonly [number, number],
  cache: TableCache,
  range: GreyRange = 'full',
): Uint8Array | undefined {
  const offset = HISTOGRAM_OFFSET[dtype];
  if (offset === undefined) return undefined;
  const [min, max] = widen(window);
  const key = `${dtype} ${min} ${max} ${range}`;
  if (cache.key !== key) {
    const size = dtype === 'uint8' || dtype === 'int8' ? 256 : 65536;
    const values = new Float64Array(size);
    for (let i = 0; i < size; i++) values[i] = i - offset;
    const table = new Uint8Array(size);
    mapLinear(values, table, min, max);
    if (range === 'video') toVideoRange(table);
    cache.key = key;
    cache.table = table;
  }
  return cache.table!;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `out[i] = table[data[i]]`, four pixels per 32-bit store (about twice as fast as one by one). */
function lookUint16(data: Uint16Array, table: Uint8Array, out: Uint8Array): void {
  const n = data.length;
  const words = new Int32Array(out.buffer, out.byteOffset, n >> 2);
  const m = words.length;
  for (let j = 0, i = 0; j < m; j++, i += 4)
    words[j] =
      table[data[i]!]! | (table[data[i + 1]!]! << 8) | (table[data[i + 2]!]! << 16) | (table[data[i + 3]!]! << 24);
  for (let i = m * 4; i < n; i++) out[i] = table[data[i]!]!;
}

/** A window of zero width widened to `[min, min + 1]`. */
export function widen([min, max]: readonly [number, number]): [number, number] {
  return max > min ? [min, max] : [min, min + 1];
}

/** The formula itself, pixel by pixel (NaN becomes 0). */
export function mapLinear(data: PixelArray | Float64Array, out: Uint8Array, min: number, max: number): void {
  const range = max - min;
  for (let i = 0; i < data.length; i++) {
    const x = ((Number(data[i]!) - min) * 255) / range;
    out[i] = x <= 0 ? 0 : x >= 255 ? 255 : (x + 0.5) | 0;
  }
}
