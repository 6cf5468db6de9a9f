/**
 * A camera that replays TIFF files: a directory, a glob (`/data/radios/*.tif`) or one file, single-
 * or multi-page, e.g. what our `TiffWriter` wrote. Frames are cropped to the ROI and paced to the
 * frame rate (AUTO trigger) or taken on `trigger()` (SOFTWARE). After the last page it starts over.
 * `import { FileCamera } from 'concert/devices/cameras/file'`.
 * @module
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { makeFrame, OptionError, ParameterError, z, type DType, type Frame } from '../../core/index.js';
import type { FrameFormat } from './base.js';
import { TiffReader } from '../../walkers/formats/index.js';
import { SIMULATED_CAMERA_OPTIONS, SimulatedCamera } from './simulated.js';
import { cropToRoi } from './timing.js';

/** The options of {@link FileCamera.create}. */
export const FILE_CAMERA_OPTIONS = SIMULATED_CAMERA_OPTIONS.extend({
  /** A directory (all `*.tif`/`*.tiff` in it), a glob in the last path component (`*`, `?`), or one file. */
  pattern: z.string().min(1),
});

/** Options of {@link FileCamera.create}. */
export type FileCameraOptions = z.input<typeof FILE_CAMERA_OPTIONS>;

/** One page of the sequence. */
interface Entry {
  path: string;
  page: number;
}

const GLOB = /[*?]/;
const TIFF = /\.tiff?$/i;

/** The files `pattern` names, in natural order (`frame_2` before `frame_10`). */
async function listFiles(pattern: string): Promise<string[]> {
  const path = resolve(pattern);
  const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  if (!GLOB.test(path)) {
    const info = await stat(path).catch((error: Error) => {
      throw new OptionError(`FileCamera: cannot read ${path}: ${error.message}`, { cause: error });
    });
    if (!info.isDirectory()) return [path];
    return (await readdir(path))
      .filter((f) => TIFF.test(f))
      .sort(byName)
      .map((f) => join(path, f));
  }
  const directory = dirname(path);
  if (GLOB.test(directory))
    throw new OptionError(`FileCamera: wildcards are only allowed in the file name, got '${pattern}'`);
  const source = basename(path)
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const regex = new RegExp(`^${source}$`);
  const names = await readdir(directory).catch((error: Error) => {
    throw new OptionError(`FileCamera: cannot read ${directory}: ${error.message}`, { cause: error });
  });
  return names
    .filter((f) => regex.test(f))
    .sort(byName)
    .map((f) => join(directory, f));
}

/** A camera whose sensor is a sequence of TIFF files. */
export class FileCamera extends SimulatedCamera {
  static override readonly options = FILE_CAMERA_OPTIONS;

  #pattern: string;
  #entries: Entry[] = [];
  #sensor = { width: 0, height: 0 };
  #dtype: DType = 'uint16';
  #index = 0;
  #reader: TiffReader | undefined;

  constructor(options?: FileCameraOptions) {
    super(options);
    if (typeof options?.pattern !== 'string' || options.pattern.length === 0)
      throw new OptionError(`FileCamera.create: option 'pattern' is required (a directory, a glob or a TIFF file)`);
    this.#pattern = options.pattern;
  }

  /** The pattern the frames come from. */
  get pattern(): string {
    return this.#pattern;
  }

  /** How many frames (pages) the sequence has. */
  get length(): number {
    return this.#entries.length;
  }

  /** The files of the sequence, in order. */
  get files(): string[] {
    return [...new Set(this.#entries.map((e) => e.path))];
  }

  protected override async connect(): Promise<void> {
    await this.#load(this.#pattern);
  }

  /**
   * Replays another sequence (only in standby). The ROI is kept if it fits the new frames,
   * otherwise it becomes the whole frame; the sequence starts from its first frame.
   * @throws OptionError if the pattern names no readable TIFF files.
   */
  async setPattern(pattern: string): Promise<void> {
    if (this.state.current !== 'standby')
      throw new ParameterError(
        `${this.name}: the pattern can only change in standby (state is '${this.state.current}')`,
      );
    await this.#load(pattern);
    this.#pattern = pattern;
  }

  async #load(pattern: string): Promise<void> {
    const files = await listFiles(pattern);
    if (files.length === 0) throw new OptionError(`${this.name}: '${pattern}' names no TIFF files`);
    const entries: Entry[] = [];
    let sensor: { width: number; height: number } | undefined;
    let dtype: DType = 'uint16';
    for (const path of files) {
      const reader = await TiffReader.open(path);
      try {
        const pages = await reader.pageCount();
        if (!sensor && pages > 0) {
          const { frame } = await reader.readPage(0);
          const [height, width] = frame.shape;
          sensor = { width, height };
          dtype = frame.dtype;
        }
        for (let page = 0; page < pages; page++) entries.push({ path, page });
      } finally {
        await reader.close();
      }
    }
    if (!sensor) throw new OptionError(`${this.name}: '${pattern}' holds no images`);
    await this.#closeReader();
    this.#entries = entries;
    this.#index = 0;
    const r = this.roi;
    const fits = r.width > 0 && r.height > 0 && r.x0 + r.width <= sensor.width && r.y0 + r.height <= sensor.height;
    this.#sensor = sensor;
    this.#dtype = dtype;
    if (!fits) this.roi = { x0: 0, y0: 0, ...sensor };
  }

  protected async readSensorSize(): Promise<{ width: number; height: number }> {
    return { ...this.#sensor };
  }

  /** The first file's dtype; frames carry their file and page. */
  protected override async frameFormat(): Promise<FrameFormat> {
    const entry = this.#entries[0];
    return {
      ...(await super.frameFormat()),
      dtype: this.#dtype,
      metadata: { file: entry?.path ?? '', page: entry?.page ?? 0 },
    };
  }

  protected override async recordHook(start: boolean): Promise<void> {
    this.#index = 0;
    await super.recordHook(start);
    if (!start) await this.#closeReader();
  }

  protected override async readoutHook(start: boolean): Promise<void> {
    this.#index = 0;
    if (!start) await this.#closeReader();
  }

  protected async grabHook(signal: AbortSignal): Promise<Frame> {
    if (this.state.current === 'recording') {
      await this.nextFrame(signal);
    }
    const entry = this.#entries[this.#index++ % this.#entries.length]!;
    if (this.#reader?.path !== entry.path) {
      await this.#closeReader();
      this.#reader = await TiffReader.open(entry.path);
    }
    const page = await this.#reader.readPage(entry.page);
    signal.throwIfAborted();
    return this.#crop(page.frame, entry);
  }

  protected override async disconnectHook(): Promise<void> {
    await this.#closeReader();
  }

  async #closeReader(): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    await reader?.close().catch(() => undefined);
  }

  /** The ROI of `frame`, with the file's metadata (but a fresh timestamp). */
  #crop(frame: Frame, entry: Entry): Frame {
    const [fullHeight, fullWidth] = frame.shape;
    const { width, height } = this.roi;
    if (fullWidth !== this.#sensor.width || fullHeight !== this.#sensor.height)
      throw new ParameterError(
        `${this.name}: ${entry.path} page ${entry.page} is ${fullWidth}×${fullHeight} px, but the sequence started with ` +
          `${this.#sensor.width}×${this.#sensor.height} px`,
      );
    const { frameNumber: _n, timestamp: _t, ...metadata } = frame.metadata;
    const extra = { ...metadata, file: entry.path, page: entry.page, timestamp: Date.now() };
    return makeFrame(cropToRoi(frame.data, fullWidth, fullHeight, this.roi), [height, width], extra);
  }
}
