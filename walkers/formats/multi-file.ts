/**
 * Writes a dataset of frames across TIFF files: one file per frame, or multi-page files of at
 * most `bytesPerFile` bytes each.
 * @module
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError } from '../../core/errors.js';
import type { Frame } from '../../core/frame.js';
import { Mutex } from '../../core/mutex.js';
import { StorageError, storageError } from './errors.js';
import { parseNamePattern } from './name-pattern.js';
import type { NamePattern } from './name-pattern.js';
import { CLASSIC_LIMIT } from './tiff-format.js';
import { TiffWriter, type TiffWriterOptions } from './tiff-writer.js';

/** Options of {@link MultiFileWriter.open}. */
export interface MultiFileWriterOptions {
  /** File names, with one placeholder for the file index (see {@link parseNamePattern}); default `'frame_{:06}.tif'`. */
  pattern?: string;
  /** Index of the first file (default 0). */
  startIndex?: number;
  /**
   * 0 (default): one file per frame. Otherwise the most bytes a file may hold: a new file is
   * started when the next page would make the current one larger (a file always holds at least
   * one page, however large). `Infinity` writes all frames into one file.
   */
  bytesPerFile?: number;
  /**
   * `'auto'` (default): BigTIFF when `bytesPerFile` is 4 GiB or more, or when a single page does
   * not fit a classic TIFF; `true`/`false` force it.
   */
  bigTiff?: boolean | 'auto';
  /** Replace existing files (default false: an existing file is a `StorageError`). */
  overwrite?: boolean;
  /** `fsync` each file before renaming it (default false). */
  sync?: boolean;
}

/**
 * Writes frames into a directory as a sequence of TIFF files named from a pattern
 * (`frame_000000.tif`, `frame_000001.tif`, …). Each file is written as `<name>.partial` and
 * renamed when complete (see {@link TiffWriter}), so a dataset cut short by a crash or a failure
 * never has a last file that looks complete.
 *
 * @example
 * ```ts
 * const writer = await MultiFileWriter.open('/data/scan_0000/radios', { bytesPerFile: 2 ** 30 });
 * for await (const frame of frames) await writer.write(frame);
 * await writer.close();
 * console.log(writer.files);
 * ```
 */
export class MultiFileWriter {
  /** The directory written into. */
  readonly directory: string;
  readonly #names: NamePattern;
  readonly #options: Required<Omit<MultiFileWriterOptions, 'pattern'>>;
  #index: number;
  #current: TiffWriter | undefined;
  #files: string[] = [];
  #frames = 0;
  #bytes = 0;
  #state: 'open' | 'closed' | 'failed' = 'open';
  /**
   * One file per frame: the next file, opened while the current one is written (so a frame costs
   * the same trips through the thread pool as a plain open, write, close).
   */
  #prepared: { path: string; writer: Promise<TiffWriter> } | undefined;
  /** Keeps writes in call order; `close`/`abort` wait for them. */
  readonly #serial = new Mutex();

