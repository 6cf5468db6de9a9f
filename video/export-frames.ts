/**
 * `exportFrames`: writes frames to a folder as PNG, JPEG or TIFF files in the background (the first
 * step of Brayns' export-then-compile workflow); `await exporter.progress()` tells how far it is.
 * One export runs at a time.
 * @module
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errorMessage, isAbortError, OptionError, parseOptions, progress, z, type Frame } from '../core/index.js';
import { MultiFileWriter } from '../walkers/formats/index.js';
import { parseContrast } from './contrast.js';
import { VideoError } from './errors.js';
import { FfmpegProcess } from './ffmpeg.js';
import { countTiffFrames, listFrameFiles, readTiffFrames } from './frame-files.js';
import { GreyFeed } from './grey-feed.js';
import { MOVIE_OPTIONS } from './movie-options.js';
import type { OverlayField } from './overlay.js';

/** Image formats of {@link exportFrames}. */
export type ExportFormat = 'png' | 'jpg' | 'tiff';

/** Where frames come from: a TIFF dataset (path), or frames in memory or from a generator. */
export type FrameSource = string | Iterable<Frame> | AsyncIterable<Frame>;

/** The options of {@link exportFrames}. */
export const EXPORT_FRAMES_OPTIONS = MOVIE_OPTIONS.pick({ contrast: true, overlay: true, ffmpegPath: true }).extend({
  /**
   * `'png'` (default) and `'jpg'` hold 8-bit grey (through the contrast mapping); `'tiff'` keeps
   * the frames' own dtype and metadata.
   */
  format: z.enum(['png', 'jpg', 'tiff']).optional(),
  /** How many frames the source yields, for progress, when it cannot be counted (generators). */
  total: z.number().int().min(0).optional(),
});

/** Options of {@link exportFrames}. */
export type ExportFramesOptions = z.input<typeof EXPORT_FRAMES_OPTIONS>;

/** What an export did. */
export interface ExportResult {
  dir: string;
  frames: number;
  format: ExportFormat;
  /** The first file written, e.g. `/data/frames/frame_000000.png`. */
  first: string | undefined;
}

/** The file name pattern of exported frames: `frame_000000.png`, … (more digits past 999 999). */
export function exportedFileName(index: number, format: ExportFormat): string {
  return `frame_${String(index).padStart(6, '0')}.${format === 'tiff' ? 'tif' : format}`;
}

let running: FrameExporter | undefined;

/** A running (or finished) export. */
export class FrameExporter {
  readonly dir: string;
  readonly format: ExportFormat;
  /** Settles when the export is done: resolves with what was written, rejects with why it failed. */
  readonly done: Promise<ExportResult>;
  readonly #controller = new AbortController();
  #written = 0;
  #total: number | undefined;
  #finished = false;

