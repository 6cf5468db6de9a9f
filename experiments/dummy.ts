/**
 * Experiments that work out of the box, without hardware:
 * - {@link ImagingExperiment}: a continuous tomography at a simulated synchrotron (dummy camera,
 *   shutter, flat motor and rotation motor) of a small phantom; a run takes a second or two.
 * - {@link ImagingFileExperiment}: replays darks, flats and projections from TIFF files (e.g. ones
 *   an earlier run wrote) through a `FileCamera`.
 * @module
 */
import { isAbsolute, join } from 'node:path';
import {
  makeFrame,
  OptionError,
  ParameterError,
  parseOptions,
  q,
  registerDevice,
  z,
  zinstance,
  zq,
  type Frame,
  type OptionsSchema,
} from '../core/index.js';
import { FileCamera } from '../devices/cameras/file.js';
import * as cameras from '../devices/cameras/dummy.js';
import * as motors from '../devices/motors/dummy.js';
import * as shutters from '../devices/shutters/dummy.js';
import { Acquisition } from './acquisition.js';
import { Experiment, EXPERIMENT_OPTIONS } from './experiment.js';
import { autoFrames, ContinuousTomography, IMAGE_KEYS, shutterExposure, zcount } from './imaging.js';

/** The options of {@link ImagingExperiment.create}. */
export const DUMMY_IMAGING_OPTIONS = EXPERIMENT_OPTIONS.extend({
  /** Number of dark fields (default 10). */
  numDarks: zcount.optional(),
  /** Number of flat fields (default 10). */
  numFlats: zcount.optional(),
  /** Number of projections (default 100). */
  numProjections: z.number().int().min(1).optional(),
  /** Frame width in pixels (default 64). */
  width: z.number().int().min(1).max(4096).optional(),
  /** Frame height in pixels (default 32). */
  height: z.number().int().min(1).max(4096).optional(),
  /** Camera frame rate (default 100 Hz). */
  frameRate: zq('Hz').optional(),
});

/** Options of {@link ImagingExperiment.create}. */
export type DummyImagingOptions = z.input<typeof DUMMY_IMAGING_OPTIONS>;

/** Where the dummy flat motor takes flats (projections at 0 mm). */
const FLAT_POSITION = 10;

/** The dummy devices of an {@link ImagingExperiment} (`<experiment name>.camera`, …), registered as `create()` would. */
function dummyDevices(options: DummyImagingOptions) {
  const width = options.width ?? 64;
  const height = options.height ?? 32;
  // Named after the experiment, so that two of them do not share names in snapshots.
  const prefix = `${options.name ?? 'imagingExperiment'}.`;
  const shutter = new shutters.DummyShutter({ name: `${prefix}shutter` });
  const flatMotor = new motors.DummyLinearMotor({ name: `${prefix}flatMotor`, motionVelocity: q('1000 mm/s') });
  const tomographyMotor = new motors.DummyContinuousRotationMotor({
    name: `${prefix}tomographyMotor`,
    motionVelocity: q('36000 deg/s'),
  });
  const camera = new cameras.DummyCamera({
    name: `${prefix}camera`,
    width,
    height,
    frameRate: options.frameRate ?? q('100 Hz'),
    render: (_index, roi) =>
      phantom(
        roi,
        shutter.state.current === 'open',
        Math.abs(flatMotor.motion.position() - FLAT_POSITION) > FLAT_POSITION / 2,
        tomographyMotor.motion.position(),
        width,
      ),
  });
  for (const device of [shutter, flatMotor, tomographyMotor, camera]) registerDevice(device);
  return { camera, shutter, flatMotor, tomographyMotor };
}

/** Pixel values of the simulated beam: dark current, and the open beam on top of it. */
const DARK = 100;
const BEAM = 1000;

/**
 * A continuous tomography of a simulated sample (an off-centre disc) with dummy devices, made by
 * the constructor: `camera`, `shutter`, `flatMotor` (flats at 10 mm, projections at 0 mm) and
 * `tomographyMotor`. Darks read 100, flats 1100, projections 100 + 1000·exp(−µ·chord).
 * @example
 * ```ts
 * const exp = await ImagingExperiment.create({ walker: await DirectoryWalker.create({ root: '/tmp/data' }) });
 * await ImageWriter.create(exp);
 * await exp.run();
 * ```
 */
