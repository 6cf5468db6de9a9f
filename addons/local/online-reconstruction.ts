/**
 * Online tomographic reconstruction: darks and flats are averaged as they arrive, each projection
 * is corrected, filtered and backprojected into the requested slices as soon as it arrives, and
 * the slices are written (float32 TIFF, `online-slices/slice_0000.tif`) moments after the last
 * projection. Parameters use Concert's names.
 * @module
 */
import { format, makeFrame, q, requireGrey, z, zwhere, type Frame, type Unit } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { unknownBytes, type AcquisitionPlan, type AddonEstimate } from '../../experiments/estimate.js';
import { Reconstructor, axisEdgeWarning, type AxisMetric, type AxisSearch, type FilterName } from '../../reco/index.js';
import { zwalker } from '../../walkers/index.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';
import { WithReconstructionSettings } from '../reco-settings.js';

export { ReconstructionSettings } from '../reco-settings.js';

/** File names of the written slices. */
const SLICE_PATTERN = 'slice_{:04}.tif';

/** Shows reconstructed slices (the web viewer's second panel implements it). */
export interface SliceViewer {
  showSlice(slice: Frame, info: { name: string }): void | Promise<void>;
}

/** Options of {@link OnlineReconstruction.create}. */
export type OnlineReconstructionOptions = z.input<typeof ONLINE_RECONSTRUCTION_OPTIONS>;

/** The options of {@link OnlineReconstruction.create}. */
export const ONLINE_RECONSTRUCTION_OPTIONS = ADDON_OPTIONS.extend({
  /** Name of the dark-field acquisition (default `darks`). */
  darks: z.string().optional(),
  /** Name of the flat-field acquisition (default `flats`). */
  flats: z.string().optional(),
  /** Name of the projection acquisition (default `radios`). */
  radios: z.string().optional(),
  /** Where slices are written (default: the experiment's walker; none: not written). */
  walker: zwalker.optional(),
  /** Directory of the slices below the scan directory (default `online-slices`). */
  sliceDirectory: z.string().optional(),
  /** Also show the slices here. */
  viewer: zwhere(
    'a slice viewer (an object with showSlice(frame))',
    (v): v is SliceViewer => typeof v === 'object' && v !== null && typeof (v as SliceViewer).showSlice === 'function',
  ).optional(),
  /** Worker threads (default: both cores). */
  workers: z.number().int().min(0).max(64).optional(),
});

/** Reconstructs slices while the projections arrive: `await OnlineReconstruction.create(exp)`. */
export class OnlineReconstruction extends WithReconstructionSettings(Addon) {
  static override readonly options = ONLINE_RECONSTRUCTION_OPTIONS;
  readonly kind = 'local';
  readonly #names: { darks: string; flats: string; radios: string };
  readonly #options: OnlineReconstructionOptions;
  /** The slices the current run wrote. */
  #written: { frames: number; bytes: number } | undefined;
  #reco: Reconstructor | undefined;
  #pending: { darks: Frame[]; flats: Frame[] } = { darks: [], flats: [] };
  #slices: Float32Array[] = [];
  #sliceShape: [number, number] = [0, 0];
  /** Where the slices are shown too (e.g. a `WebViewer`); settable at any time. */
  viewer: SliceViewer | undefined;
  /** ms from the last projection to the slices being written, of the last run. */
  lagMs: number | undefined;

