/**
 * Walkers: where an experiment's data goes. A walker has a current directory below its root,
 * moves with `descend`/`ascend`/`home`, hands out dataset writers, and writes text files
 * (experiment logs, JSON metadata).
 * @module
 */
import { inspect } from 'node:util';
import { zinstance, type Frame } from '../core/index.js';
import type { FrameLike } from './formats/tiff-layout.js';

/** Writes the frames of one dataset (e.g. one acquisition in one scan). */
export interface DatasetWriter {
  /** Appends a frame. @throws StorageError (disk full, permission, …) */
  write(frame: Frame): Promise<void>;
  /** Completes the dataset: files are complete afterwards. */
  close(): Promise<void>;
  /** Stops writing; what is unfinished stays marked incomplete. */
  abort(): Promise<void>;
  readonly framesWritten: number;
  readonly bytesWritten: number;
  /** Where the dataset is, for messages. */
  readonly location: string;
}

/** Options of {@link Walker.writer}. */
export interface DatasetOptions {
  /** NXtomo image key for HDF5 output; default from the dataset name (darks, flats) or frame metadata. */
  imageKey?: 'projection' | 'flat' | 'dark';
  /** File names of this dataset (default: the walker's `dsetname`), e.g. `slice_{:04}.tif`; TIFF always, one file per frame. */
  pattern?: string;
}

/** What writing a dataset would take ({@link Walker.estimateDataset}). */
export interface DatasetEstimate {
  bytes: number;
  files: number;
  /** True when `bytes` is exact (TIFF). */
  exact: boolean;
  /** Where the bytes go (for the free-space check). */
  storage: { readonly where: string; free(): Promise<number> };
  /** How the figure was made. */
  note?: string;
}

/** Where data goes. */
export abstract class Walker {
  /** The directory the walker may not leave. */
  abstract readonly root: string;
  /** The current directory (absolute for directory walkers). */
  abstract readonly current: string;
  /** What the prompt prints: `DirectoryWalker /data/scan_0003 (root /data)`. */
  [inspect.custom](): string {
    return `${this.constructor.name} ${this.current}${this.current === this.root ? '' : ` (root ${this.root})`}`;
  }

  /** Enters `name` (a relative path below the current directory), creating it if needed. */
  abstract descend(name: string): Promise<void>;
  /** Goes one level up. @throws StorageError above the root. */
  abstract ascend(): Promise<void>;
  /** Goes back to the root. */
  abstract home(): Promise<void>;
  /** True if `path` (relative to the current directory) exists. */
  abstract exists(...path: string[]): Promise<boolean>;
  /** A writer for dataset `name` in the current directory. @throws StorageError if it already holds data. */
  abstract writer(name: string, options?: DatasetOptions): Promise<DatasetWriter>;
  /** Writes (replaces) a text file in the current directory. */
  abstract writeText(name: string, text: string): Promise<void>;
  /** Appends to a text file in the current directory. */
  abstract appendText(name: string, text: string): Promise<void>;
  /** Finishes pending files (e.g. an HDF5 file shared by several datasets). */
  async flush(): Promise<void> {}
  /**
   * A run is about to use this walker (called by experiments and directors before their first call):
   * a walker whose storage had stopped answering asks it again now rather than failing fast.
   */
  async runStarting(): Promise<void> {}
  /**
   * What writing dataset `name` of `frames` would put on disk, without writing (dry runs);
   * undefined when this walker cannot tell.
   */
  async estimateDataset(
    _name: string,
    _frames: Iterable<FrameLike>,
    _options?: DatasetOptions,
  ): Promise<DatasetEstimate | undefined> {
    return undefined;
  }
}

/** The one way a walker is recognised: the schema of a `walker` option ("must be a Walker"). */
export const zwalker = zinstance(Walker);

/** The image key a dataset name suggests: `darks` → dark, `flats` → flat, anything else projection. */
export function imageKeyFor(name: string): 'projection' | 'flat' | 'dark' {
  const n = name.toLowerCase();
  if (n.startsWith('dark')) return 'dark';
  if (n.startsWith('flat')) return 'flat';
  return 'projection';
}
