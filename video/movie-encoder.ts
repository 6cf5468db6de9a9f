/**
 * `MovieEncoder`: frames in, an mp4 out. Grey frames are mapped to 8-bit grey (see
 * `contrast.ts`), colour (rgb24) frames go as they are (a movie holds one kind); frames are
 * piped raw into ffmpeg's stdin as they come (no temporary files; a full pipe makes `write()`
 * wait) and encoded as h264/yuv420p. Grey frames of even width and height go as yuv420p already
 * (the contrast mapping makes luma in the video range, the chroma planes are constant), so ffmpeg
 * only encodes; others go as grey and ffmpeg converts and pads them.
 *
 * The movie is written as `<path>.partial` and renamed to `<path>` only after ffmpeg exited
 * cleanly and (by default) the movie was decoded again and holds exactly the frames written, so
 * a file under the final name is always complete; on failure the partial file is removed.
 * @module
 */
import { rename, rm, stat } from 'node:fs/promises';
import { frameBytes, OptionError, pixelFormatOf, progress, z, zsignal, type Frame } from '../core/index.js';
import { FfmpegError, VideoError } from './errors.js';
import { countVideoFrames, FfmpegProcess } from './ffmpeg.js';
import { h264OutputArgs, resolveMovieOptions, type MovieOptions, type ResolvedMovieOptions } from './movie-options.js';
import { GreyFeed } from './grey-feed.js';

/** Options of {@link MovieEncoder.open}. */
export interface MovieEncoderOptions extends MovieOptions {
  /**
   * Check the finished movie's frame count: `'demux'` (default) counts the frames in the file,
   * `'decode'` decodes every one of them (slower: what `makeMovie` does before erasing frames),
   * `false` trusts ffmpeg's exit status.
   */
  verify?: 'demux' | 'decode' | false;
  /** Kills ffmpeg and removes the partial movie when aborted. */
  signal?: AbortSignal;
  /**
   * Run ffmpeg at a lower CPU priority (nice +10), so it never takes CPU from the acquisition;
   * for a time-lapse, which may drop frames (default false).
   */
  background?: boolean;
}

/** The options {@link MovieEncoder.open} takes beside the movie's. */
const ENCODER_OPTIONS = {
  verify: z.union([z.enum(['demux', 'decode']), z.literal(false)]).optional(),
  signal: zsignal.optional(),
  background: z.boolean().optional(),
};

/** What a finished movie holds. */
export interface MovieResult {
  path: string;
  frames: number;
  /** Size of the video (after scaling and padding). */
  width: number;
  height: number;
  fps: number;
  bytes: number;
  /** How the frame count was checked (`false`: not checked). */
  verified: 'demux' | 'decode' | false;
}

/** The range of grey frames of `shape`: yuv420p luma if their size is even (see the module documentation). */
function evenSize([height, width]: readonly [number, number]): 'video' | 'full' {
  return height % 2 === 0 && width % 2 === 0 ? 'video' : 'full';
}

/** The suffix of a movie being written. */
export const MOVIE_PARTIAL_SUFFIX = '.partial';

/**
 * Encodes frames into an mp4 movie.
 * @example
 * ```ts
 * const movie = await MovieEncoder.open('/data/scan.mp4', { fps: 25, contrast: { min: 100, max: 4000 } });
 * for await (const frame of camera.stream({ count: 100 })) await movie.write(frame);
 * const { frames, bytes } = await movie.close();
 * ```
 */
export class MovieEncoder {
  readonly path: string;
  readonly options: ResolvedMovieOptions;
  readonly #verify: 'demux' | 'decode' | false;
  readonly #signal: AbortSignal | undefined;
  readonly #background: boolean;
  readonly #feed: GreyFeed;
  #ffmpeg: FfmpegProcess | undefined;
  #state: 'open' | 'closed' | 'failed' = 'open';
  /** Whether the movie is colour (rgb24 frames), once the first frame came. */
  #colour: boolean | undefined;
  #colourShape: readonly [number, number] | undefined;
  #colourFrames = 0;
  /** The constant chroma planes (128) sent after each luma plane of a yuv420p movie. */
  #chroma: Uint8Array | undefined;