  /** @internal use {@link exportFrames} */
  constructor(
    source: FrameSource,
    dir: string,
    options: Required<Pick<ExportFramesOptions, 'format'>> & ExportFramesOptions,
  ) {
    this.dir = dir;
    this.format = options.format;
    this.#total = options.total;
    this.done = this.#run(source, options).finally(() => {
      this.#finished = true;
      if (running === this) running = undefined;
    });
    this.done.catch(() => undefined); // the caller may only poll progress(); failures stay in done
  }

  /** Frames written so far. */
  get written(): number {
    return this.#written;
  }

  /** True until the export finished, failed or was cancelled. */
  get running(): boolean {
    return !this.#finished;
  }

  /**
   * How far the export is, 0 … 1 (1 only once every file is complete). With a source of unknown
   * length and no `total`, 0 until done.
   */
  async progress(): Promise<number> {
    if (this.#finished) return 1;
    if (!this.#total) return 0;
    return Math.min(this.#written / this.#total, 0.999);
  }

  /** Stops the export; `done` rejects with an AbortError. Files already complete stay. */
  async cancel(): Promise<void> {
    this.#controller.abort(new DOMException(`export to ${this.dir} cancelled`, 'AbortError'));
    await this.done.catch(() => undefined);
  }

  async #run(source: FrameSource, options: ExportFramesOptions & { format: ExportFormat }): Promise<ExportResult> {
    const signal = this.#controller.signal;
    await mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
      throw new VideoError(`exportFrames: cannot create ${this.dir}: ${errorMessage(error)}`, { cause: error });
    });
    const clash = (await readdir(this.dir)).find((n) => /^frame_\d+\.(png|jpg|tif)$/.test(n));
    if (clash)
      throw new VideoError(
        `exportFrames: ${this.dir} already holds exported frames (${clash}); choose an empty folder`,
      );
    const frames = await this.#frames(source, signal);
    const bar = progress(`export ${this.dir}`, this.#total ?? 0);
    try {
      if (options.format === 'tiff') await this.#writeTiff(frames, bar.tick);
      else await this.#writeImages(frames, options, signal, bar.tick);
    } finally {
      bar.done();
    }
    return {
      dir: this.dir,
      frames: this.#written,
      format: this.format,
      first: this.#written ? join(this.dir, exportedFileName(0, this.format)) : undefined,
    };
  }

  async #frames(source: FrameSource, signal: AbortSignal): Promise<AsyncIterable<Frame> | Iterable<Frame>> {
    if (typeof source !== 'string') {
      if (Array.isArray(source)) this.#total ??= source.length;
      return source;
    }
    const { kind, files } = await listFrameFiles(source);
    if (kind !== 'tiff')
      throw new VideoError(`exportFrames: ${source} holds ${kind} files; a path source must be a TIFF dataset`);
    this.#total ??= await countTiffFrames(files);
    return readTiffFrames(files, signal);
  }

  async #writeTiff(frames: AsyncIterable<Frame> | Iterable<Frame>, tick: () => void): Promise<void> {
    const signal = this.#controller.signal;
    const writer = await MultiFileWriter.open(this.dir, { pattern: 'frame_{:06}.tif' });
    try {
      for await (const frame of frames) {
        signal.throwIfAborted();
        await writer.write(frame);
        this.#written++;
        tick();
      }
    } finally {
      await writer.close();
    }
  }

  async #writeImages(
    frames: AsyncIterable<Frame> | Iterable<Frame>,
    options: ExportFramesOptions,
    signal: AbortSignal,
    tick: () => void,
  ): Promise<void> {
    let ffmpeg: FfmpegProcess | undefined;
    const contrast =
      options.contrast === undefined ? undefined : parseContrast(options.contrast, 'exportFrames: contrast');
    const overlay: OverlayField[] =
      options.overlay === true ? ['frameNumber', 'angle'] : Array.isArray(options.overlay) ? [...options.overlay] : [];
    const feed = new GreyFeed(this.dir, contrast, overlay, async (image, frame) => {
      ffmpeg ??= this.#spawn(frame.shape[1], frame.shape[0], options, signal);
      await ffmpeg.write(image);
      this.#written++;
      tick();
    });
    try {
      for await (const frame of frames) {
        signal.throwIfAborted();
        await feed.push(frame);
      }
      await feed.flush();
      // ffmpeg writes each file when it has its image: the last ones are complete when it exits.
      await ffmpeg?.end();
    } catch (error) {
      ffmpeg?.kill();
      await ffmpeg?.wait().catch(() => undefined);
      throw signal.aborted && !isAbortError(error) ? signal.reason : error;
    }
  }

  #spawn(width: number, height: number, options: ExportFramesOptions, signal: AbortSignal): FfmpegProcess {
    const codec = this.format === 'png' ? ['-c:v', 'png'] : ['-c:v', 'mjpeg', '-q:v', '2', '-pix_fmt', 'yuvj444p'];
    return FfmpegProcess.spawn({
      path: options.ffmpegPath,
      what: `exporting ${this.format} frames to ${this.dir}`,
      stdin: true,
      signal,
      args: [
        ...['-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', `${width}x${height}`, '-i', 'pipe:0'],
        ...codec,
        ...['-f', 'image2', '-start_number', '0', join(this.dir, `frame_%06d.${this.format}`)],
      ],
    });
  }
}

/**
 * Starts writing `source`'s frames into `dir` as `frame_000000.png`, … in the background and
 * returns at once. The session's progress bar shows it; `await exporter.progress()` gives 0 … 1
 * and `await exporter.done` the result.
 * @example
 * ```ts
 * const exporter = exportFrames('/data/scan_0000/radios', '/data/frames', { format: 'png' });
 * while ((await exporter.progress()) < 1) await sleep(1000);
 * await makeMovie({ framesDir: '/data/frames', out: '/data/scan.mp4', eraseFrames: true });
 * ```
 * @throws VideoError if another export is running; OptionError for bad options.
 */
export function exportFrames(source: FrameSource, dir: string, options: ExportFramesOptions = {}): FrameExporter {
  parseOptions('exportFrames', EXPORT_FRAMES_OPTIONS, options);
  const { format = 'png' } = options;
  if (options.contrast !== undefined) parseContrast(options.contrast, 'exportFrames: contrast');
  if (typeof dir !== 'string' || !dir) throw new OptionError('exportFrames: the target folder must be a path');
  if (typeof source !== 'string' && !(source && (Symbol.iterator in source || Symbol.asyncIterator in source)))
    throw new OptionError(
      'exportFrames: the source must be a TIFF dataset path, an array of frames or an async iterable of frames',
    );
  if (running) {
    throw new VideoError(
      `an export to ${running.dir} is running (${running.written} frames written so far); await exporter.done or exporter.cancel() first`,
    );
  }
  const exporter = new FrameExporter(source, resolve(dir), { ...options, format });
  running = exporter;
  return exporter;
}