  private constructor(directory: string, names: NamePattern, options: MultiFileWriterOptions) {
    this.directory = directory;
    this.#names = names;
    this.#options = {
      startIndex: options.startIndex ?? 0,
      bytesPerFile: options.bytesPerFile ?? 0,
      bigTiff: options.bigTiff ?? 'auto',
      overwrite: options.overwrite ?? false,
      sync: options.sync ?? false,
    };
    this.#index = this.#options.startIndex;
  }

  /**
   * Prepares writing into `directory` (which must exist). No file is created before the first frame.
   * @throws OptionError for a pattern without placeholder, a negative `startIndex` or `bytesPerFile`.
   * @throws StorageError if `directory` does not exist or is not a directory.
   */
  static async open(directory: string, options: MultiFileWriterOptions = {}): Promise<MultiFileWriter> {
    const names = parseNamePattern(options.pattern ?? 'frame_{:06}.tif');
    const { startIndex = 0, bytesPerFile = 0 } = options;
    if (!Number.isSafeInteger(startIndex) || startIndex < 0)
      throw new OptionError(`startIndex must be a non-negative integer, got ${startIndex}`);
    if (!(bytesPerFile >= 0))
      throw new OptionError(`bytesPerFile must be 0 (one file per frame) or a positive size, got ${bytesPerFile}`);
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(directory)).isDirectory();
    } catch (error) {
      throw storageError('write into', directory, error);
    }
    if (!isDirectory) throw new StorageError(`cannot write into ${directory}: not a directory`, { path: directory });
    return new MultiFileWriter(directory, names, options);
  }

  /** Full paths of the files completed so far, in order. */
  get files(): readonly string[] {
    return this.#files;
  }

  /** Frames written so far. */
  get framesWritten(): number {
    return this.#frames;
  }

  /** Bytes written so far, over all files (headers included). */
  get bytesWritten(): number {
    return this.#bytes + (this.#current?.bytesWritten ?? 0);
  }

  /** The path the next file will have. */
  get nextPath(): string {
    return join(this.directory, this.#names.format(this.#index));
  }

  /**
   * Writes `frame` into the current file, or a new one. Calls are queued and keep their order.
   * @throws StorageError naming the file and the cause (the writer is then failed).
   */
  write(frame: Frame): Promise<void> {
    return this.#serial.run(() => this.#write(frame));
  }

  /**
   * Completes the current file. After a failure, closes without completing it (its `.partial`
   * file stays). Closing twice is a no-op.
   * @throws StorageError if the last file cannot be completed.
   */
  async close(): Promise<void> {
    await this.#serial.idle();
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#dropPrepared();
    await this.#finishFile();
  }

  /** Stops writing and deletes the unfinished current file; completed files stay. Never throws. */
  async abort(): Promise<void> {
    await this.#serial.idle();
    this.#state = 'closed';
    await this.#dropPrepared();
    await this.#current?.abort();
    this.#current = undefined;
  }

  async #write(frame: Frame): Promise<void> {
    if (this.#state !== 'open')
      throw new StorageError(`cannot write into ${this.directory}: the writer is ${this.#state}`, {
        path: this.directory,
      });
    try {
      const { bytesPerFile } = this.#options;
      const current = this.#current;
      if (current !== undefined) {
        const size = current.sizeWith(frame);
        if (size > bytesPerFile || (!current.isBigTiff && size > CLASSIC_LIMIT)) await this.#finishFile();
      }
      if (this.#current === undefined) {
        const path = this.nextPath;
        const options = {
          bigTiff: this.#options.bigTiff,
          expectedBytes: bytesPerFile,
          overwrite: this.#options.overwrite,
          sync: this.#options.sync,
        };
        if (bytesPerFile === 0) {
          const prepared = this.#prepared;
          this.#prepared = undefined;
          const opening = prepared?.path === path ? prepared.writer : TiffWriter.open(path, options);
          if (prepared && prepared.path !== path) await settle(prepared.writer);
          const written = await opening;
          this.#prepare(this.#names.format(this.#index + 1), options);
          await written.writeOnly(frame);
          this.#index += 1;
          this.#frames += 1;
          this.#files.push(written.path);
          this.#bytes += written.bytesWritten;
          return;
        }
        this.#current = await TiffWriter.open(path, options);
        this.#index += 1;
      }
      await this.#current.write(frame);
      this.#frames += 1;
    } catch (error) {
      this.#state = 'failed';
      await this.#current?.close().catch(() => undefined);
      this.#current = undefined;
      throw error;
    }
  }

  /** Starts opening the file after the current one (its errors surface when it is written). */
  #prepare(name: string, options: TiffWriterOptions): void {
    const path = join(this.directory, name);
    const writer = TiffWriter.open(path, options);
    writer.catch(() => undefined); // reported by the write that takes it
    this.#prepared = { path, writer };
  }

  /** Deletes the file opened ahead for a frame that never came. */
  async #dropPrepared(): Promise<void> {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (prepared) await settle(prepared.writer);
  }

  async #finishFile(): Promise<void> {
    const current = this.#current;
    if (current === undefined) return;
    this.#current = undefined;
    await current.close();
    if (current.pageCount > 0) {
      this.#files.push(current.path);
      this.#bytes += current.bytesWritten;
    }
  }
}

/** Aborts a writer opened ahead (deleting its empty `.partial` file); ignores a failed open. */
async function settle(writer: Promise<TiffWriter>): Promise<void> {
  await writer.then(
    (w) => w.abort(),
    () => undefined,
  );
}