  private constructor(path: string, options: MovieEncoderOptions) {
    this.path = path;
    this.options = resolveMovieOptions('MovieEncoder', options, ENCODER_OPTIONS);
    this.#verify = options.verify ?? 'demux';
    this.#signal = options.signal;
    this.#background = options.background ?? false;
    this.#feed = new GreyFeed(
      path,
      this.options.contrast,
      this.options.overlay,
      (image, frame) => this.#send(image, frame),
      // Sent means in the pipe (#send): the mapping thread maps later frames into the same images.
      // Grey frames of even size go as yuv420p: each image is followed by the constant chroma planes.
      {
        range: evenSize,
        tail: (shape) => (evenSize(shape) === 'video' ? this.#chromaOf(shape) : undefined),
        recycle: true,
      },
    );
  }

  /**
   * Prepares a movie at `path` (ffmpeg starts with the first frame, which sets the size).
   * @throws OptionError for bad options.
   */
  static async open(path: string, options: MovieEncoderOptions = {}): Promise<MovieEncoder> {
    if (typeof path !== 'string' || !path)
      throw new OptionError('MovieEncoder.open: the movie path must be a file name');
    return new MovieEncoder(path, options);
  }

  /** Frames written so far. */
  get frames(): number {
    return this.#feed.count + this.#colourFrames;
  }

  /**
   * A colour (rgb24) frame goes to ffmpeg as it is: no contrast mapping (it is 8-bit already),
   * no overlay (burnt-in text is drawn on grey images).
   */
  async #writeColour(frame: Frame): Promise<void> {
    if (this.options.overlay.length)
      throw new VideoError(
        `${this.path}: the overlay is drawn on grey frames; frame ${frame.metadata.frameNumber} is rgb24`,
      );
    const shape = (this.#colourShape ??= frame.shape);
    if (frame.shape[0] !== shape[0] || frame.shape[1] !== shape[1])
      throw new VideoError(
        `${this.path}: frame ${frame.metadata.frameNumber} is ${frame.shape[1]}×${frame.shape[0]} px, ` +
          `the first was ${shape[1]}×${shape[0]} px`,
      );
    this.#colourFrames++;
    await this.#send(frameBytes(frame), frame);
  }

  /** The contrast window in use, once known (`[min, max]`). */
  get window(): readonly [number, number] | undefined {
    return this.#feed.window;
  }