  constructor(experiment: Experiment, options: OnlineReconstructionOptions = {}) {
    super(experiment, {
      ...options,
      acquisitions: options.acquisitions ?? [
        options.darks ?? 'darks',
        options.flats ?? 'flats',
        options.radios ?? 'radios',
      ],
    });
    this.#names = {
      darks: options.darks ?? 'darks',
      flats: options.flats ?? 'flats',
      radios: options.radios ?? 'radios',
    };
    this.#options = options;
    this.viewer = options.viewer;
  }

  /** The slices of the last reconstruction (one per region row), `[height, width]` float32. */
  get slices(): Frame<'float32'>[] {
    return this.#slices.map((s, i) => makeFrame(s, this.#sliceShape, { frameNumber: i }));
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    const { darks, flats, radios } = this.#names;
    const role =
      acquisition.name === darks
        ? 'dark'
        : acquisition.name === flats
          ? 'flat'
          : acquisition.name === radios
            ? 'projection'
            : undefined;
    if (!role)
      throw new AddonError(
        `OnlineReconstruction: acquisition '${acquisition.name}' is not darks '${darks}', flats '${flats}' or radios '${radios}'`,
      );
    return this.localConsumer(
      acquisition,
      async (frames) => {
        if (role === 'dark' || role === 'flat') {
          // A new darks/flats acquisition starts a new reconstruction.
          if (role === 'dark' || this.#reco) await this.#reset();
          for await (const f of frames) {
            requireGrey(f, `${this.name} (reconstruction, ${role}s)`);
            (role === 'dark' ? this.#pending.darks : this.#pending.flats).push(f);
          }
          return;
        }
        let index = 0;
        let last = 0;
        for await (const f of frames) {
          requireGrey(f, `${this.name} (reconstruction)`);
          const reco = this.#reco ?? (await this.#start(f, acquisition));
          await reco.addProjection(f, index++);
          last = performance.now();
        }
        if (this.#reco) await this.#finish(last);
      },
      { policy: 'lossless', queueSize: 8 },
    );
  }

  async #reset(): Promise<void> {
    await this.#reco?.close();
    this.#reco = undefined;
    this.#pending = { darks: [], flats: [] };
  }

  async #start(first: Frame, radios: Acquisition): Promise<Reconstructor> {
    const p = await this.params.toReconstruction();
    const number = p.number || radios.expectedFrames;
    if (!number)
      throw new AddonError(
        `OnlineReconstruction: set the number of projections (reco.setNumber(n)); acquisition '${radios.name}' does not say how many ` +
          `it yields`,
      );
    const [height, width] = first.shape;
    const reco = await Reconstructor.create({
      ...p,
      number,
      width,
      height,
      ...(this.#options.workers !== undefined ? { workers: this.#options.workers } : {}),
    });
    for (const d of this.#pending.darks) reco.addDark(d);
    for (const f of this.#pending.flats) reco.addFlat(f);
    this.#reco = reco;
    return reco;
  }

  async #finish(lastProjectionAt: number): Promise<void> {
    const reco = this.#reco!;
    this.#slices = await reco.slices();
    this.#sliceShape = [reco.geometry.height, reco.geometry.width];
    await this.#publish();
    this.lagMs = performance.now() - lastProjectionAt;
    this.experiment.log.info(
      `online reconstruction: ${this.#slices.length} slice(s) ready ${this.lagMs.toFixed(0)} ms after the last projection`,
    );
  }

  /** Writes the slices through the walker and shows them in the viewer. */
  async #publish(): Promise<void> {
    const walker = this.#options.walker ?? this.experiment.walker;
    if (walker) {
      const writer = await walker.writer(this.#options.sliceDirectory ?? 'online-slices', { pattern: SLICE_PATTERN });
      try {
        for (const s of this.slices) await writer.write(s);
      } finally {
        await writer.close();
        this.#written = { frames: writer.framesWritten, bytes: writer.bytesWritten };
      }
    }
    const viewer = this.viewer;
    if (viewer) for (const [i, s] of this.slices.entries()) await viewer.showSlice(s, { name: `slice ${i}` });
  }

  /**
   * Reconstructs again from the cached projections with changed parameters (e.g. a better
   * center), writes and shows the new slices, and returns them.
   */
  async rereconstruct(
    changes: { centerPositionX?: Unit; overallAngle?: Unit; filter?: FilterName; absorptivity?: boolean } = {},
  ): Promise<Frame<'float32'>[]> {
    const reco = this.#reco;
    if (!reco || reco.count === 0)
      throw new AddonError('OnlineReconstruction: nothing to rereconstruct yet; run the experiment first');
    if (changes.centerPositionX) await this.setCenterPositionX(changes.centerPositionX);
    if (changes.overallAngle) await this.setOverallAngle(changes.overallAngle);
    if (changes.filter) await this.setFilter(changes.filter);
    if (changes.absorptivity !== undefined) await this.setAbsorptivity(changes.absorptivity);
    const { number: _n, region: _r, ...p } = await this.params.toReconstruction();
    this.#slices = await reco.rereconstruct(p);
    this.#sliceShape = [reco.geometry.height, reco.geometry.width];
    await this.#publish().catch((error: Error) =>
      this.experiment.log.warn(`rereconstructed slices not written: ${error.message}`),
    );
    return this.slices;
  }

  /**
   * Searches the rotation axis over `region` (`[from, to, step]` in px) with a sharpness metric,
   * sets `centerPositionX` to the best and returns the search.
   */
  async findAxis(options: {
    centers: readonly [Unit | number, Unit | number, Unit | number];
    metric?: AxisMetric;
    row?: number;
  }): Promise<AxisSearch> {
    const reco = this.#reco;
    if (!reco || reco.count === 0)
      throw new AddonError('OnlineReconstruction: no projections to search the axis in; run the experiment first');
    const px = (v: Unit | number) =>
      typeof v === 'number' ? v : this.params.centerPositionX.toNumber(v, 'findAxis centers');
    const centers = options.centers.map(px) as [number, number, number];
    const search = await reco.findAxis({ centers, metric: options.metric, row: options.row });
    await this.setCenterPositionX(q(search.center, 'px'));
    this.experiment.log.info(`findAxis: center ${format(q(search.center, 'px'))}`);
    const warning = axisEdgeWarning(search, centers);
    if (warning) this.experiment.log.warn(warning);
    return search;
  }

  /**
   * The slices written after the projections (float32 TIFF, one file each), from the
   * reconstruction parameters and the projections' width and height.
   */
  override async estimate(acquisition: Acquisition, plan: AcquisitionPlan): Promise<AddonEstimate | undefined> {
    if (acquisition.name !== this.#names.radios) return undefined;
    const walker = this.#options.walker ?? this.experiment.walker;
    if (!walker) return undefined;
    const first = plan.frame?.(0);
    if (!first || plan.frames === 0)
      return unknownBytes(`acquisition '${acquisition.name}' does not say what its frames look like`);
    const [height, width] = first.shape;
    const { number: _n, ...params } = await this.params.toReconstruction();
    const { shape, count } = Reconstructor.sliceLayout({ ...params, width, height });
    const timestamp = Date.now();
    const slices = Array.from({ length: count }, (_, i) => ({
      shape,
      dtype: 'float32' as const,
      metadata: { frameNumber: i, timestamp },
    }));
    const estimate = await walker.estimateDataset(this.#options.sliceDirectory ?? 'online-slices', slices, {
      pattern: SLICE_PATTERN,
    });
    return estimate ?? unknownBytes(`${walker.constructor.name} cannot estimate its datasets`);
  }

  /** The slices written after the last run's projections. */
  async actuals(): Promise<Record<string, { frames: number; bytes: number }>> {
    return this.#written ? { [this.#names.radios]: this.#written } : {};
  }

  override async runFinished(): Promise<void> {
    this.#written = undefined;
    await super.runFinished();
  }

  protected override counters(): Record<string, unknown> {
    return { projections: this.#reco?.count ?? 0, slices: this.#slices.length, lagMs: this.lagMs };
  }

  /** Frees the workers. */
  async close(): Promise<void> {
    await this.detach();
    await this.#reset();
  }
}
