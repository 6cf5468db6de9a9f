/**
 * The options every movie takes (frame rate, size, quality, contrast, overlay), checked once, and
 * the ffmpeg arguments they become: h264 (libx264) in yuv420p, even dimensions by padding,
 * `+faststart` so that players start before the whole file is read.
 * @module
 */
import { OptionError, parseOptions, z, zwhere } from '../core/index.js';
import { parseContrast, type Contrast, type ContrastSpec } from './contrast.js';
import type { OverlayField } from './overlay.js';

/** libx264's speed presets, fastest first. */
export const X264_PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
] as const;
export type X264Preset = (typeof X264_PRESETS)[number];

/**
 * Size and contrast are checked here for their shape only: {@link parseSize} and `parseContrast`
 * then say precisely what is wrong (`size must have an even width and height`).
 */
const sizeShape = z.union([z.string(), z.tuple([z.number(), z.number()])]);
const contrastShape = zwhere(
  "'auto', 'frame', { min, max } or { low, high, frames, perFrame }",
  (v): v is ContrastSpec => v === 'auto' || v === 'frame' || (typeof v === 'object' && v !== null && !Array.isArray(v)),
);

/**
 * The options every movie takes (`MovieEncoder`, `makeMovie`, the `MovieWriter` addon, which
 * extends this schema): one zod schema gives both their type and their check.
 */
export const MOVIE_OPTIONS = z.strictObject({
  /** Frames per second of the movie (default 30). */
  fps: z.number().positive().max(1000).optional(),
  /**
   * Output size `[width, height]` or `'WxH'` (even numbers): frames are scaled to fit, keeping
   * their aspect ratio, and padded with black. Default: the frame size, padded to even.
   */
  size: sizeShape.optional(),
  /** x264 constant rate factor, 0 (lossless) … 51 (worst); default 18 (visually lossless). */
  crf: z.number().int().min(0).max(51).optional(),
  /** x264 preset (default `'veryfast'`). */
  preset: z.enum(X264_PRESETS).optional(),
  /** How 16-bit and float frames map to 8 bits (default `'auto'`, see `video/contrast.ts`). */
  contrast: contrastShape.optional(),
  /** Burn in the frame number and/or angle (`true`: both). */
  overlay: z.union([z.boolean(), z.array(z.enum(['frameNumber', 'angle']))]).optional(),
  /** The ffmpeg binary (default: `FFMPEG_PATH`, else the one shipped with @ffmpeg-installer/ffmpeg). */
  ffmpegPath: z.string().min(1).optional(),
});

/** Options of a movie (`MovieEncoder`, `makeMovie`, the `MovieWriter` addon). */
export type MovieOptions = z.input<typeof MOVIE_OPTIONS>;

/** Movie options with their defaults filled in. */
export interface ResolvedMovieOptions {
  fps: number;
  size: [number, number] | undefined;
  crf: number;
  preset: X264Preset;
  contrast: Contrast | undefined;
  overlay: OverlayField[];
  ffmpegPath: string | undefined;
}

/**
 * Checks movie options against {@link MOVIE_OPTIONS}, extended by `extra` (the caller's own
 * options, e.g. `verify` and `signal`), and fills in the defaults.
 * @throws OptionError naming the bad option and what is allowed.
 */
export function resolveMovieOptions(
  owner: string,
  options: MovieOptions = {},
  extra: z.ZodRawShape = {},
): ResolvedMovieOptions {
  const checked = parseOptions(owner, MOVIE_OPTIONS.extend(extra), options) as MovieOptions;
  const { fps = 30, crf = 18, preset = 'veryfast', overlay = false } = checked;
  return {
    fps,
    size: checked.size === undefined ? undefined : parseSize(checked.size, owner),
    crf,
    preset,
    contrast: checked.contrast === undefined ? undefined : parseContrast(checked.contrast, `${owner}: contrast`),
    overlay: overlay === true ? ['frameNumber', 'angle'] : overlay === false ? [] : [...overlay],
    ffmpegPath: checked.ffmpegPath,
  };
}

/**
 * Parses `'1920x1080'` or `[1920, 1080]`.
 * @throws OptionError unless both are even whole numbers ≥ 2 (h264 in yuv420p needs even sizes).
 */
export function parseSize(size: readonly [number, number] | string, owner = 'size'): [number, number] {
  let pair: unknown[];
  if (typeof size === 'string') {
    const m = /^(\d+)x(\d+)$/i.exec(size.trim());
    if (!m) throw new OptionError(`${owner}: size must be WIDTHxHEIGHT, e.g. 1920x1080, got '${size}'`);
    pair = [Number(m[1]), Number(m[2])];
  } else pair = Array.isArray(size) ? size : [];
  const [w, h] = pair as [number, number];
  if (pair.length !== 2 || ![w, h].every((n) => Number.isInteger(n) && n >= 2 && n <= 16384))
    throw new OptionError(`${owner}: size must be [width, height] in pixels (2 … 16384), got ${JSON.stringify(size)}`);
  if (w % 2 || h % 2)
    throw new OptionError(`${owner}: size must have an even width and height (h264 in yuv420p), got ${w}x${h}`);
  return [w, h];
}

/** The video filter: scale into `size` keeping the aspect ratio and pad, or pad to even. */
export function videoFilter(size: [number, number] | undefined): string {
  if (!size) return 'pad=ceil(iw/2)*2:ceil(ih/2)*2';
  const [w, h] = size;
  return `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`;
}

/**
 * The output arguments of an h264 movie written to `file` (as mp4, whatever its name).
 * `evenInput`: the frames are of even width and height already, so without a `size` no filter runs.
 */
export function h264OutputArgs(options: ResolvedMovieOptions, file: string, evenInput = false): string[] {
  return [
    '-an',
    ...(evenInput && !options.size ? [] : ['-vf', videoFilter(options.size)]),
    '-c:v',
    'libx264',
    '-preset',
    options.preset,
    '-crf',
    String(options.crf),
    '-pix_fmt',
    'yuv420p',
    '-r',
    String(options.fps),
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    '-y',
    file,
  ];
}
