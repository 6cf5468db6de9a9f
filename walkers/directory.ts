/**
 * A walker over a directory tree on disk: `await DirectoryWalker.create({ root })`. Data is
 * written as TIFF (one file per frame or multi-page files) or into one NeXus/HDF5 (NXtomo) file
 * per directory.
 * @module
 */
import { appendFile, mkdir, readdir, realpath, stat, statfs, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseOptions, z, type Frame, errorMessage } from '../core/index.js';
import { itemSize } from '../core/frame.js';
import { Walker, imageKeyFor, type DatasetEstimate, type DatasetOptions, type DatasetWriter } from './base.js';
import { Hdf5Writer, MultiFileWriter, parseNamePattern, StorageError, tiffDatasetSize } from './formats/index.js';
import type { FrameLike } from './formats/tiff-layout.js';

/** NXtomo metadata per frame in an HDF5 file (image key, angle, …: an estimate for dry runs). */
const HDF5_BYTES_PER_FRAME = 32;

/** Free space of a local directory (`fs.statfs`). */
function localStorage(root: string): DatasetEstimate['storage'] {
  return {
    where: root,
    async free() {
      const fs = await statfs(root);
      return fs.bavail * fs.bsize;
    },
  };
}

/** How datasets are written (shared by the directory walker, the remote walker and the writer server). */
export const DATASET_LAYOUT_OPTIONS = z.strictObject({
  /** File name pattern of datasets with one index placeholder (default `frame_{:06}.tif`). */
  dsetname: z.string().optional(),
  /** First file index (default 0). */
  startIndex: z.number().int().min(0).optional(),
  /** 0: one TIFF per frame (default); otherwise multi-page TIFFs of at most this many bytes (BigTIFF from 4 GiB). */
  bytesPerFile: z.number().min(0).optional(),
  /** `tiff` (default) or `hdf5` (one NXtomo file per directory, `<directory name>.nxs`). */
  format: z.enum(['tiff', 'hdf5']).optional(),
});

/** The options of {@link DirectoryWalker.create}. */
export const DIRECTORY_WALKER_OPTIONS = DATASET_LAYOUT_OPTIONS.extend({
  /** The root directory (default: the working directory); created if missing. */
  root: z.string().optional(),
});

/** Options of {@link DirectoryWalker.create}. */
export type DirectoryWalkerOptions = z.input<typeof DIRECTORY_WALKER_OPTIONS>;

/** Walks a directory tree below `root`, refusing to leave it. */
export class DirectoryWalker extends Walker {
  readonly root: string;
  #current: string;
  readonly #options: Required<Omit<DirectoryWalkerOptions, 'root'>>;
  readonly #hdf5 = new Map<string, { writer: Hdf5Writer; open: number }>();

  /** Makes the walker (creating the root if needed). @throws OptionError, StorageError */
  static async create(options: DirectoryWalkerOptions = {}): Promise<DirectoryWalker> {
    parseOptions('DirectoryWalker.create', DIRECTORY_WALKER_OPTIONS, options);
    if (options.dsetname !== undefined) parseNamePattern(options.dsetname);
    const root = resolve(options.root ?? process.cwd());
    try {
      await mkdir(root, { recursive: true });
      return new DirectoryWalker(await realpath(root), options);
    } catch (error) {
      throw new StorageError(`cannot use ${root} as the walker root: ${errorMessage(error)}`, {
        path: root,
        cause: error,
      });
    }
  }