export class ImagingExperiment extends ContinuousTomography {
  static override readonly options: OptionsSchema = DUMMY_IMAGING_OPTIONS;
  /** The dummy beam shutter (the experiment's exposure). */
  readonly shutter: shutters.DummyShutter;

  /** Makes the dummy devices (registered like devices made with `create()`) and the experiment. @throws OptionError */
  constructor(options: DummyImagingOptions = {}) {
    const { width: _w, height: _h, frameRate: _f, ...rest } = options;
    const { shutter, ...devices } = dummyDevices(options);
    super({
      numDarks: 10,
      numFlats: 10,
      numProjections: 100,
      ...rest,
      ...devices,
      exposure: shutterExposure(shutter),
      radioPosition: q(0, 'mm'),
      flatPosition: q(FLAT_POSITION, 'mm'),
    });
    this.shutter = shutter;
  }

  /** The dummy devices; they are disconnected by {@link disconnect}. */
  async disconnect(): Promise<void> {
    await Promise.all([this.camera, this.shutter, this.flatMotor, this.tomographyMotor].map((d) => d.disconnect()));
  }
}

/**
 * One frame of the simulated sample: a disc of radius width/5 whose centre circles the rotation
 * axis at width/5. `beam`: the shutter is open; `inBeam`: the sample is in the beam.
 */
function phantom(
  roi: { x0: number; y0: number; width: number; height: number },
  beam: boolean,
  inBeam: boolean,
  angleDeg: number,
  sensorWidth: number,
): Frame {
  const data = new Uint16Array(roi.width * roi.height);
  const row = new Uint16Array(roi.width);
  const radius = sensorWidth / 5;
  const centre = sensorWidth / 2 + (sensorWidth / 5) * Math.cos((angleDeg * Math.PI) / 180);
  const mu = 2 / sensorWidth;
  for (let c = 0; c < roi.width; c++) {
    const x = roi.x0 + c + 0.5 - centre;
    const chord = Math.abs(x) < radius ? 2 * Math.sqrt(radius * radius - x * x) : 0;
    row[c] = !beam ? DARK : DARK + Math.round(BEAM * (inBeam ? Math.exp(-mu * chord) : 1));
  }
  for (let r = 0; r < roi.height; r++) data.set(row, r * roi.width);
  return makeFrame(data, [roi.height, roi.width]);
}

/** The options of {@link ImagingFileExperiment.create}. */
export const IMAGING_FILE_OPTIONS = EXPERIMENT_OPTIONS.extend({
  /** Replays the files (default: a new `FileCamera` at 100 Hz). Set its ROI and frame rate as with a real camera. */
  camera: zinstance(FileCamera).optional(),
  /** Where the patterns are (default: the working directory). */
  directory: z.string().optional(),
  /** Directory, glob or file of the dark fields, relative to `directory` (default `darks`). */
  darksPattern: z.string().optional(),
  /** … of the flat fields (default `flats`). */
  flatsPattern: z.string().optional(),
  /** … of the projections (default `radios`). */
  radiosPattern: z.string().optional(),
  /** Dark fields per run (default: every frame of their files, once). */
  numDarks: zcount.optional(),
  /** Flat fields per run (default: every frame of their files, once). */
  numFlats: zcount.optional(),
  /** Projections per run (default: every frame of their files, once). */
  numRadios: zcount.optional(),
});

/** Options of {@link ImagingFileExperiment.create}. */
export type ImagingFileOptions = z.input<typeof IMAGING_FILE_OPTIONS>;

/**
 * Replays an imaging data set from TIFF files as the acquisitions `darks`, `flats` and `radios`
 * (tagged with `image_key` 2, 1, 0), paced at the camera's frame rate and cropped to its ROI.
 * @example
 * ```ts
 * const camera = await FileCamera.create({ pattern: '/data/scan_0000/radios' });
 * await camera.roiHeight.set(q('200 px'));
 * const exp = await ImagingFileExperiment.create({ camera, directory: '/data/scan_0000', walker });
 * ```
 */
