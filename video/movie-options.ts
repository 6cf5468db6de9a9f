/**
 * The options every movie takes (frame rate, size, quality, contrast, overlay), checked once, and
 * the ffmpeg arguments they become: h264 (libx264) in yuv420p, even dimensions by padding,
 * `+faststart` so that players start before the whole file is read.
 * @module
 */
import { OptionError } from '../core/index.js';
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

/** Options of a movie (`MovieEncoder`, `makeMovie`, the `MovieWriter` addon). */
export interface MovieOptions {
  /** Frames per second of the movie (default 30). */
  fps?: number;
  /**
   * Output size `[width, height]` or `'WxH'` (even numbers): frames are scaled to fit, keeping
   * their aspect ratio, and padded with black. Default: the frame size, padded to even.
   */
  size?: readonly [number, number] | string;
  /** x264 constant rate factor, 0 (lossless) … 51 (worst); default 18 (visually lossless). */
  crf?: number;
  /** x264 preset (default `'veryfast'`). */
  preset?: X264Preset;
  /** How 16-bit and float frames map to 8 bits (default `'auto'`, see `video/contrast.ts`). */
  contrast?: ContrastSpec;
  /** Burn in the frame number and/or angle (`true`: both). */
  overlay?: boolean | readonly OverlayField[];
  /** The ffmpeg binary (default: `FFMPEG_PATH`, else the one shipped with @ffmpeg-installer/ffmpeg). */
  ffmpegPath?: string;
}

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

const KEYS = ['fps', 'size', 'crf', 'preset', 'contrast', 'overlay', 'ffmpegPath'];

/**
 * Checks movie options (unknown keys are refused unless listed in `extraKeys`).
 * @throws OptionError naming the bad option and what is allowed.
 */
export function resolveMovieOptions(
  owner: string,
  options: MovieOptions = {},
  extraKeys: string[] = [],
): ResolvedMovieOptions {
  for (const key of Object.keys(options))
    if (!KEYS.includes(key) && !extraKeys.includes(key))
      throw new OptionError(
        `${owner}: unknown option '${key}' (allowed: ${[...KEYS, ...extraKeys].sort().join(', ')})`,
      );
  const { fps = 30, crf = 18, preset = 'veryfast', overlay = false } = options;
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0 || fps > 1000)
    throw new OptionError(`${owner}: fps must be a number in (0, 1000], got ${String(fps)}`);
  if (!Number.isInteger(crf) || crf < 0 || crf > 51)
    throw new OptionError(`${owner}: crf must be a whole number in [0, 51], got ${String(crf)}`);
  if (!X264_PRESETS.includes(preset))
    throw new OptionError(`${owner}: preset must be one of ${X264_PRESETS.join(', ')}, got ${JSON.stringify(preset)}`);
  const fields: OverlayField[] =
    overlay === true ? ['frameNumber', 'angle'] : overlay === false ? [] : Array.isArray(overlay) ? [...overlay] : [];
  if (
    typeof overlay !== 'boolean' &&
    (!Array.isArray(overlay) || !fields.every((f) => f === 'frameNumber' || f === 'angle'))
  )
    throw new OptionError(`${owner}: overlay must be true, false or a list of 'frameNumber', 'angle'`);
  if (options.ffmpegPath !== undefined && typeof options.ffmpegPath !== 'string')
    throw new OptionError(`${owner}: ffmpegPath must be a path to an ffmpeg binary`);
  return {
    fps,
    size: options.size === undefined ? undefined : parseSize(options.size, owner),
    crf,
    preset,
    contrast: options.contrast === undefined ? undefined : parseContrast(options.contrast, `${owner}: contrast`),
    overlay: fields,
    ffmpegPath: options.ffmpegPath,
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

/** The output arguments of an h264 movie written to `file` (as mp4, whatever its name). */
export function h264OutputArgs(options: ResolvedMovieOptions, file: string): string[] {
  return [
    '-an',
    '-vf',
    videoFilter(options.size),
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
