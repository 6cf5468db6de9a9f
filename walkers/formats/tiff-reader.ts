/**
 * A TIFF reader for grey-scale scientific images: classic TIFF and BigTIFF, little- and
 * big-endian, uncompressed, strips or tiles, one sample per pixel.
 * @module
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { arrayConstructor, itemSize } from '../../core/frame.js';
import type { DType, Frame, FrameMetadata } from '../../core/frame.js';
import { StorageError, storageError } from './errors.js';
import { FIELD_SIZE, FieldType, Tag, dtypeFromLayout } from './tiff-format.js';

/** One page of a TIFF file. */
export interface TiffPage {
  /** 0-based index of the page in the file. */
  readonly index: number;
  /**
   * The pixels. `metadata` is the JSON object of the ImageDescription when it holds one (as
   * {@link TiffWriter} writes it), with `frameNumber` defaulting to the page index and
   * `timestamp` to the file's modification time.
   */
  readonly frame: Frame;
  /** The ImageDescription tag (270), if any, without its trailing NUL. */
  readonly description: string | undefined;
}

type TagValue = number[] | string;

interface Ifd {
  readonly tags: ReadonlyMap<number, TagValue>;
  readonly next: number;
}

const WANTED = new Set<number>(Object.values(Tag));
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/**
 * Reads the pages of a TIFF file one at a time, so that files larger than memory can be
 * streamed. Supports dtypes uint8/int8/uint16/int16/uint32/int32/float32/float64.
 *
 * @example
 * ```ts
 * const reader = await TiffReader.open('/data/scan_0000/frame_000000.tif');
 * try {
 *   for await (const { frame, description } of reader.pages()) console.log(frame.shape, description);
 * } finally {
 *   await reader.close();
 * }
 * ```
 */
export class TiffReader {
  /** The file read. */
  readonly path: string;
  /** Whether the file is a BigTIFF (64-bit offsets). */
  readonly bigTiff: boolean;
  /** Whether the file is little-endian (`II`) rather than big-endian (`MM`). */
  readonly littleEndian: boolean;
  #handle: FileHandle;
  #mtime: number;
  #offsets: number[] = [];
  #next: number;
  #lastIfd: { offset: number; ifd: Ifd } | undefined;

  private constructor(path: string, handle: FileHandle, header: Buffer, mtime: number) {
    this.path = path;
    this.#handle = handle;
    this.#mtime = mtime;
    const order = header.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') throw this.#corrupt('not a TIFF file (bad byte-order mark)');
    this.littleEndian = order === 'II';
    const magic = this.littleEndian ? header.readUInt16LE(2) : header.readUInt16BE(2);
    if (magic !== 42 && magic !== 43) throw this.#corrupt(`not a TIFF file (magic number ${magic})`);
    this.bigTiff = magic === 43;
    this.#next = this.bigTiff ? this.#u64(header, 8) : this.#u32(header, 4);
  }

