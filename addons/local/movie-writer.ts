/**
 * `MovieWriter`: a movie (mp4, h264) of each acquisition run, the frames going to ffmpeg as they
 * arrive. Lossless by default (every frame of the scan is in the movie; a slow encoder slows the
 * producer, never drops); `mode: 'latest'` makes a time-lapse of what the camera sees, one frame
 * every `every` (default 1/fps), without ever slowing the acquisition.
 * @module
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { sleep, z, zq } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import type { AddonEstimate } from '../../experiments/estimate.js';
import {
  MOVIE_OPTIONS,
  MovieEncoder,
  resolveMovieOptions,
  type MovieOptions,
  type MovieResult,
} from '../../video/index.js';
import { DirectoryWalker } from '../../walkers/index.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';

/** The options of {@link MovieWriter.create}. */
export const MOVIE_WRITER_OPTIONS = ADDON_OPTIONS.extend({
  /** `'lossless'` (default): every frame; `'latest'`: a time-lapse that never slows the acquisition. */
  mode: z.enum(['lossless', 'latest']).optional(),
  /** Latest mode: time between two frames of the time-lapse (default 1/fps, i.e. real time). */
  every: zq('s', { min: '0 s' }).optional(),
  /**
   * The movie's file name; `{acquisition}` is replaced by the acquisition's name (default
   * `'{acquisition}.mp4'`). Relative names go into `dir`, else the walker's current directory
   * (the run's scan directory). An existing file is never replaced: `-1`, `-2`, … is appended.
   */
  out: z.string().min(1).optional(),
  /** Folder for the movies (default: the experiment's directory walker's current directory). */
  dir: z.string().min(1).optional(),
  /** Lossless mode: frames queued before the producer waits (default 8). */
  queueSize: z.number().int().min(1).optional(),
  ...MOVIE_OPTIONS.shape,
});

/** Options of {@link MovieWriter.create}. */
export type MovieWriterOptions = z.input<typeof MOVIE_WRITER_OPTIONS>;

/**
 * Makes movies of acquisitions.
 * @example
 * ```ts
 * await MovieWriter.create(exp, { acquisitions: ['radios'], fps: 25, contrast: { min: 100, max: 4000 } });
 * await MovieWriter.create(exp, { mode: 'latest', every: q('1 s'), fps: 30, out: 'timelapse-{acquisition}.mp4' });
 * ```
 */
export class MovieWriter extends Addon {
  static override readonly options = MOVIE_WRITER_OPTIONS;
  readonly kind = 'local';
  readonly mode: 'lossless' | 'latest';
  readonly #movie: MovieOptions;
  readonly #everyMs: number;
  readonly #out: string;
  readonly #dir: string | undefined;
  readonly #queueSize: number;
  #movies: MovieResult[] = [];
  #failures = 0;

  /** A movie's size depends on what the encoder makes of the frames: reported as unknown. */
  override async estimate(acquisition: Acquisition): Promise<AddonEstimate> {
    return {
      bytes: undefined,
      exact: false,
      note: `${this.name}: the size of the movie of '${acquisition.name}' depends on the encoder (crf ${this.#movie.crf ?? 'default'})`,
    };
  }

  constructor(experiment: Experiment, options: MovieWriterOptions = {}) {
    super(experiment, options);
    const {
      mode = 'lossless',
      every,
      out = '{acquisition}.mp4',
      dir,
      queueSize = 8,
      acquisitions: _a,
      name: _n,
      ...movie
    } = options;
    const resolved = resolveMovieOptions(`${this.name}.create`, movie as MovieOptions);
    this.mode = mode;
    this.#movie = movie as MovieOptions;
    this.#everyMs = every ? every.toNumber('ms') : 1000 / resolved.fps;
    if (!(this.#everyMs > 0)) throw new AddonError(`${this.name}: every must be > 0 s`);
    this.#out = out;
    this.#dir = dir;
    this.#queueSize = queueSize;
    if (!isAbsolute(out) && dir === undefined && !(experiment.walker instanceof DirectoryWalker))
      throw new AddonError(
        `${this.name}: ${experiment.name} has no directory walker to put the movies in; pass { dir } or an absolute { out }`,
      );
  }

  /** The movies finished so far (newest last). */
  get movies(): readonly MovieResult[] {
    return [...this.#movies];
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    const latest = this.mode === 'latest';
    return this.localConsumer(
      acquisition,
      async (frames, context) => {
        const path = this.#path(acquisition.name);
        const encoder = await MovieEncoder.open(path, { ...this.#movie, signal: context.signal, background: latest });
        // Latest mode: the wait for the next time-lapse frame ends when the producer does, so
        // the movie is finished right after the last frame (not up to `every` later).
        const ended = new AbortController();
        const end = () => ended.abort();
        context.produced.then(end, end);
        context.signal.addEventListener('abort', end, { once: true });
        let next = performance.now();
        try {
          for await (const frame of frames) {
            await encoder.write(frame);
            if (!latest) continue;
            next += this.#everyMs;
            const wait = next - performance.now();
            if (wait > 0) await sleep(wait, ended.signal).catch(() => undefined);
            else next = performance.now();
          }
        } catch (error) {
          // The run failed or was cancelled: keep a movie of the frames that came, if any.
          await this.#finish(encoder, acquisition).catch(() => undefined);
          throw error;
        } finally {
          context.signal.removeEventListener('abort', end);
        }
        await this.#finish(encoder, acquisition);
      },
      latest ? { policy: 'latest' } : { policy: 'lossless', queueSize: this.#queueSize },
    );
  }

  async #finish(encoder: MovieEncoder, acquisition: Acquisition): Promise<void> {
    if (encoder.frames === 0) return encoder.abort();
    try {
      const movie = await encoder.close();
      this.#movies.push(movie);
      acquisition.log.info(`${this.name}: ${movie.frames} frames in ${movie.path}`);
    } catch (error) {
      this.#failures++;
      throw error;
    }
  }

  /** The movie's path for `acquisition`: never an existing file. */
  #path(acquisition: string): string {
    const name = this.#out.replaceAll('{acquisition}', acquisition);
    const base = isAbsolute(name) ? name : join(this.#dir ?? (this.experiment.walker as DirectoryWalker).current, name);
    let path = base;
    for (let i = 1; existsSync(path) || existsSync(`${path}.partial`); i++) path = base.replace(/(\.\w+)?$/, `-${i}$1`);
    return path;
  }

  protected override counters(): Record<string, unknown> {
    return { movies: this.#movies.length, lastMovie: this.#movies.at(-1)?.path ?? null, failures: this.#failures };
  }
}
