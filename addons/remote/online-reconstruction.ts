/**
 * Remote online reconstruction: the camera sends darks, flats and radios straight to a
 * `concert serve reco` server, which reconstructs while the projections arrive and writes the
 * slices (`<scan>/online-slices/slice_0000.tif` below its root). The session sets the
 * parameters and fetches slices, rereconstructs and searches the axis through the server.
 * @module
 */
import { arrayConstructor, makeFrame, q, type DType, type Frame, type Unit } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { Experiment } from '../../experiments/experiment.js';
import { axisEdgeWarning, type AxisMetric, type AxisSearch } from '../../reco/index.js';
import { AddonError } from '../errors.js';
import { WithReconstructionSettings } from '../reco-settings.js';
import { RemoteAddon, type RemoteAddonOptions } from './addon.js';
import type { ServerClient } from './client.js';

type WireFrame = { dtype: DType; shape: [number, number]; metadata: Record<string, unknown>; data: string };

function decode(f: WireFrame): Frame<'float32'> {
  const bytes = new Uint8Array(Buffer.from(f.data, 'base64')).buffer;
  return makeFrame(new (arrayConstructor(f.dtype))(bytes) as Float32Array, f.shape, f.metadata);
}

/** Options of the remote {@link OnlineReconstruction}. */
export interface RemoteReconstructionOptions extends RemoteAddonOptions {
  darks?: string;
  flats?: string;
  radios?: string;
  /** Directory of the slices below the scan directory (default `online-slices`). */
  sliceDirectory?: string;
}

/** Reconstruction in a server: `await OnlineReconstruction.create(exp, { server, data })`. */
export class OnlineReconstruction extends WithReconstructionSettings(RemoteAddon) {
  protected readonly lossless = true;
  readonly #names: { darks: string; flats: string; radios: string };
  readonly #sliceDirectory: string;

  constructor(experiment: Experiment, options: RemoteReconstructionOptions) {
    const names = {
      darks: options?.darks ?? 'darks',
      flats: options?.flats ?? 'flats',
      radios: options?.radios ?? 'radios',
    };
    super(experiment, { ...options, acquisitions: options?.acquisitions ?? [names.darks, names.flats, names.radios] });
    this.#names = names;
    this.#sliceDirectory = options?.sliceDirectory ?? 'online-slices';
  }

  protected override async beforeStream(server: ServerClient, acquisition: Acquisition): Promise<void> {
    if (acquisition.name !== this.#names.radios) return;
    const { number, ...parameters } = await this.params.toReconstruction();
    const scan = await this.experiment.currentName.get();
    await server.request('reco.configure', {
      names: this.#names,
      number: number || acquisition.expectedFrames || 0,
      parameters,
      directory: scan ? `${scan}/${this.#sliceDirectory}` : this.#sliceDirectory,
    });
  }

  /** The slices of the last reconstruction, fetched from the server. */
  async slices(): Promise<Frame<'float32'>[]> {
    return (await this.server.request<WireFrame[]>('reco.slices', undefined, { timeoutMs: 30_000 })).map(decode);
  }

  /** Reconstructs again in the server from its cached projections with the current parameters. */
  async rereconstruct(): Promise<Frame<'float32'>[]> {
    const { number: _n, region: _r, ...parameters } = await this.params.toReconstruction();
    return (await this.server.request<WireFrame[]>('reco.rereconstruct', parameters, { timeoutMs: 60_000 })).map(
      decode,
    );
  }

  /** Searches the rotation axis in the server and sets `centerPositionX` to the best. */
  async findAxis(options: {
    centers: readonly [Unit | number, Unit | number, Unit | number];
    metric?: AxisMetric;
  }): Promise<AxisSearch> {
    const px = (v: Unit | number) =>
      typeof v === 'number' ? v : this.params.centerPositionX.toNumber(v, 'findAxis centers');
    const centers = options.centers.map(px);
    if (centers.length !== 3) throw new AddonError('findAxis: centers must be [from, to, step]');
    const search = await this.server.request<AxisSearch>(
      'reco.findAxis',
      { centers, metric: options.metric },
      { timeoutMs: 60_000 },
    );
    await this.setCenterPositionX(q(search.center, 'px'));
    const warning = axisEdgeWarning(search, centers as [number, number, number]);
    if (warning) this.experiment.log.warn(warning);
    return search;
  }
}
