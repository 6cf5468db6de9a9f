/**
 * An HDF5 writer of NeXus NXtomo files (h5wasm: HDF5 compiled to WebAssembly).
 * @module
 */
import { lstat, open, rm } from 'node:fs/promises';
import type { Dataset, File as H5File, Group } from 'h5wasm';
import { pixelFormatOf, type DType, type Frame, type PixelArray } from '../../core/frame.js';
import { Mutex } from '../../core/mutex.js';
import { StorageError, storageError } from './errors.js';

/** NXtomo image keys: what a frame shows. */
export const IMAGE_KEY = { projection: 0, flat: 1, dark: 2 } as const;

/** 0 projection, 1 flat field, 2 dark field (NXtomo `image_key`). */
export type ImageKey = (typeof IMAGE_KEY)[keyof typeof IMAGE_KEY];

/** Per-frame NXtomo information; each field overrides the frame metadata. */
export interface NxTomoFrameInfo {
  /** `image_key` of the frame (default: metadata `image_key`, else 0 = projection). */
  imageKey?: ImageKey | keyof typeof IMAGE_KEY;
  /** Rotation angle in degrees (default: metadata `angle`, else NaN = unknown). */
  angle?: number;
}

/** Options of {@link Hdf5Writer.open}. */
export interface Hdf5WriterOptions {
  /** Replace an existing file (default false: an existing file is a `StorageError`). */
  overwrite?: boolean;
  /** Flush HDF5 metadata to the file every this many frames (default 1), so that an unclosed file stays readable. */
  flushEvery?: number;
}

const H5_DTYPE: Readonly<Record<DType, string>> = {
  uint8: '<B',
  int8: '<b',
  uint16: '<H',
  int16: '<h',
  uint32: '<I',
  int32: '<i',
  float32: '<f',
  float64: '<d',
};

type H5Api = typeof import('h5wasm/node');
/** The wasm module: its functions return HDF5's status codes, which the high-level API drops. */
type H5Module = Awaited<H5Api['ready']>;
let h5wasm: Promise<{ api: H5Api; low: H5Module }> | undefined;

/** Loads h5wasm once per process. */
async function loadH5wasm(): Promise<{ api: H5Api; low: H5Module }> {
  h5wasm ??= import('h5wasm/node').then(async (module) => {
    const low = await module.ready;
    return { api: module, low };
  });
  return h5wasm;
}

/** Throws when an HDF5 call reports failure (h5wasm prints HDF5's diagnostics to stderr). */
function check(status: number | bigint, what: string): void {
  if (status < 0) throw new Error(`HDF5 failed to ${what} (status ${status}; see the HDF5-DIAG output)`);
}

