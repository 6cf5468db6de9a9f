/**
 * `concert movie SOURCE OUT.mp4 [--fps 30] [--size WxH] [--contrast auto|frame|MIN,MAX]
 * [--crf 18] [--overlay] [--erase-frames]`: a movie from one of our TIFF datasets (a single- or
 * multi-page file, a scan's acquisition folder) or a folder of PNG/JPEG/TIFF frames.
 * @module
 */
import { OptionError } from '../../core/index.js';
import { makeMovie } from '../../video/index.js';
import { contrastOption, positiveNumber, showProgress } from './cli-progress.js';

/** The options of `concert movie` as commander parses them. */
export interface MovieCliOptions {
  fps?: string;
  size?: string;
  contrast?: string;
  crf?: string;
  overlay?: boolean;
  eraseFrames?: boolean;
}

/** Runs `concert movie`. */
export async function movie(source: string, out: string, o: MovieCliOptions): Promise<void> {
  if (!/\.(mp4|m4v|mov)$/i.test(out)) throw new OptionError(`the movie must be an .mp4 file, got '${out}'`);
  const fps = positiveNumber('--fps', o.fps);
  const crf = o.crf === undefined ? undefined : Number(o.crf);
  showProgress();
  const result = await makeMovie({
    framesDir: source,
    out,
    fps,
    size: o.size,
    crf,
    contrast: contrastOption(o.contrast),
    overlay: o.overlay,
    eraseFrames: o.eraseFrames ?? false,
  });
  console.log(
    `wrote ${result.path}: ${result.frames} frames, ${result.width}x${result.height}, ${result.fps} fps, ` +
      `${(result.bytes / 1e6).toFixed(2)} MB (frame count verified)`,
  );
  if (o.eraseFrames) console.log(`erased ${result.erased} frame files`);
}
