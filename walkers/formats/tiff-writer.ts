/**
 * A streaming, multi-page TIFF writer: little-endian, uncompressed, one strip per page by
 * default, classic TIFF or BigTIFF.
 * @module
 */
import { lstat, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { channelsOf, frameBytes, itemSize, pixelFormatOf } from '../../core/frame.js';
import type { Frame } from '../../core/frame.js';
import { Mutex } from '../../core/mutex.js';
import { StorageError, storageError } from './errors.js';
import { CLASSIC_LIMIT, FieldType, Tag, metadataJson, tiffLayout } from './tiff-format.js';
import { align, pageLayout, SOFTWARE } from './tiff-layout.js';

/** Options of {@link TiffWriter.open}. */
export interface TiffWriterOptions {
  /**
   * `true`: BigTIFF (64-bit offsets); `false`: classic TIFF (the file must stay below 4 GiB);
   * `'auto'` (default): BigTIFF when `expectedBytes` reaches 4 GiB or when the first page alone
   * would not fit a classic TIFF, classic TIFF otherwise.
   */
  bigTiff?: boolean | 'auto';
  /** The largest size in bytes the caller expects the file to reach (the `bytesPerFile` of a walker); used by `'auto'`. */
  expectedBytes?: number;
  /** Replace an existing file at `path` (default false: an existing file is a `StorageError`). */
  overwrite?: boolean;
  /** Rows per strip; default: the whole image in one strip. */
  rowsPerStrip?: number;
  /** `fsync` the file before renaming it on close (default false: leave it to the page cache). */
  sync?: boolean;
}

/** Suffix of the file a {@link TiffWriter} writes until it is closed. */
export const PARTIAL_SUFFIX = '.partial';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

interface PageBlock {
  /** Everything before the pixels: [file header], IFD, out-of-line tag values, padding. */
  head: Buffer;
  /** File offset of the position of this IFD's next-IFD field. */
  nextField: number;
  /** File offset just past the pixels. */
  end: number;
}

/**
 * Writes frames as the pages of one TIFF file, streaming: each {@link TiffWriter.write} appends
 * one page (IFD, then the pixels straight from the frame's buffer, without copying them) with the
 * frame metadata as JSON in the ImageDescription tag (270).
 *
 * Crash safety: the file is written as `<path>.partial` and renamed to `path` by
 * {@link TiffWriter.close}, so a file that was never closed (crash, failure, cancellation without
 * close) never appears under its final name. Each page is one `writev` (IFD and pixels) whose
 * IFD already points to where the next page will go; `close()` ends the chain. So in a
 * `.partial` file the IFD chain runs past the end of the file: TIFF readers see it as
 * truncated (libtiff and tifffile still read the pages before the cut).
 *
 * Pixels are written in the host byte order, declared little-endian: big-endian hosts are not
 * supported. Dtypes: uint8, int8, uint16, int16, uint32, int32 (SampleFormat 1/2), float32 and
 * float64 (SampleFormat 3).
 *
 * @example
 * ```ts
 * const writer = await TiffWriter.open('/data/scan_0000/darks.tif', { bigTiff: 'auto' });
 * for await (const frame of camera.stream({ count: 10 })) await writer.write(frame);
 * await writer.close();
 * ```
 */
export class TiffWriter {
  /** The final path of the file (valid once closed). */
  readonly path: string;
  /** The path written until the file is closed: `path` + `.partial`. */
  readonly partialPath: string;
  #handle: FileHandle;
  #options: TiffWriterOptions;
  #bigTiff: boolean | undefined;
  #end = 0;
  #nextField = -1;
  /** The last page written ends the IFD chain (see {@link TiffWriter.writeFile}). */
  #chainEnded = false;
  #pages = 0;
  #state: 'open' | 'closed' | 'failed' = 'open';
  /** Keeps writes in call order; `close`/`abort` wait for them. */
  readonly #serial = new Mutex();
  #lastJson: { frame: Frame; json: Buffer } | undefined;

  private constructor(path: string, handle: FileHandle, options: TiffWriterOptions) {
    this.path = path;
    this.partialPath = path + PARTIAL_SUFFIX;
    this.#handle = handle;
    this.#options = options;
    this.#bigTiff = options.bigTiff === 'auto' || options.bigTiff === undefined ? undefined : options.bigTiff;
  }

  /**
   * Creates `<path>.partial` for writing. Nothing is written until the first frame.
   * @throws StorageError if `path` exists (unless `overwrite`), or the file cannot be created
   * (missing directory, permission denied, …).
   */
  static async open(path: string, options: TiffWriterOptions = {}): Promise<TiffWriter> {
    if (!LITTLE_ENDIAN_HOST)
      throw new StorageError(`cannot write ${path}: big-endian hosts are not supported`, { path });
    const rps = options.rowsPerStrip;
    if (rps !== undefined && (!Number.isInteger(rps) || rps < 1))
      throw new StorageError(`cannot write ${path}: rowsPerStrip must be a positive integer, got ${rps}`, { path });
    const partial = path + PARTIAL_SUFFIX;
    // The existence check and the creation run at once (one trip through libuv's thread pool
    // instead of two); the exclusive create tells a file we made from a leftover `.partial`.
    const [existing, created] = await Promise.allSettled([
      options.overwrite ? Promise.resolve(false) : exists(path),
      open(partial, 'wx'),
    ]);
    if (existing.status === 'fulfilled' && existing.value) {
      if (created.status === 'fulfilled') {
        await created.value.close().catch(() => undefined);
        await rm(partial, { force: true }).catch(() => undefined);
      }
      throw new StorageError(`cannot write ${path}: the file already exists`, { path });
    }
    let handle: FileHandle;
    try {
      if (created.status === 'fulfilled') handle = created.value;
      else if ((created.reason as NodeJS.ErrnoException).code === 'EEXIST') handle = await open(partial, 'w');
      else throw created.reason;
    } catch (error) {
      throw storageError('create', partial, error);
    }
    return new TiffWriter(path, handle, options);
  }

  /**
   * Writes `frame` as a single-page file: the same as open, write, close, with one write call
   * fewer (the page's IFD ends the chain at once). Returns the closed writer (for its `path` and
   * `bytesWritten`).
   * @throws StorageError as {@link TiffWriter.open}, {@link TiffWriter.write} and {@link TiffWriter.close} do;
   * on failure the `.partial` file is deleted.
   */
  static async writeFile(path: string, frame: Frame, options: TiffWriterOptions = {}): Promise<TiffWriter> {
    const writer = await TiffWriter.open(path, options);
    await writer.writeOnly(frame);
    return writer;
  }

  /**
   * Writes `frame` as the only page and closes the file (what {@link TiffWriter.writeFile} does
   * after opening); on failure the `.partial` file is deleted.
   * @internal
   */
  async writeOnly(frame: Frame): Promise<void> {
    try {
      await this.#serial.run(() => this.#write(frame, true));
      await this.close();
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /** Pages written so far. */
  get pageCount(): number {
    return this.#pages;
  }

  /** Size of the file so far, in bytes. */
  get bytesWritten(): number {
    return this.#end;
  }

  /** Whether the file is a BigTIFF; `undefined` while `'auto'` has not decided (before the first page). */
  get isBigTiff(): boolean | undefined {
    return this.#bigTiff;
  }

  /** The size in bytes the file would have after writing `frame` (used to split datasets across files). */
  sizeWith(frame: Frame): number {
    return this.#encode(frame, this.#bigTiff ?? this.#decideBigTiff(frame), true).end;
  }

  /**
   * Appends `frame` as a new page. Calls are queued: they may overlap, pages keep call order.
   * @throws StorageError naming the file and the cause when writing fails (disk full, I/O error);
   * the writer is then failed and every later write rejects. A page that would push a classic
   * TIFF past 4 GiB is refused with a `StorageError` without failing the writer (close it and
   * continue in a new file, or open with `bigTiff: true`).
   */
  write(frame: Frame): Promise<void> {
    return this.#serial.run(() => this.#write(frame));
  }

  /**
   * Finishes the file: closes it and renames `<path>.partial` to `path`. A writer that failed is
   * closed without renaming (the `.partial` file stays); a writer without pages removes its
   * empty `.partial` file and creates nothing. Closing twice is a no-op.
   * @throws StorageError if closing or renaming fails (the `.partial` file then stays).
   */
  async close(): Promise<void> {
    await this.#serial.idle();
    if (this.#state === 'closed') return;
    const failed = this.#state === 'failed';
    this.#state = 'closed';
    try {
      if (!failed && this.#pages > 0 && !this.#chainEnded) {
        // The last IFD points where a next page would go: end the chain there.
        await writeAll(this.#handle, [Buffer.alloc(this.#bigTiff ? 8 : 4)], this.#nextField);
        if (this.#options.sync) await this.#handle.sync();
      }
      await this.#handle.close();
    } catch (error) {
      throw storageError('close', this.partialPath, error);
    }
    if (failed) return;
    try {
      if (this.#pages === 0) await rm(this.partialPath, { force: true });
      else await rename(this.partialPath, this.path);
    } catch (error) {
      throw storageError('rename to its final name', this.partialPath, error);
    }
  }

  /** Closes the file and deletes the `.partial` file: nothing of it remains. Never throws. */
  async abort(): Promise<void> {
    await this.#serial.idle();
    if (this.#state !== 'closed') {
      this.#state = 'closed';
      await this.#handle.close().catch(() => undefined);
    }
    await rm(this.partialPath, { force: true }).catch(() => undefined);
  }

  async #write(frame: Frame, last = false): Promise<void> {
    if (this.#state !== 'open')
      throw new StorageError(`cannot write ${this.partialPath}: the writer is ${this.#state}`, {
        path: this.partialPath,
      });
    const [height, width] = frame.shape;
    const samples = channelsOf(frame);
    if (
      !(height > 0 && width > 0) ||
      frame.data.length !== height * width * samples ||
      frame.data.BYTES_PER_ELEMENT !== itemSize(frame.dtype) ||
      (samples === 3 && frame.dtype !== 'uint8')
    )
      throw new StorageError(
        `cannot write ${this.partialPath}: frame ${frame.metadata.frameNumber} has shape [${height}, ${width}], ` +
          `${pixelFormatOf(frame)} and ${frame.data.length} ${samples === 3 ? 'samples' : 'pixels'}`,
        { path: this.partialPath },
      );
    const bigTiff = this.#bigTiff ?? this.#decideBigTiff(frame);
    const { end } = this.#encode(frame, bigTiff, true);
    if (!bigTiff && end > CLASSIC_LIMIT)
      throw new StorageError(
        `cannot write ${this.partialPath}: page ${this.#pages} would make the classic TIFF larger than 4 GiB ` +
          `(${end} bytes); close it and continue in a new file, or open it with bigTiff: true`,
        { path: this.partialPath },
      );
    const page = this.#encode(frame, bigTiff, false, last);
    const start = this.#end;
    try {
      await writeAll(this.#handle, [page.head, frameBytes(frame)], start);
    } catch (error) {
      this.#state = 'failed';
      throw storageError('write', this.partialPath, error);
    }
    this.#bigTiff = bigTiff;
    this.#end = page.end;
    this.#nextField = page.nextField;
    this.#chainEnded = last;
    this.#pages += 1;
  }

  #decideBigTiff(frame: Frame): boolean {
    if ((this.#options.expectedBytes ?? 0) >= CLASSIC_LIMIT) return true;
    return this.#encode(frame, false, true).end > CLASSIC_LIMIT;
  }

  #description(frame: Frame): Buffer {
    if (this.#lastJson?.frame !== frame) {
      let json: string;
      try {
        json = metadataJson(frame.metadata);
      } catch (error) {
        throw new StorageError(
          `cannot write ${this.partialPath}: the metadata of frame ${String(frame.metadata.frameNumber)} is not JSON-serializable`,
          { path: this.partialPath, cause: error },
        );
      }
      this.#lastJson = { frame, json: Buffer.from(json + '\0', 'latin1') };
    }
    return this.#lastJson.json;
  }

  /** Lays out the page that `frame` would append; with `sizeOnly`, `head` is left empty. */
  #encode(frame: Frame, bigTiff: boolean, sizeOnly = false, last = false): PageBlock {
    const [height, width] = frame.shape;
    // colour (rgb24): 3 interleaved samples per pixel, photometric RGB (2), planar configuration 1
    const samples = channelsOf(frame);
    const perSample = (v: number) => new Array<number>(samples).fill(v);
    const description = this.#description(frame);
    const start = this.#end;
    const layout = pageLayout(
      start,
      { height, width, dtype: frame.dtype, descriptionBytes: description.length, samples },
      bigTiff,
      this.#options.rowsPerStrip,
    );
    const { ifd, extraAt, pixels, nextField, end, stripCounts } = layout;
    if (sizeOnly) return { head: Buffer.alloc(0), nextField, end };
    const [bits, format] = tiffLayout(frame.dtype);
    const stripOffsets: number[] = [];
    for (let s = 0, at = pixels; s < stripCounts.length; s++) {
      stripOffsets.push(at);
      at += stripCounts[s]!;
    }
    const values: Record<number, readonly number[] | Buffer> = {
      [Tag.NewSubfileType]: [0],
      [Tag.ImageWidth]: [width],
      [Tag.ImageLength]: [height],
      [Tag.BitsPerSample]: perSample(bits),
      [Tag.Compression]: [1],
      [Tag.Photometric]: [samples === 3 ? 2 : 1],
      [Tag.ImageDescription]: description,
      [Tag.StripOffsets]: stripOffsets,
      [Tag.SamplesPerPixel]: [samples],
      [Tag.RowsPerStrip]: [layout.rowsPerStrip],
      [Tag.StripByteCounts]: stripCounts,
      [Tag.PlanarConfiguration]: [1],
      [Tag.Software]: SOFTWARE,
      [Tag.SampleFormat]: perSample(format),
    };
    const entries: Entry[] = layout.entries.map(([tag, type]) => [tag, type, values[tag]!]);
    const entrySize = bigTiff ? 20 : 12;
    const countSize = bigTiff ? 8 : 2;
    const head = Buffer.alloc(pixels - start);
    const put = (at: number) => at - start;
    if (start === 0) {
      head.write('II', 0, 'latin1');
      if (bigTiff) {
        head.writeUInt16LE(43, 2);
        head.writeUInt16LE(8, 4);
        head.writeBigUInt64LE(BigInt(ifd), 8);
      } else {
        head.writeUInt16LE(42, 2);
        head.writeUInt32LE(ifd, 4);
      }
    }
    let at = put(ifd);
    if (bigTiff) head.writeBigUInt64LE(BigInt(entries.length), at);
    else head.writeUInt16LE(entries.length, at);
    at += countSize;
    entries.forEach(([tag, type, values], i) => {
      head.writeUInt16LE(tag, at);
      head.writeUInt16LE(type, at + 2);
      if (bigTiff) head.writeBigUInt64LE(BigInt(values.length), at + 4);
      else head.writeUInt32LE(values.length, at + 4);
      const field = at + (bigTiff ? 12 : 8);
      const where = extraAt[i]!;
      if (where >= 0) {
        if (bigTiff) head.writeBigUInt64LE(BigInt(where), field);
        else head.writeUInt32LE(where, field);
      }
      putValues(head, where >= 0 ? put(where) : field, type, values);
      at += entrySize;
    });
    // Each IFD points to where the next page's IFD will start; close() zeroes the last pointer,
    // so one write per page suffices (no patching of the previous IFD).
    const next = last ? 0 : align(end, 8);
    if (bigTiff) head.writeBigUInt64LE(BigInt(next), nextField - start);
    else if (next < CLASSIC_LIMIT) head.writeUInt32LE(next, nextField - start);
    return { head, nextField, end };
  }
}

type Entry = [tag: number, type: number, values: readonly number[] | Buffer];

function putValues(buffer: Buffer, at: number, type: number, values: readonly number[] | Buffer): void {
  if (Buffer.isBuffer(values)) {
    values.copy(buffer, at);
    return;
  }
  values.forEach((value, i) => {
    if (type === FieldType.SHORT) buffer.writeUInt16LE(value, at + 2 * i);
    else if (type === FieldType.LONG) buffer.writeUInt32LE(value, at + 4 * i);
    else buffer.writeBigUInt64LE(BigInt(value), at + 8 * i);
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes every byte of `buffers` at `position`, looping over short writes. @internal */
export async function writeAll(handle: FileHandle, buffers: readonly Uint8Array[], position: number): Promise<void> {
  const pending = buffers.filter((b) => b.byteLength > 0);
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending as Uint8Array[], position);
    if (bytesWritten <= 0) throw new Error('short write (0 bytes written)');
    position += bytesWritten;
    let skip = bytesWritten;
    while (pending.length > 0 && skip >= pending[0]!.byteLength) skip -= pending.shift()!.byteLength;
    if (skip > 0) pending[0] = pending[0]!.subarray(skip);
  }
}
