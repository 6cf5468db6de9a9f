/**
 * Contrast: how frames of any dtype become the 8-bit grey images a movie or a PNG/JPEG holds.
 *
 * For a window `[min, max]`, a pixel `v` becomes `round(255 · clamp((v − min) / (max − min), 0, 1))`
 * (NaN becomes 0; a window of zero width is widened to `[min, min + 1]`). The window is
 * - fixed: `{ min, max }`;
 * - `'auto'` (the default) or `{ low, high, frames }`: the `low`/`high` percentiles (default 0.5
 *   and 99.5) of the first `frames` frames (default 10), then kept for the whole movie;
 * - `'frame'` or `{ perFrame: true, low, high }`: the percentiles of each frame itself.
 *
 * uint8 frames are copied unchanged unless a contrast is given. Percentiles are exact for 8- and
 * 16-bit integers (a histogram of every pixel) and taken from up to 2²⁰ evenly spaced pixels per
 * frame for other dtypes, by nearest rank: the value at index `floor(p / 100 · (n − 1))` of the
 * sorted values.
 * @module
 */
import { OptionError, type Frame, type PixelArray } from '../core/index.js';
import { mapPixels, percentilesOf, toVideoRange, widen, type GreyRange, type TableCache } from './grey-kernel.js';

/** A contrast as users give it (see the module documentation). */
export type ContrastSpec =
  | 'auto'
  | 'frame'
  | { min: number; max: number }
  | { low?: number; high?: number; frames?: number; perFrame?: boolean };

/** A contrast, checked and with its defaults filled in. */
export type Contrast =
  | { mode: 'fixed'; min: number; max: number }
  | { mode: 'percentiles'; low: number; high: number; frames: number }
  | { mode: 'frame'; low: number; high: number };

/** The default contrast: percentiles 0.5 and 99.5 of the first 10 frames. */
export const AUTO_CONTRAST: Extract<Contrast, { mode: 'percentiles' }> = {
  mode: 'percentiles',
  low: 0.5,
  high: 99.5,
  frames: 10,
};

/**
 * Checks a contrast spec and fills in its defaults.
 * @throws OptionError naming what is wrong and what is allowed.
 */
export function parseContrast(spec: ContrastSpec | undefined, owner = 'contrast'): Contrast {
  const allowed = `'auto', 'frame', { min, max } or { low, high, frames, perFrame }`;
  if (spec === undefined || spec === 'auto') return AUTO_CONTRAST;
  if (spec === 'frame') return { mode: 'frame', low: AUTO_CONTRAST.low, high: AUTO_CONTRAST.high };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new OptionError(`${owner} must be ${allowed}, got ${JSON.stringify(spec)}`);
  const keys = Object.keys(spec);
  if ('min' in spec || 'max' in spec) {
    const { min, max } = spec as { min: unknown; max: unknown };
    const extra = keys.filter((k) => k !== 'min' && k !== 'max');
    if (extra.length) throw new OptionError(`${owner}: unknown key '${extra[0]}' beside min/max (allowed: min, max)`);
    if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max))
      throw new OptionError(`${owner}: min and max must be finite numbers, got min ${String(min)}, max ${String(max)}`);
    if (!(max > min)) throw new OptionError(`${owner}: max must be greater than min, got [${min}, ${max}]`);
    return { mode: 'fixed', min, max };
  }
  for (const key of keys)
    if (!['low', 'high', 'frames', 'perFrame'].includes(key))
      throw new OptionError(`${owner}: unknown key '${key}' (allowed: min, max, low, high, frames, perFrame)`);
  const { low = AUTO_CONTRAST.low, high = AUTO_CONTRAST.high, frames = AUTO_CONTRAST.frames } = spec as never;
  const perFrame = (spec as { perFrame?: unknown }).perFrame ?? false;
  const percent = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 100;
  if (!percent(low) || !percent(high) || !(high > low))
    throw new OptionError(`${owner}: low and high must be percentiles with 0 ≤ low < high ≤ 100, got ${low}, ${high}`);
  if (!Number.isInteger(frames) || frames < 1)
    throw new OptionError(`${owner}: frames must be a whole number ≥ 1, got ${String(frames)}`);
  if (typeof perFrame !== 'boolean') throw new OptionError(`${owner}: perFrame must be true or false`);
  return perFrame ? { mode: 'frame', low, high } : { mode: 'percentiles', low, high, frames };
}

/**
 * Parses the command-line form: `auto`, `frame` or `MIN,MAX`.
 * @throws OptionError for anything else.
 */
export function parseContrastArgument(text: string): Contrast {
  if (text === 'auto' || text === 'frame') return parseContrast(text);
  const m = /^\s*(-?[\d.e+-]+)\s*,\s*(-?[\d.e+-]+)\s*$/i.exec(text);
  if (!m) throw new OptionError(`--contrast must be auto, frame or MIN,MAX (e.g. 100,4000), got '${text}'`);
  return parseContrast({ min: Number(m[1]), max: Number(m[2]) }, '--contrast');
}

