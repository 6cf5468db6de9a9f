/**
 * Tango online reconstruction (Python Concert's `tango_addons.OnlineReconstruction(device, ex,
 * endpoint)`): a `concert tango reco` device receives darks, flats and radios from the camera
 * (`update_darks`, `update_flats`, `reconstruct`), reconstructs while the projections arrive and
 * writes the slices through its walker (`setupWalker`) or below its root. The session sets the
 * parameters (written to the device's attributes before each scan), fetches slices,
 * rereconstructs and searches the rotation axis through the device.
 * @module
 */
import { join } from 'node:path';
import { makeFrame, q, z, type Frame, type Unit } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { Experiment } from '../../experiments/experiment.js';
import { TangoType, type DeviceProxy, type WriteValue } from '../../tango/index.js';
import { TangoDirectoryWalker } from '../../walkers/tango.js';
import { AddonError } from '../errors.js';
import { WithReconstructionSettings } from '../reco-settings.js';
import { STREAM_TIMEOUT_MS, TANGO_ADDON_OPTIONS, TangoAddon, zTangoDevice } from './addon.js';

/** The options of {@link TangoOnlineReconstruction.create}. */
export const TANGO_RECONSTRUCTION_OPTIONS = TANGO_ADDON_OPTIONS.extend({
  /** The reco device: `tango://host:port/concert/tango/reco#dbase=no` or a DeviceProxy. */
  device: zTangoDevice,
  /** Acquisition names (default darks, flats, radios). */
  darks: z.string().optional(),
  flats: z.string().optional(),
  radios: z.string().optional(),
  /** Directory of the slices in the scan directory (default `online-slices`; '' writes none). */
  sliceDirectory: z.string().optional(),
});

/** Options of {@link TangoOnlineReconstruction.create}. */
export type TangoReconstructionOptions = z.input<typeof TANGO_RECONSTRUCTION_OPTIONS>;

/** Reconstruction in a Tango device server. */
export class TangoOnlineReconstruction extends WithReconstructionSettings(TangoAddon) {
  static override readonly options = TANGO_RECONSTRUCTION_OPTIONS;
  readonly #deviceOption: string | DeviceProxy;
  readonly #names: { darks: string; flats: string; radios: string };
  readonly #sliceDirectory: string;

  constructor(experiment: Experiment, options: TangoReconstructionOptions) {
    const names = {
      darks: options?.darks ?? 'darks',
      flats: options?.flats ?? 'flats',
      radios: options?.radios ?? 'radios',
    };
    super(experiment, { ...options, acquisitions: options?.acquisitions ?? [names.darks, names.flats, names.radios] });
    this.#deviceOption = options.device;
    this.#names = names;
    this.#sliceDirectory = options.sliceDirectory ?? 'online-slices';
  }

  protected deviceOption(): string | DeviceProxy {
    return this.#deviceOption;
  }

  /** Where the device writes the slices: in the Tango walker's scan directory, or relative to the device's root. */
  async #slicePath(): Promise<string> {
    if (!this.#sliceDirectory) return '';
    const walker = this.experiment.walker;
    if (walker instanceof TangoDirectoryWalker) return join(walker.current, this.#sliceDirectory);
    const scan = await this.experiment.currentName.get();
    return scan ? `${scan}/${this.#sliceDirectory}` : this.#sliceDirectory;
  }

  /** Writes the parameters to the device's attributes (tofu's names). */
  async #writeParameters(number: number | undefined): Promise<void> {
    const p = await this.params.toReconstruction();
    const d = this.device;
    const write = (name: string, value: WriteValue) =>
      d.writeAttribute(name, value).catch((e: unknown) => {
        throw new AddonError(`${this.name}: ${d.name}: cannot set ${name} to ${String(value)}: ${String(e)}`, {
          cause: e,
        });
      });
    if (p.centerPositionX !== undefined) await write('center_position_x', [p.centerPositionX]);
    await write('overall_angle', p.overallAngle ?? Math.PI);
    await write('region', p.region ? [...p.region] : [0, -1, 1]);
    await write('absorptivity', p.absorptivity ?? false);
    await write('fix_nan_and_inf', p.fixNanAndInf ?? false);
    await write('projection_filter', p.filter ?? 'ramp');
    if (number !== undefined) await write('number', BigInt(p.number || number));
  }