  /**
   * Opens `path` and reads its header.
   * @throws StorageError if the file cannot be opened or is not a TIFF file.
   */
  static async open(path: string): Promise<TiffReader> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw storageError('open', path, error);
    }
    try {
      const { mtimeMs } = await stat(path);
      const header = Buffer.alloc(16);
      const { bytesRead } = await handle.read(header, 0, 16, 0);
      if (bytesRead < 8) throw new StorageError(`cannot read ${path}: not a TIFF file (${bytesRead} bytes)`, { path });
      return new TiffReader(path, handle, header, mtimeMs);
    } catch (error) {
      await handle.close();
      throw storageError('read', path, error);
    }
  }

  /** Number of pages (walks the whole IFD chain, reading no pixels). */
  async pageCount(): Promise<number> {
    while (await this.#discover());
    return this.#offsets.length;
  }

  /**
   * Reads page `index`.
   * @throws StorageError if there is no such page, or the page is corrupt or unsupported.
   */
  async readPage(index: number): Promise<TiffPage> {
    while (this.#offsets.length <= index && (await this.#discover()));
    const offset = this.#offsets[index];
    if (offset === undefined)
      throw new StorageError(`cannot read ${this.path}: it has no page ${index}`, { path: this.path });
    return this.#readPage(index, (await this.#readIfd(offset)).tags);
  }

  /** Every page in order, each read only when asked for. */
  async *pages(): AsyncGenerator<TiffPage, void, undefined> {
    for (let index = 0; ; index++) {
      while (this.#offsets.length <= index) if (!(await this.#discover())) return;
      yield await this.#readPage(index, (await this.#readIfd(this.#offsets[index]!)).tags);
    }
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#handle.close();
  }

  /** Follows the chain by one IFD; false at its end. */
  async #discover(): Promise<boolean> {
    if (this.#next === 0) return false;
    if (this.#offsets.includes(this.#next)) throw this.#corrupt(`the IFD chain loops at offset ${this.#next}`);
    const offset = this.#next;
    const ifd = await this.#readIfd(offset);
    const { next } = ifd;
    this.#lastIfd = { offset, ifd };
    this.#offsets.push(offset);
    this.#next = next;
    return true;
  }

  async #readIfd(offset: number): Promise<Ifd> {
    if (this.#lastIfd?.offset === offset) return this.#lastIfd.ifd;
    const countSize = this.bigTiff ? 8 : 2;
    const entrySize = this.bigTiff ? 20 : 12;
    const inline = this.bigTiff ? 8 : 4;
    const countBytes = await this.#read(offset, countSize);
    const n = this.bigTiff ? this.#u64(countBytes, 0) : this.#u16(countBytes, 0);
    const body = await this.#read(offset + countSize, n * entrySize + inline);
    const tags = new Map<number, TagValue>();
    for (let i = 0; i < n; i++) {
      const at = i * entrySize;
      const tag = this.#u16(body, at);
      const type = this.#u16(body, at + 2);
      const count = this.bigTiff ? this.#u64(body, at + 4) : this.#u32(body, at + 4);
      const size = (FIELD_SIZE[type] ?? 0) * count;
      if (!WANTED.has(tag) || size === 0) continue;
      const field = at + (this.bigTiff ? 12 : 8);
      const data =
        size <= inline
          ? body.subarray(field, field + size)
          : await this.#read(this.bigTiff ? this.#u64(body, field) : this.#u32(body, field), size);
      tags.set(tag, this.#decode(type, count, data));
    }
    const next = this.bigTiff ? this.#u64(body, n * entrySize) : this.#u32(body, n * entrySize);
    return { tags, next };
  }

  #decode(type: number, count: number, data: Buffer): TagValue {
    if (type === FieldType.ASCII) return data.toString('utf8').replace(/\0+$/, '');
    const values: number[] = [];
    const size = FIELD_SIZE[type]!;
    for (let i = 0; i < count; i++) {
      const at = i * size;
      switch (type) {
        case FieldType.BYTE:
        case FieldType.UNDEFINED:
          values.push(data.readUInt8(at));
          break;
        case FieldType.SBYTE:
          values.push(data.readInt8(at));
          break;
        case FieldType.SHORT:
          values.push(this.#u16(data, at));
          break;
        case FieldType.SSHORT:
          values.push(this.littleEndian ? data.readInt16LE(at) : data.readInt16BE(at));
          break;
        case FieldType.LONG:
        case FieldType.IFD:
          values.push(this.#u32(data, at));
          break;
        case FieldType.SLONG:
          values.push(this.littleEndian ? data.readInt32LE(at) : data.readInt32BE(at));
          break;
        case FieldType.LONG8:
        case FieldType.IFD8:
        case FieldType.SLONG8:
          values.push(this.#u64(data, at));
          break;
        case FieldType.RATIONAL:
          values.push(this.#u32(data, at) / this.#u32(data, at + 4));
          break;
        case FieldType.FLOAT:
          values.push(this.littleEndian ? data.readFloatLE(at) : data.readFloatBE(at));
          break;
        case FieldType.DOUBLE:
          values.push(this.littleEndian ? data.readDoubleLE(at) : data.readDoubleBE(at));
          break;
        default:
          values.push(Number.NaN);
      }
    }
    return values;
  }

  async #readPage(index: number, tags: ReadonlyMap<number, TagValue>): Promise<TiffPage> {
    const num = (tag: number, fallback?: number): number => {
      const value = tags.get(tag);
      const n = Array.isArray(value) ? value[0] : fallback;
      if (n === undefined) throw this.#corrupt(`page ${index} lacks tag ${tag}`);
      return n;
    };
    const nums = (tag: number): number[] => {
      const value = tags.get(tag);
      if (!Array.isArray(value)) throw this.#corrupt(`page ${index} lacks tag ${tag}`);
      return value;
    };
    const width = num(Tag.ImageWidth);
    const height = num(Tag.ImageLength);
    const compression = num(Tag.Compression, 1);
    const samples = num(Tag.SamplesPerPixel, 1);
    const bits = num(Tag.BitsPerSample, 1);
    const format = num(Tag.SampleFormat, 1);
    if (compression !== 1)
      throw this.#unsupported(index, `compression ${compression} (only uncompressed files are read)`);
    if (samples !== 1) throw this.#unsupported(index, `${samples} samples per pixel (only grey-scale images are read)`);
    const dtype = dtypeFromLayout(bits, format);
    if (dtype === undefined) throw this.#unsupported(index, `${bits}-bit samples of SampleFormat ${format}`);
    const size = itemSize(dtype);
    const bytes = new Uint8Array(width * height * size);
    if (tags.has(Tag.TileWidth)) {
      await this.#readTiles(bytes, width, height, size, num(Tag.TileWidth), num(Tag.TileLength), nums(Tag.TileOffsets));
    } else {
      const offsets = nums(Tag.StripOffsets);
      const rowsPerStrip = Math.min(num(Tag.RowsPerStrip, height), height);
      await this.#readStrips(bytes, width * size, height, rowsPerStrip, offsets);
    }
    if (this.littleEndian !== LITTLE_ENDIAN_HOST && size > 1) swapBytes(bytes, size);
    const description = tags.get(Tag.ImageDescription);
    const text = typeof description === 'string' ? description : undefined;
    return { index, description: text, frame: this.#frame(index, bytes, [height, width], dtype, text) };
  }

  async #readStrips(
    bytes: Uint8Array,
    rowBytes: number,
    height: number,
    rowsPerStrip: number,
    offsets: number[],
  ): Promise<void> {
    const strips = Math.ceil(height / rowsPerStrip);
    if (offsets.length < strips) throw this.#corrupt(`${offsets.length} strip offsets for ${strips} strips`);
    let runStart = 0;
    for (let s = 1; s <= strips; s++) {
      const contiguous = s < strips && offsets[s] === offsets[s - 1]! + rowsPerStrip * rowBytes;
      if (contiguous) continue;
      const from = runStart * rowsPerStrip * rowBytes;
      const to = Math.min(s * rowsPerStrip, height) * rowBytes;
      await this.#readInto(bytes.subarray(from, to), offsets[runStart]!);
      runStart = s;
    }
  }

  async #readTiles(
    bytes: Uint8Array,
    width: number,
    height: number,
    size: number,
    tileWidth: number,
    tileHeight: number,
    offsets: number[],
  ): Promise<void> {
    const across = Math.ceil(width / tileWidth);
    const down = Math.ceil(height / tileHeight);
    if (offsets.length < across * down)
      throw this.#corrupt(`${offsets.length} tile offsets for ${across * down} tiles`);
    const tile = new Uint8Array(tileWidth * tileHeight * size);
    for (let t = 0; t < across * down; t++) {
      const x = (t % across) * tileWidth;
      const y = Math.floor(t / across) * tileHeight;
      await this.#readInto(tile, offsets[t]!);
      const rowBytes = Math.min(tileWidth, width - x) * size;
      for (let r = 0; r < Math.min(tileHeight, height - y); r++) {
        const src = r * tileWidth * size;
        bytes.set(tile.subarray(src, src + rowBytes), ((y + r) * width + x) * size);
      }
    }
  }

  #frame(
    index: number,
    bytes: Uint8Array,
    shape: [number, number],
    dtype: DType,
    description: string | undefined,
  ): Frame {
    let parsed: unknown;
    try {
      parsed = description === undefined ? undefined : JSON.parse(description);
    } catch {
      parsed = undefined;
    }
    const extra =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : {};
    const metadata: FrameMetadata = { frameNumber: index, timestamp: this.#mtime, ...extra };
    const data = new (arrayConstructor(dtype))(bytes.buffer, bytes.byteOffset, bytes.byteLength / itemSize(dtype));
    return { data, shape, dtype, metadata };
  }

  async #read(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    await this.#readInto(buffer, position);
    return buffer;
  }

  async #readInto(target: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < target.byteLength) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.#handle.read(target, done, target.byteLength - done, position + done));
      } catch (error) {
        throw storageError('read', this.path, error);
      }
      if (bytesRead === 0) throw this.#corrupt(`truncated: ${target.byteLength} bytes expected at offset ${position}`);
      done += bytesRead;
    }
  }

  #u16(b: Buffer, at: number): number {
    return this.littleEndian ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }

  #u32(b: Buffer, at: number): number {
    return this.littleEndian ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  #u64(b: Buffer, at: number): number {
    return Number(this.littleEndian ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));
  }

  #corrupt(what: string): StorageError {
    return new StorageError(`cannot read ${this.path}: ${what}`, { path: this.path });
  }

  #unsupported(index: number, what: string): StorageError {
    return new StorageError(`cannot read ${this.path}: page ${index} has ${what}`, { path: this.path });
  }
}

/** Reverses the bytes of every `size`-byte item in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/**
 * Reads every page of a TIFF file into memory.
 * @throws StorageError if the file cannot be read, is corrupt, or is unsupported.
 */
export async function readTiff(path: string): Promise<TiffPage[]> {
  const reader = await TiffReader.open(path);
  try {
    const pages: TiffPage[] = [];
    for await (const page of reader.pages()) pages.push(page);
    return pages;
  } finally {
    await reader.close();
  }
}