/** The `[low, high]` percentiles of the pixels of `frames` (see the module documentation). */
export function percentiles(frames: readonly Frame[], low: number, high: number): [number, number] {
  return percentilesOf(frames, low, high);
}

/**
 * How one frame becomes grey: copied unchanged (uint8 without a contrast), mapped under a
 * window, or under the percentiles of the frame itself.
 */
export type GreyPlan =
  | { kind: 'copy' }
  | { kind: 'window'; window: readonly [number, number] }
  | { kind: 'frame'; low: number; high: number };

/**
 * Maps frames to 8-bit grey with one contrast. For `'percentiles'`, call {@link calibrate} with
 * the first frames before mapping (the movie encoder does).
 */
export class ContrastMapper {
  readonly contrast: Contrast | undefined;
  /** The range of the images made (default `'full'`; `'video'`: yuv420p luma, see `GreyRange`). */
  readonly range: GreyRange;
  #window: [number, number] | undefined;
  readonly #table: TableCache = {};

  /** @param contrast undefined: uint8 frames unchanged, others `'auto'`. */
  constructor(contrast?: Contrast, range: GreyRange = 'full') {
    this.contrast = contrast;
    this.range = range;
    if (contrast?.mode === 'fixed') this.#window = [contrast.min, contrast.max];
  }

  /** How many frames {@link calibrate} wants before the first {@link map} (0: none). */
  get calibrationFrames(): number {
    const c = this.contrast ?? AUTO_CONTRAST;
    return c.mode === 'percentiles' && !this.#window ? c.frames : 0;
  }

  /** The window in use (`undefined` before calibration, or per frame). */
  get window(): readonly [number, number] | undefined {
    return this.#window;
  }

  /** Sets a percentile window from `frames` (no effect for fixed or per-frame contrast). */
  calibrate(frames: readonly Frame[]): void {
    const c = this.contrast ?? AUTO_CONTRAST;
    if (c.mode !== 'percentiles' || this.#window) return;
    const sample = frames.filter((f) => f.dtype !== 'uint8' || this.contrast);
    this.#window = percentiles(sample.length ? sample : frames, c.low, c.high);
  }

  /** How `frame` is mapped (calibrating on it alone if no window is known yet). */
  plan(frame: Frame): GreyPlan {
    if (frame.dtype === 'uint8' && !this.contrast) return { kind: 'copy' };
    if (this.contrast?.mode === 'frame') return { kind: 'frame', low: this.contrast.low, high: this.contrast.high };
    if (!this.#window) this.calibrate([frame]);
    return { kind: 'window', window: this.#window! };
  }

  /** The frame as 8-bit grey (in {@link range}), one byte per pixel, row-major (into `out` if given). */
  map(frame: Frame, out: Uint8Array = new Uint8Array(frame.data.length)): Uint8Array {
    this.#kernel(frame)(frame.data, out);
    return out;
  }

  /**
   * Like {@link map}, in slices of `slicePixels` with the event loop running in between, so a
   * large frame never blocks the session (a camera's frame clock, other consumers) for long.
   */
  async mapSliced(
    frame: Frame,
    out: Uint8Array = new Uint8Array(frame.data.length),
    slicePixels = 1 << 17,
  ): Promise<Uint8Array> {
    const kernel = this.#kernel(frame);
    const data = frame.data;
    const step = Math.max(4, slicePixels - (slicePixels % 4));
    for (let start = 0; start < data.length; start += step) {
      const end = Math.min(start + step, data.length);
      kernel(data.subarray(start, end), out.subarray(start, end));
      if (end < data.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return out;
  }

  /** The function that maps (a range of) this frame's pixels. */
  #kernel(frame: Frame): (data: PixelArray, out: Uint8Array) => void {
    const plan = this.plan(frame);
    const range = this.range;
    if (plan.kind === 'copy')
      return range === 'video'
        ? (data, out) => toVideoRange(out, data as Uint8Array)
        : (data, out) => out.set(data as Uint8Array);
    const window = plan.kind === 'frame' ? percentiles([frame], plan.low, plan.high) : plan.window;
    return (data, out) => mapPixels(data, frame.dtype, window, out, this.#table, range);
  }
}

/**
 * The 8-bit value of one pixel under the window `[min, max]` (the formula of the module
 * documentation), e.g. to check a decoded movie against its source.
 */
export function mapPixel(value: number, min: number, max: number): number {
  const [lo, hi] = widen([min, max]);
  const x = ((value - lo) * 255) / (hi - lo);
  return Number.isNaN(x) || x <= 0 ? 0 : x >= 255 ? 255 : Math.floor(x + 0.5);
}
