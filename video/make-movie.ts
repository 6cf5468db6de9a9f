/**
 * `makeMovie`: a movie from frames that already exist on disk (the second step of Brayns'
 * export-then-compile workflow), optionally erasing the frames — only once the movie is written
 * and verified.
 * @module
 */
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { errorMessage, OptionError, progress } from '../core/index.js';
import { FfmpegError, VideoError } from './errors.js';
import { FfmpegProcess } from './ffmpeg.js';
import { countTiffFrames, listFrameFiles, readTiffFrames, type FrameFiles } from './frame-files.js';
import { encodeMovie, MOVIE_PARTIAL_SUFFIX, verifyFrameCount, type MovieResult } from './movie-encoder.js';
import { h264OutputArgs, resolveMovieOptions, type MovieOptions } from './movie-options.js';

/** Options of {@link makeMovie}. */
export interface MakeMovieOptions extends MovieOptions {
  /** A folder of PNG, JPEG or TIFF frames, or a TIFF dataset (single- or multi-page file). */
  framesDir: string;
  /** The movie to write (`.mp4`). */
  out: string;
  /**
   * Delete the frame files once the movie is written and verified (its decoded frame count equals
   * the number of frames given). On any failure every frame stays. Default false.
   */
  eraseFrames?: boolean;
  /** Kills ffmpeg when aborted; the frames stay. */
  signal?: AbortSignal;
}

/** What {@link makeMovie} did. */
export interface MakeMovieResult extends MovieResult {
  /** The frame files deleted (0 unless `eraseFrames`). */
  erased: number;
}

/**
 * Compiles the frames of `framesDir`, in numerical order, into a movie. TIFF frames (any dtype)
 * go through the contrast mapping; PNG and JPEG frames are passed to ffmpeg as they are. A
 * progress bar shows the frames done.
 * @example
 * ```ts
 * await makeMovie({ framesDir: '/data/frames', out: '/data/scan.mp4', fps: 30, size: [1920, 1080], eraseFrames: true });
 * ```
 * @throws VideoError (no frames, a movie missing frames), FfmpegError (with ffmpeg's exit code and
 *   log), StorageError (an unreadable TIFF); OptionError for bad options.
 */
export async function makeMovie(options: MakeMovieOptions): Promise<MakeMovieResult> {
  const { framesDir, out, eraseFrames = false, signal, ...movie } = options ?? ({} as MakeMovieOptions);
  if (typeof framesDir !== 'string' || !framesDir)
    throw new OptionError('makeMovie: option framesDir is required (a folder of frames or a TIFF dataset)');
  if (typeof out !== 'string' || !out) throw new OptionError('makeMovie: option out is required (the .mp4 to write)');
  if (typeof eraseFrames !== 'boolean') throw new OptionError('makeMovie: eraseFrames must be true or false');
  resolveMovieOptions('makeMovie', movie);
  const frames = await listFrameFiles(framesDir);
  const result =
    frames.kind === 'tiff' ? await fromTiff(frames, out, movie, signal) : await fromImages(frames, out, movie, signal);
  let erased = 0;
  if (eraseFrames) {
    for (const file of frames.files) {
      try {
        await rm(file);
        erased++;
      } catch (error) {
        throw new VideoError(
          `${out} is complete, but erasing the frames stopped at ${file} ` +
            `(${erased} of ${frames.files.length} erased): ${errorMessage(error)}`,
          { cause: error },
        );
      }
    }
  }
  return { ...result, erased };
}

async function fromTiff(
  frames: FrameFiles,
  out: string,
  movie: MovieOptions,
  signal?: AbortSignal,
): Promise<MovieResult> {
  const total = await countTiffFrames(frames.files);
  return encodeMovie(out, readTiffFrames(frames.files, signal), total, { ...movie, signal, verify: 'decode' });
}

/** PNG or JPEG files, piped one after another into ffmpeg's image2pipe demuxer. */
async function fromImages(
  frames: FrameFiles,
  out: string,
  movie: MovieOptions,
  signal?: AbortSignal,
): Promise<MovieResult> {
  const options = resolveMovieOptions('makeMovie', movie);
  const partial = out + MOVIE_PARTIAL_SUFFIX;
  const bar = progress(`movie ${out}`, frames.files.length);
  const codec = frames.kind === 'png' ? 'png' : 'mjpeg';
  const ffmpeg = FfmpegProcess.spawn({
    path: options.ffmpegPath,
    what: `encoding ${out} from ${frames.files.length} ${frames.kind} frames`,
    stdin: true,
    signal,
    args: [
      '-f',
      'image2pipe',
      '-c:v',
      codec,
      '-framerate',
      String(options.fps),
      '-i',
      'pipe:0',
      ...h264OutputArgs(options, partial),
    ],
  });
  try {
    for (const file of frames.files) {
      signal?.throwIfAborted();
      await ffmpeg.write(await readFile(file));
      bar.tick();
    }
    await ffmpeg.end();
    await verifyFrameCount(partial, frames.files.length, out, options.ffmpegPath, signal);
    await rename(partial, out);
    const probe = await videoSize(out, options.ffmpegPath);
    return {
      path: out,
      frames: frames.files.length,
      width: probe[0],
      height: probe[1],
      fps: options.fps,
      bytes: (await stat(out)).size,
      verified: 'decode',
    };
  } catch (error) {
    ffmpeg.kill();
    await ffmpeg.wait().catch(() => undefined);
    await rm(partial, { force: true }).catch(() => undefined);
    throw signal?.aborted && error instanceof FfmpegError ? signal.reason : error;
  } finally {
    bar.done();
  }
}

/** The width and height of the first video stream, from ffmpeg's log of the input. */
async function videoSize(file: string, ffmpegPath: string | undefined): Promise<[number, number]> {
  const ffmpeg = FfmpegProcess.spawn({
    path: ffmpegPath,
    what: `reading ${file}`,
    logLevel: 'info',
    logLines: 50,
    args: ['-i', file, '-frames:v', '1', '-f', 'null', '-'],
  });
  await ffmpeg.wait();
  for (const line of ffmpeg.log) {
    const m = /Video: .*?, (\d+)x(\d+)/.exec(line);
    if (m) return [Number(m[1]), Number(m[2])];
  }
  return [0, 0];
}