  /**
   * Adds a frame. Waits while ffmpeg's input pipe is full.
   * @throws VideoError for a frame whose shape differs from the first; FfmpegError if ffmpeg failed.
   */
  async write(frame: Frame): Promise<void> {
    if (this.#state !== 'open') throw new VideoError(`${this.path}: the movie is ${this.#state}; open a new one`);
    try {
      this.#signal?.throwIfAborted();
      if (this.#colour === undefined) this.#colour = frame.channels === 3;
      if ((frame.channels === 3) !== this.#colour)
        throw new VideoError(
          `${this.path}: frame ${frame.metadata.frameNumber} is ${pixelFormatOf(frame)}, the movie's first frame was ` +
            `${this.#colour ? 'rgb24 (colour)' : 'grey'}: a movie holds one kind`,
        );
      if (this.#colour) await this.#writeColour(frame);
      else await this.#feed.push(frame);
    } catch (error) {
      await this.#fail();
      throw error;
    }
  }

  /**
   * Finishes the movie: ends ffmpeg's input, waits for it, checks the frame count and renames the
   * file to its final name.
   * @throws VideoError if no frame was written or the movie does not hold every frame; FfmpegError if ffmpeg failed.
   */
  async close(): Promise<MovieResult> {
    if (this.#state !== 'open') throw new VideoError(`${this.path}: the movie is already ${this.#state}`);
    try {
      await this.#feed.flush();
      if (!this.#ffmpeg) throw new VideoError(`${this.path}: no frames were written, so there is no movie`);
      await this.#ffmpeg.end();
      const frames = this.frames;
      const partial = this.path + MOVIE_PARTIAL_SUFFIX;
      if (this.#verify)
        await verifyFrameCount(partial, frames, this.path, this.options.ffmpegPath, this.#signal, this.#verify);
      await rename(partial, this.path);
      this.#state = 'closed';
      const [width, height] = this.#outputSize();
      const bytes = (await stat(this.path)).size;
      return { path: this.path, frames, width, height, fps: this.options.fps, bytes, verified: this.#verify };
    } catch (error) {
      await this.#fail();
      throw this.#signal?.aborted && error instanceof FfmpegError ? this.#signal.reason : error;
    }
  }

  /** Stops ffmpeg and removes the partial movie. Idempotent. */
  async abort(): Promise<void> {
    if (this.#state === 'open') await this.#fail();
  }

  async #send(image: Uint8Array, frame: Frame): Promise<void> {
    this.#signal?.throwIfAborted();
    const [height, width] = frame.shape;
    const yuv = frame.channels !== 3 && this.#feed.range === 'video';
    const ffmpeg = (this.#ffmpeg ??= this.#spawn(
      width,
      height,
      frame.channels === 3 ? 'rgb24' : yuv ? 'yuv420p' : 'gray',
    ));
    if (frame.channels === 3) return ffmpeg.write(image);
    // Resolves once the image is in the pipe (the feed reuses it): for yuv420p, the luma plane and
    // the chroma planes after it (the feed's tail) in one write.
    if (!yuv || image.length === (width * height * 3) / 2) return ffmpeg.writeFlushed([image]);
    await ffmpeg.writeFlushed([image, this.#chromaOf(frame.shape)]);
  }

  /** The constant chroma planes (128) of a yuv420p frame of `shape`. */
  #chromaOf([height, width]: readonly [number, number]): Uint8Array {
    return (this.#chroma ??= new Uint8Array((width * height) / 2).fill(128));
  }

  #spawn(width: number, height: number, format: 'rgb24' | 'gray' | 'yuv420p'): FfmpegProcess {
    const input = ['-f', 'rawvideo', '-pix_fmt', format, '-video_size', `${width}x${height}`];
    return FfmpegProcess.spawn({
      path: this.options.ffmpegPath,
      what: `encoding ${this.path} (${width}×${height} ${format} frames)`,
      stdin: true,
      signal: this.#signal,
      niceness: this.#background ? 10 : 0,
      args: [
        ...input,
        '-framerate',
        String(this.options.fps),
        '-i',
        'pipe:0',
        ...h264OutputArgs(this.options, this.path + MOVIE_PARTIAL_SUFFIX, width % 2 === 0 && height % 2 === 0),
      ],
    });
  }

  #outputSize(): [number, number] {
    if (this.options.size) return this.options.size;
    const [h, w] = (this.#feed.shape ?? this.#colourShape)!;
    return [w + (w % 2), h + (h % 2)];
  }

  async #fail(): Promise<void> {
    this.#state = 'failed';
    this.#feed.discard();
    const ffmpeg = this.#ffmpeg;
    if (ffmpeg && !ffmpeg.exited) {
      ffmpeg.kill();
      await ffmpeg.wait().catch(() => undefined);
    }
    await rm(this.path + MOVIE_PARTIAL_SUFFIX, { force: true }).catch(() => undefined);
  }
}

/**
 * Decodes `file` and checks that it holds `expected` frames.
 * @throws VideoError naming both counts; FfmpegError if the movie cannot be decoded.
 * @internal
 */
export async function verifyFrameCount(
  file: string,
  expected: number,
  name: string,
  ffmpegPath: string | undefined,
  signal: AbortSignal | undefined,
  how: 'decode' | 'demux' = 'decode',
): Promise<void> {
  const decoded = await countVideoFrames(file, { path: ffmpegPath, signal, how });
  if (decoded !== expected)
    throw new VideoError(`${name}: the movie holds ${decoded} frames, but ${expected} were given`);
}

/**
 * Encodes every frame of `frames` (`count` of them, for the progress bar `label`) into a movie at
 * `path` and closes it; on any failure ffmpeg is stopped and the partial movie removed.
 */
export async function encodeMovie(
  path: string,
  frames: AsyncIterable<Frame>,
  count: number,
  options: MovieEncoderOptions,
  label = `movie ${path}`,
): Promise<MovieResult> {
  const encoder = await MovieEncoder.open(path, options);
  const bar = progress(label, count);
  try {
    for await (const frame of frames) {
      await encoder.write(frame);
      bar.tick();
    }
    return await encoder.close();
  } catch (error) {
    await encoder.abort();
    throw error;
  } finally {
    bar.done();
  }
}