  protected async streamCommand(acquisition: Acquisition): Promise<{ name: string; arg?: string } | undefined> {
    if (acquisition.name === this.#names.darks) return { name: 'update_darks' };
    if (acquisition.name === this.#names.flats) return { name: 'update_flats' };
    if (acquisition.name !== this.#names.radios) return undefined;
    await this.#writeParameters(acquisition.expectedFrames ?? 0);
    return { name: 'reconstruct', arg: await this.#slicePath() };
  }

  /**
   * Makes the device send its slices to a Tango walker device (Python Concert's `setup_walker`):
   * the walker connects to `data` (the reco device binds it) and writes the slices below `root`.
   */
  async setupWalker(walker: string, root: string, data: string): Promise<void> {
    const m = /^(tcp):\/\/([^:]+):(\d+)$/.exec(data);
    if (!m) throw new AddonError(`${this.name}.setupWalker: data must be tcp://host:port, got ${data}`);
    const uri = walker.replace(/^tango:\/\//, '');
    await this.command('setup_walker', [uri, root, m[1], m[2], m[3]], TangoType.DevVarStringArray);
  }

  /** The reconstructed volume's shape: [slices, height, width]. */
  async volumeShape(): Promise<[number, number, number]> {
    const shape = Array.from((await this.command('get_volume_shape')) as ArrayLike<bigint | number>, Number);
    if (shape.length !== 3)
      throw new AddonError(`${this.name}: the device gave a volume shape ${JSON.stringify(shape)}`);
    return shape as [number, number, number];
  }

  /** The slices of the last reconstruction, fetched from the device. */
  async slices(): Promise<Frame<'float32'>[]> {
    const [depth, height, width] = await this.volumeShape();
    const out: Frame<'float32'>[] = [];
    for (let i = 0; i < depth; i++) {
      const data = (await this.command('get_slice_z', BigInt(i), TangoType.DevLong64)) as Float32Array;
      out.push(makeFrame(Float32Array.from(data), [height, width], { frameNumber: i }));
    }
    return out;
  }

  /** Reconstructs again in the device from its cached projections with the current parameters. */
  async rereconstruct(sliceDirectory?: string): Promise<Frame<'float32'>[]> {
    await this.#writeParameters(undefined);
    const path = sliceDirectory === undefined ? '' : sliceDirectory;
    await this.command('rereconstruct', path, TangoType.DevString, { timeoutMs: STREAM_TIMEOUT_MS });
    return this.slices();
  }

  /** Searches the rotation axis in the device, sets `centerPositionX` to the best and returns it (px). */
  async findAxis(options: { centers: readonly [Unit | number, Unit | number, Unit | number] }): Promise<number> {
    const px = (v: Unit | number) =>
      typeof v === 'number' ? v : this.params.centerPositionX.toNumber(v, 'findAxis centers');
    const region = options.centers.map(px); // Python Concert's find_parameter calls them region
    if (region.length !== 3) throw new AddonError(`${this.name}.findAxis: centers must be [from, to, step]`);
    const args = { parameter: 'center-position-x', region, metric: 'sag', z: 0, store: true };
    await this.command('set_find_parameter_args', JSON.stringify(args), TangoType.DevString);
    const center = Number(
      await this.command('find_parameter', undefined, TangoType.DevVoid, { timeoutMs: STREAM_TIMEOUT_MS }),
    );
    await this.setCenterPositionX(q(center, 'px'));
    return center;
  }
}

export { TangoOnlineReconstruction as OnlineReconstruction };