export class ImagingFileExperiment extends Experiment {
  static override readonly options: OptionsSchema = IMAGING_FILE_OPTIONS;

  readonly camera: FileCamera;
  /** Where the files are. */
  readonly directory: string;
  readonly numDarks = this.parameter<number>('numDarks', this.#count('numDarks'));
  readonly numFlats = this.parameter<number>('numFlats', this.#count('numFlats'));
  readonly numRadios = this.parameter<number>('numRadios', this.#count('numRadios'));
  readonly #counts: Record<string, number>;
  readonly #patterns: { darks: string; flats: string; radios: string };

  /**
   * Makes the experiment (and a `FileCamera` unless one is given); counts the frames of each
   * pattern that has no number given.
   * @throws OptionError for bad options or a pattern without TIFF files.
   */
  static override async create(options: ImagingFileOptions | Acquisition[]): Promise<ImagingFileExperiment> {
    if (Array.isArray(options))
      throw new OptionError(
        'ImagingFileExperiment.create takes one options object ({ directory, darksPattern, … }), not acquisitions',
      );
    parseOptions('ImagingFileExperiment.create', IMAGING_FILE_OPTIONS, options);
    const directory = options.directory ?? process.cwd();
    const patterns = {
      darks: resolvePattern(directory, options.darksPattern ?? 'darks'),
      flats: resolvePattern(directory, options.flatsPattern ?? 'flats'),
      radios: resolvePattern(directory, options.radiosPattern ?? 'radios'),
    };
    const camera = options.camera ?? (await FileCamera.create({ pattern: patterns.radios }));
    const counts: Record<string, number> = {};
    const original = camera.pattern;
    for (const [key, name] of [
      ['numDarks', 'darks'],
      ['numFlats', 'flats'],
      ['numRadios', 'radios'],
    ] as const) {
      const given = options[key];
      if (given !== undefined) counts[key] = given;
      else {
        await camera.setPattern(patterns[name]);
        counts[key] = camera.length;
      }
    }
    if (camera.pattern !== original) await camera.setPattern(original);
    return new ImagingFileExperiment(camera, directory, patterns, counts, options);
  }

  private constructor(
    camera: FileCamera,
    directory: string,
    patterns: ImagingFileExperiment['patterns'],
    counts: Record<string, number>,
    options: ImagingFileOptions,
  ) {
    const { name, walker, separateScans, nameFmt, prepare, finish, enterSafeState, leaveSafeState } = options;
    super([], {
      name: name ?? 'imagingFileExperiment',
      ...{ walker, separateScans, nameFmt, prepare, finish, enterSafeState, leaveSafeState },
    });
    this.camera = camera;
    this.directory = directory;
    this.#patterns = patterns;
    this.#counts = counts;
    for (const [name, key, imageKey] of [
      ['darks', 'numDarks', IMAGE_KEYS.dark],
      ['flats', 'numFlats', IMAGE_KEYS.flat],
      ['radios', 'numRadios', IMAGE_KEYS.projection],
    ] as const) {
      this.add(
        new Acquisition(name, (signal) => this.#replay(this.#patterns[name], this.#counts[key]!, imageKey, signal), {
          frames: () => this.#counts[key]!,
        }),
      );
    }
  }

  /** The patterns of darks, flats and radios (absolute). */
  get patterns(): { darks: string; flats: string; radios: string } {
    return { ...this.#patterns };
  }

  #count(key: string) {
    return {
      help: `frames of ${key.slice(3).toLowerCase()} to replay`,
      read: () => this.#counts[key]!,
      write: (v: number) => void (this.#counts[key] = v),
      validate: (v: number) => {
        if (!Number.isSafeInteger(v) || v < 0)
          throw new ParameterError(`${this.name}.${key} must be an integer ≥ 0, got ${v}`);
      },
    };
  }

  async *#replay(pattern: string, count: number, imageKey: number, signal: AbortSignal): AsyncGenerator<Frame> {
    if (this.camera.pattern !== pattern) await this.camera.setPattern(pattern);
    yield* autoFrames(this.camera, count, signal, () => ({ image_key: imageKey }));
  }
}

function resolvePattern(directory: string, pattern: string): string {
  return isAbsolute(pattern) ? pattern : join(directory, pattern);
}