  private constructor(root: string, options: DirectoryWalkerOptions) {
    super();
    this.root = root;
    this.#current = root;
    this.#options = {
      dsetname: options.dsetname ?? 'frame_{:06}.tif',
      startIndex: options.startIndex ?? 0,
      bytesPerFile: options.bytesPerFile ?? 0,
      format: options.format ?? 'tiff',
    };
  }

  get current(): string {
    return this.#current;
  }

  /** Checks that `name` stays below the root; returns the absolute path. */
  async #inside(name: string): Promise<string> {
    if (typeof name !== 'string' || name.length === 0)
      throw new StorageError(`a directory name must be a non-empty string, got ${JSON.stringify(name)}`);
    if (isAbsolute(name))
      throw new StorageError(`'${name}' is an absolute path; the walker only goes below ${this.root}`);
    const target = resolve(this.#current, name);
    if (!isBelow(this.root, target)) throw new StorageError(`'${name}' leads out of the walker root ${this.root}`);
    // Symlinks: the real path of the deepest existing ancestor must stay inside too.
    let probe = target;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (!isBelow(this.root, real))
          throw new StorageError(`'${name}' leads out of the walker root ${this.root} (through a symbolic link)`);
        break;
      } catch (error) {
        if (error instanceof StorageError) throw error;
        const parent = resolve(probe, '..');
        if (parent === probe) break;
        probe = parent;
      }
    }
    return target;
  }

  async descend(name: string): Promise<void> {
    const target = await this.#inside(name);
    try {
      await mkdir(target, { recursive: true });
    } catch (error) {
      throw new StorageError(`cannot create ${target}: ${errorMessage(error)}`, { path: target, cause: error });
    }
    this.#current = target;
  }

  async ascend(): Promise<void> {
    if (this.#current === this.root) throw new StorageError(`cannot ascend above the walker root ${this.root}`);
    await this.#closeHdf5(this.#current);
    this.#current = resolve(this.#current, '..');
  }

  async home(): Promise<void> {
    await this.flush();
    this.#current = this.root;
  }

  async exists(...path: string[]): Promise<boolean> {
    const target = await this.#inside(join(...(path.length ? path : ['.'])));
    return stat(target).then(
      () => true,
      () => false,
    );
  }

  async writer(name: string, options: DatasetOptions = {}): Promise<DatasetWriter> {
    if (this.#options.format === 'hdf5' && !options.pattern) return this.#hdf5Writer(name, options);
    const directory = await this.#inside(name);
    await mkdir(directory, { recursive: true }).catch((error: Error) => {
      throw new StorageError(`cannot create ${directory}: ${error.message}`, { path: directory, cause: error });
    });
    const pattern = parseNamePattern(options.pattern ?? this.#options.dsetname);
    const existing = (await readdir(directory)).filter((f) => pattern.matches(f.replace(/\.partial$/, '')));
    if (existing.length > 0)
      throw new StorageError(
        `${directory} is not empty: it already holds ${existing.length} file(s) of the dataset (e.g. ${existing[0]})`,
        { path: directory },
      );
    const writer = await MultiFileWriter.open(directory, {
      pattern: options.pattern ?? this.#options.dsetname,
      startIndex: options.pattern ? 0 : this.#options.startIndex,
      bytesPerFile: options.pattern ? 0 : this.#options.bytesPerFile,
    });
    return {
      write: (frame: Frame) => writer.write(frame),
      close: () => writer.close(),
      abort: () => writer.abort(),
      get framesWritten() {
        return writer.framesWritten;
      },
      get bytesWritten() {
        return writer.bytesWritten;
      },
      location: directory,
    };
  }

  /**
   * TIFF: the bytes and files the writer would write, exact to the byte (the same page layout
   * and file splits). HDF5: the pixels plus the NXtomo metadata of each frame (an estimate).
   */
  override async estimateDataset(
    _name: string,
    frames: Iterable<FrameLike>,
    options: DatasetOptions = {},
  ): Promise<DatasetEstimate> {
    const storage = localStorage(this.root);
    if (this.#options.format === 'hdf5' && !options.pattern) {
      let bytes = 0;
      let count = 0;
      for (const f of frames) {
        bytes += f.shape[0] * f.shape[1] * itemSize(f.dtype) + HDF5_BYTES_PER_FRAME;
        count++;
      }
      return {
        bytes,
        files: count > 0 ? 1 : 0,
        exact: false,
        storage,
        note: 'HDF5: the pixels plus about 32 bytes per frame of NXtomo metadata; the file header is shared by the datasets',
      };
    }
    const size = tiffDatasetSize(frames, { bytesPerFile: options.pattern ? 0 : this.#options.bytesPerFile });
    return { bytes: size.bytes, files: size.files, exact: true, storage };
  }

  /** Datasets of one directory share one NXtomo file, closed when the walker leaves the directory. */
  async #hdf5Writer(name: string, options: DatasetOptions): Promise<DatasetWriter> {
    const directory = this.#current;
    let entry = this.#hdf5.get(directory);
    if (!entry) {
      const path = join(directory, `${directory === this.root ? 'data' : directory.split(sep).pop()}.nxs`);
      entry = { writer: await Hdf5Writer.open(path), open: 0 };
      this.#hdf5.set(directory, entry);
    }
    const { writer } = entry;
    const imageKey = options.imageKey ?? imageKeyFor(name);
    let frames = 0;
    let bytes = 0;
    return {
      write: async (frame: Frame) => {
        await writer.write(frame, { imageKey: (frame.metadata.image_key as 0 | 1 | 2 | undefined) ?? imageKey });
        frames++;
        bytes += frame.data.byteLength;
      },
      close: async () => {},
      abort: async () => {},
      get framesWritten() {
        return frames;
      },
      get bytesWritten() {
        return bytes;
      },
      location: `${writer.path}#${name}`,
    };
  }

  async #closeHdf5(directory: string): Promise<void> {
    const entry = this.#hdf5.get(directory);
    if (!entry) return;
    this.#hdf5.delete(directory);
    await entry.writer.close();
  }

  override async flush(): Promise<void> {
    for (const directory of [...this.#hdf5.keys()]) await this.#closeHdf5(directory);
  }

  async writeText(name: string, text: string): Promise<void> {
    const path = await this.#inside(name);
    await writeFile(path, text).catch((error: Error) => {
      throw new StorageError(`cannot write ${path}: ${error.message}`, { path, cause: error });
    });
  }

  async appendText(name: string, text: string): Promise<void> {
    const path = await this.#inside(name);
    await appendFile(path, text).catch((error: Error) => {
      throw new StorageError(`cannot write ${path}: ${error.message}`, { path, cause: error });
    });
  }
}

function isBelow(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
