/**
 * `concert recording info LOG`, `concert recording video LOG OUT.mp4 [--fps auto|N]`,
 * `concert recording export LOG DIR`: what a recording holds, its frames as a movie (frame rate
 * from the receive times by default) or as a TIFF dataset.
 * @module
 */
import { OptionError } from '../../core/index.js';
import { formatSummary, logToTiff, logToVideo, summarizeLog } from '../../recording/index.js';
import { contrastOption, positiveNumber, showProgress } from './cli-progress.js';

/** Prints the summary of a recording. */
export async function info(log: string): Promise<void> {
  console.log(formatSummary(await summarizeLog(log)));
}

/** The options of `concert recording video`. */
export interface VideoCliOptions {
  fps?: string;
  size?: string;
  contrast?: string;
  crf?: string;
  overlay?: boolean;
  acquisition?: string;
}

/** Writes the frames of a recording as a movie. */
export async function video(log: string, out: string, o: VideoCliOptions): Promise<void> {
  if (!/\.(mp4|m4v|mov)$/i.test(out)) throw new OptionError(`the movie must be an .mp4 file, got '${out}'`);
  const fps = o.fps === undefined || o.fps === 'auto' ? 'auto' : positiveNumber('--fps', o.fps)!;
  showProgress();
  const result = await logToVideo(log, out, {
    fps,
    size: o.size,
    crf: o.crf === undefined ? undefined : Number(o.crf),
    contrast: contrastOption(o.contrast),
    overlay: o.overlay,
    acquisition: o.acquisition,
  });
  console.log(
    `wrote ${result.path}: ${result.frames} frames, ${result.width}x${result.height}, ${result.fps} fps, ` +
      `${(result.bytes / 1e6).toFixed(2)} MB (frame count verified)`,
  );
}

/** Writes the frames of a recording as a TIFF dataset. */
export async function exportTiff(log: string, dir: string, o: { acquisition?: string }): Promise<void> {
  showProgress();
  const result = await logToTiff(log, dir, { acquisition: o.acquisition });
  console.log(`wrote ${result.frames} frames to ${result.dir} (${result.files.length} TIFF files)`);
}