/** Grows `dataset` to `n + 1` entries along its first axis and writes `data` as entry `n`, checking every status. */
function append(low: H5Module, dataset: Dataset, n: number, inner: readonly number[], data: PixelArray): void {
  check(low.resize_dataset(dataset.file_id, dataset.path, [n + 1, ...inner].map(BigInt)), `resize ${dataset.path}`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const pointer = low._malloc(bytes.byteLength);
  if (pointer === 0) throw new Error(`out of WebAssembly memory for ${bytes.byteLength} bytes`);
  try {
    low.HEAPU8.set(bytes, pointer);
    const count = [1n, ...inner.map(BigInt)];
    const offset = [BigInt(n), ...inner.map(() => 0n)];
    const strides = count.map(() => 1n);
    check(
      low.set_dataset_data(dataset.file_id, dataset.path, count, offset, strides, BigInt(pointer)),
      `write ${dataset.path}`,
    );
  } finally {
    low._free(pointer);
  }
}

interface Detector {
  data: Dataset;
  imageKey: Dataset;
  angle: Dataset;
  shape: readonly [number, number];
  dtype: DType;
}

/**
 * Writes frames of several acquisitions (darks, flats, projections) into one NeXus NXtomo file:
 *
 * ```text
 * /entry                              NXentry, definition = "NXtomo", complete = 0 → 1 on close
 *   instrument/detector/data          [n, H, W] extendable, chunks [1, H, W]
 *   instrument/detector/image_key     [n] int32: 0 projection, 1 flat, 2 dark
 *   sample/rotation_angle             [n] float64, units "degree"
 *   data/{data,image_key,rotation_angle}  NXdata: soft links to the above, signal = "data"
 * ```
 *
 * Crash safety: `/entry@complete` is 0 until {@link Hdf5Writer.close} sets it to 1. Metadata is
 * flushed every `flushEvery` frames, so a file that was never closed is readable up to its
 * last flushed frame and recognizably incomplete. h5wasm is synchronous: each write blocks the
 * event loop for the time HDF5 takes to store the frame (≈ 15–35 ms for 2048² uint16).
 *
 * @example
 * ```ts
 * const writer = await Hdf5Writer.open('/data/scan_0000/tomo.nx');
 * for await (const frame of darks) await writer.write(frame, { imageKey: 'dark' });
 * for await (const frame of projections) await writer.write(frame); // metadata.angle in degrees
 * await writer.close();
 * ```
 */
export class Hdf5Writer {
  /** The file written. */
  readonly path: string;
  #file: H5File;
  #low: H5Module;
  #entry: Group;
  #detector: Detector | undefined;
  #frames = 0;
  #flushEvery: number;
  #state: 'open' | 'closed' | 'failed' = 'open';
  /** Keeps writes in call order; `close`/`abort` wait for them. */
  readonly #serial = new Mutex();

  private constructor(path: string, file: H5File, low: H5Module, flushEvery: number) {
    this.path = path;
    this.#file = file;
    this.#low = low;
    this.#flushEvery = flushEvery;
    const entry = file.create_group('entry');
    entry.create_attribute('NX_class', 'NXentry');
    entry.create_attribute('complete', 0);
    entry.create_dataset({ name: 'definition', data: 'NXtomo' });
    file.create_group('entry/instrument').create_attribute('NX_class', 'NXinstrument');
    file.create_group('entry/instrument/detector').create_attribute('NX_class', 'NXdetector');
    file.create_group('entry/sample').create_attribute('NX_class', 'NXsample');
    const data = file.create_group('entry/data');
    data.create_attribute('NX_class', 'NXdata');
    data.create_attribute('signal', 'data');
    data.create_soft_link('/entry/instrument/detector/data', 'data');
    data.create_soft_link('/entry/instrument/detector/image_key', 'image_key');
    data.create_soft_link('/entry/sample/rotation_angle', 'rotation_angle');
    check(low.flush(file.file_id), 'flush');
    this.#entry = entry;
  }

  /**
   * Creates the file with its NXtomo groups.
   * @throws StorageError if the file exists (unless `overwrite`) or cannot be created.
   */
  static async open(path: string, options: Hdf5WriterOptions = {}): Promise<Hdf5Writer> {
    const flushEvery = options.flushEvery ?? 1;
    if (!Number.isInteger(flushEvery) || flushEvery < 1)
      throw new StorageError(`cannot write ${path}: flushEvery must be a positive integer, got ${flushEvery}`, {
        path,
      });
    if (
      !options.overwrite &&
      (await lstat(path).then(
        () => true,
        () => false,
      ))
    )
      throw new StorageError(`cannot write ${path}: the file already exists`, { path });
    try {
      // Create the file with Node first: HDF5 reports a failed create only on stderr.
      await (await open(path, 'w')).close();
    } catch (error) {
      throw storageError('create', path, error);
    }
    const { api, low } = await loadH5wasm();
    let file: H5File | undefined;
    try {
      file = new api.File(path, 'w');
      check(file.file_id, 'create the file');
      return new Hdf5Writer(path, file, low, flushEvery);
    } catch (error) {
      try {
        file?.close();
      } catch {
        // already reporting the original error
      }
      throw storageError('create', path, error);
    }
  }

  /** Frames written so far. */
  get frameCount(): number {
    return this.#frames;
  }

  /**
   * Appends `frame` to `/entry/instrument/detector/data` with its image key and rotation angle.
   * Every frame of a file must have the shape and dtype of the first one.
   * @throws StorageError for a frame of another shape or dtype, a bad image key, or a failed write.
   */
  write(frame: Frame, info: NxTomoFrameInfo = {}): Promise<void> {
    return this.#serial.run(() => this.#write(frame, info));
  }

  /**
   * Marks the file complete (`/entry@complete = 1`) and closes it. A writer that failed is closed
   * without being marked complete. Closing twice is a no-op.
   * @throws StorageError if HDF5 cannot finish the file.
   */
  async close(): Promise<void> {
    await this.#serial.idle();
    if (this.#state === 'closed') return;
    const failed = this.#state === 'failed';
    this.#state = 'closed';
    try {
      if (!failed) {
        this.#entry.delete_attribute('complete');
        this.#entry.create_attribute('complete', 1);
        check(this.#low.flush(this.#file.file_id), 'flush');
      }
      check(this.#file.close(), 'close the file');
    } catch (error) {
      throw storageError('close', this.path, error);
    }
  }

  /** Closes the file and deletes it. Never throws. */
  async abort(): Promise<void> {
    await this.#serial.idle();
    if (this.#state !== 'closed') {
      this.#state = 'closed';
      try {
        this.#file.close();
      } catch {
        // the file is deleted anyway
      }
    }
    await rm(this.path, { force: true }).catch(() => undefined);
  }

  async #write(frame: Frame, info: NxTomoFrameInfo): Promise<void> {
    if (this.#state !== 'open')
      throw new StorageError(`cannot write ${this.path}: the writer is ${this.#state}`, { path: this.path });
    if (frame.channels !== undefined)
      throw new StorageError(
        `cannot write ${this.path}: NXtomo holds grey frames, frame ${frame.metadata.frameNumber} is ${pixelFormatOf(frame)} ` +
          "(colour): set the camera's pixelFormat to gray8 or gray16le, or write TIFF",
        { path: this.path },
      );
    const imageKey = this.#imageKey(frame, info);
    const angle = info.angle ?? (typeof frame.metadata['angle'] === 'number' ? frame.metadata['angle'] : Number.NaN);
    const [height, width] = frame.shape;
    if (frame.data.length !== height * width || !(height > 0 && width > 0))
      throw new StorageError(
        `cannot write ${this.path}: frame ${frame.metadata.frameNumber} has shape [${height}, ${width}] but ${frame.data.length} pixels`,
        { path: this.path },
      );
    const detector = this.#detector;
    if (
      detector !== undefined &&
      (detector.dtype !== frame.dtype || detector.shape[0] !== height || detector.shape[1] !== width)
    )
      throw new StorageError(
        `cannot write ${this.path}: frame ${frame.metadata.frameNumber} is ${frame.dtype} [${height}, ${width}] but the ` +
          `dataset holds ${detector.dtype} [${detector.shape.join(', ')}]`,
        { path: this.path },
      );
    try {
      const n = this.#frames;
      this.#detector ??= this.#createDatasets(frame);
      const { data, imageKey: keys, angle: angles } = this.#detector;
      append(this.#low, data, n, [height, width], frame.data);
      append(this.#low, keys, n, [], new Int32Array([imageKey]));
      append(this.#low, angles, n, [], new Float64Array([angle]));
      this.#frames = n + 1;
      if (this.#frames % this.#flushEvery === 0) check(this.#low.flush(this.#file.file_id), 'flush');
    } catch (error) {
      this.#state = 'failed';
      throw storageError('write', this.path, error);
    }
  }

  #imageKey(frame: Frame, info: NxTomoFrameInfo): ImageKey {
    const given = info.imageKey ?? frame.metadata['image_key'] ?? 0;
    const key =
      typeof given === 'string' && Object.hasOwn(IMAGE_KEY, given) ? IMAGE_KEY[given as keyof typeof IMAGE_KEY] : given;
    if (key !== 0 && key !== 1 && key !== 2)
      throw new StorageError(
        `cannot write ${this.path}: frame ${frame.metadata.frameNumber} has image_key ${JSON.stringify(given)}; ` +
          `expected 0 (projection), 1 (flat) or 2 (dark)`,
        { path: this.path },
      );
    return key;
  }

  /** Creates the three extendable datasets, empty: every frame then goes through the same checked `append`. */
  #createDatasets(frame: Frame): Detector {
    const [height, width] = frame.shape;
    const detector = this.#file.get('entry/instrument/detector') as Group;
    const sample = this.#file.get('entry/sample') as Group;
    const empty = (name: string, group: Group, dtype: string, inner: number[], chunk: number[]) => {
      const dataset = group.create_dataset({
        name,
        data: new Uint8Array(0),
        shape: [0, ...inner],
        maxshape: [null, ...inner],
        chunks: chunk,
        dtype,
      });
      if (dataset.shape?.[0] !== 0) throw new Error(`HDF5 failed to create ${group.path}/${name}`);
      return dataset;
    };
    const data = empty('data', detector, H5_DTYPE[frame.dtype], [height, width], [1, height, width]);
    const keys = empty('image_key', detector, '<i', [], [4096]);
    const angles = empty('rotation_angle', sample, '<d', [], [4096]);
    angles.create_attribute('units', 'degree');
    return { data, imageKey: keys, angle: angles, shape: [height, width], dtype: frame.dtype };
  }
}
