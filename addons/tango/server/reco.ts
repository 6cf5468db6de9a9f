/**
 * `concert tango reco`: the Tango device of Python Concert's `TangoOnlineReconstruction`
 * (concert/ext/tangoservers/reco.py), backed by our streaming filtered backprojection instead of
 * UFO/tofu. Its reconstruction parameters are attributes under tofu's names (center_position_x,
 * overall_angle, region, number, absorptivity, fix_nan_and_inf, projection_filter, …: the ones our
 * reconstruction implements); its commands are Python Concert's: update_darks, update_flats,
 * reconstruct, rereconstruct, setup_walker, find_parameter (arguments in the
 * `find_parameter_args` pipe), get_volume_shape, get_slice_x/y/z, get_volume_line,
 * get_parameters, get_z_parameters, get_slice_metrics, reset_manager, get_manager_state.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { makeFrame, type Frame } from '../../../core/index.js';
import { DeviceProxy, TangoType } from '../../../tango/index.js';
import {
  DevFailed,
  defineDevice,
  type AttributeDefinition,
  type DeviceDefinition,
  type TangoDevice,
} from '../../../tango/server/index.js';
import { ZmqSender } from '../../../transport/zmq/index.js';
import { FILTER_NAMES, Reconstructor, type FilterName, type ReconstructionParameters } from '../../../reco/index.js';
import { DirectoryWalker } from '../../../walkers/index.js';
import { StreamReception, type StreamReceptionOptions } from './processing.js';

/** Options of {@link recoDevice}. */
export interface RecoDeviceOptions extends StreamReceptionOptions {
  /** Where slices are written without a remote walker (default: the working directory). */
  root?: string;
  /** Reconstruction worker threads (default: the reconstructor's). */
  workers?: number;
}

/** tofu's projection filter names and ours. */
const FILTERS: Record<string, FilterName | undefined> = Object.fromEntries(FILTER_NAMES.map((f) => [f, f]));
FILTERS['ramp-fromreal'] = 'ramp';

/** The parameters, with tofu's names and help. */
interface Settings {
  center_position_x: number[];
  center_position_z: number[];
  overall_angle: number;
  region: number[];
  number: bigint;
  absorptivity: boolean;
  fix_nan_and_inf: boolean;
  projection_filter: string;
  z_parameter: string;
  slice_metric: string;
  width: bigint;
  height: bigint;
  y: bigint;
}

const HELP: Record<keyof Settings, string> = {
  center_position_x: 'X rotation axis position on a projection',
  center_position_z: 'Z rotation axis position on a projection',
  overall_angle: 'The total angle over which projections were taken',
  region: 'Z-axis parameter region as from,to,step',
  number: 'Number of files to read',
  absorptivity: 'Do absorption correction',
  fix_nan_and_inf: 'Fix nan and inf',
  projection_filter: 'Projection filter',
  z_parameter: 'Parameter to vary along the reconstructed z-axis',
  slice_metric: 'Slice metric for finding reconstruction parameters',
  width: 'Input width',
  height: 'Number of rows which will be read',
  y: 'Vertical coordinate from where to start reading the input image',
};

const defaults = (): Settings => ({
  center_position_x: [0],
  center_position_z: [0],
  overall_angle: Math.PI,
  region: [0, -1, 1],
  number: 0n,
  absorptivity: false,
  fix_nan_and_inf: false,
  projection_filter: 'ramp-fromreal',
  z_parameter: 'z',
  slice_metric: '',
  width: 0n,
  height: 0n,
  y: 0n,
});

/** The TangoOnlineReconstruction device class. */
export function recoDevice(options: RecoDeviceOptions = {}): DeviceDefinition {
  const root = resolve(options.root ?? process.cwd());
  let device: TangoDevice | undefined;
  const stream = new StreamReception(() => device!, options);
  let settings = defaults();
  let darks: Frame[] = [];
  let flats: Frame[] = [];
  let reco: Reconstructor | undefined;
  let volume: Float32Array[] = [];
  let shape: [number, number] = [0, 0];
  let walker: { device: DeviceProxy; sender: ZmqSender } | undefined;
  let findArgs: Record<string, unknown> | undefined;
  let managerState = 'standby';

  const parameters = (): ReconstructionParameters => {
    const [from, to, step] = settings.region;
    const rows: [number, number, number] | undefined =
      settings.region.length === 3 && to !== -1 ? [from!, to!, step!] : undefined;
    const filter = FILTERS[settings.projection_filter];
    if (!filter)
      throw new DevFailed(
        'Concert_BadParameter',
        `projection_filter ${settings.projection_filter} is not implemented (known: ${Object.keys(FILTERS).join(', ')})`,
      );
    const center = settings.center_position_x[0];
    return {
      ...(rows ? { region: rows } : {}),
      overallAngle: settings.overall_angle,
      ...(center && center > 0 ? { centerPositionX: center } : {}),
      absorptivity: settings.absorptivity,
      fixNanAndInf: settings.fix_nan_and_inf,
      filter,
    };
  };

  const start = async (first: Frame): Promise<Reconstructor> => {
    const [height, width] = first.shape;
    const number = Number(settings.number);
    if (!number) throw new DevFailed('Concert_BadParameter', 'set the number of projections first (attribute number)');
    const r = await Reconstructor.create({
      ...parameters(),
      number,
      width,
      height,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
    });
    for (const d of darks) r.addDark(d);
    for (const f of flats) r.addFlat(f);
    return r;
  };

  const keep = (slices: Float32Array[]): void => {
    const g = reco!.geometry;
    volume = slices;
    shape = [g.height, g.width];
  };

  /** Sends the slices to the remote walker, or writes them below the root. */
  const store = async (directory: string): Promise<void> => {
    if (!directory) return;
    const frames = volume.map((s, i) => makeFrame(s, shape, { frameNumber: i }));
    if (walker) {
      const written = walker.device.command('write_sequence', directory, TangoType.DevString, {
        timeoutMs: 2 ** 31 - 1,
      });
      written.catch(() => undefined);
      for (const f of frames) await walker.sender.send(f);
      await walker.sender.end();
      await written;
      return;
    }
    const target = isAbsolute(directory) ? directory : join(root, directory);
    if (!resolve(target).startsWith(root))
      throw new DevFailed('Concert_OutsideRoot', `slice directory ${target} is outside ${root}, the server's --root`);
    await mkdir(resolve(target, '..'), { recursive: true });
    const w = await DirectoryWalker.create({ root: resolve(target, '..') });
    const writer = await w.writer(target.split('/').pop()!, { pattern: 'slice_{:04}.tif' });
    try {
      for (const f of frames) await writer.write(f);
    } finally {
      await writer.close();
    }
  };

  const attribute = <K extends keyof Settings>(
    name: K,
    def: Omit<AttributeDefinition, 'read' | 'write'>,
  ): AttributeDefinition => ({
    ...def,
    label: name,
    description: HELP[name],
    read: () => settings[name],
    write: (v: never) => {
      const value: unknown = ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v;
      if (name === 'projection_filter' && !FILTERS[value as string])
        throw new DevFailed(
          'Concert_BadParameter',
          `projection_filter must be one of ${Object.keys(FILTERS).join(', ')}`,
        );
      if (name === 'z_parameter' && value !== 'z')
        throw new DevFailed('Concert_BadParameter', "z_parameter: only 'z' is implemented");
      if (name === 'region' && (value as number[]).length !== 3)
        throw new DevFailed('Concert_BadParameter', 'region must be [from, to, step]');
      settings = { ...settings, [name]: value };
    },
  });

  const sliceOf = (axis: 'x' | 'y' | 'z', index: number): Float32Array => {
    if (!volume.length) throw new DevFailed('RuntimeError', 'Volume not available yet');
    if (settings.slice_metric)
      throw new DevFailed('RuntimeError', `${axis} slice accessible only when slice_metric is not specified`);
    const [h, w] = shape;
    const depth = volume.length;
    const n = axis === 'z' ? depth : axis === 'y' ? h : w;
    if (!Number.isInteger(index) || index < 0 || index >= n)
      throw new DevFailed('IndexError', `${axis} index ${index} is out of [0, ${n - 1}]`);
    if (axis === 'z') return volume[index]!;
    const out = new Float32Array(depth * (axis === 'y' ? w : h));
    for (let z = 0; z < depth; z++) {
      const s = volume[z]!;
      if (axis === 'y') out.set(s.subarray(index * w, (index + 1) * w), z * w);
      else for (let y = 0; y < h; y++) out[z * h + y] = s[y * w + index]!;
    }
    return out;
  };

  const run = async (slice_directory: string, cached: boolean): Promise<void> => {
    managerState = 'running';
    try {
      if (cached) {
        if (!reco) throw new DevFailed('RuntimeError', 'no projections to rereconstruct yet');
        const { region: _r, ...p } = parameters();
        keep(await reco.rereconstruct(p));
      } else {
        await reco?.close();
        reco = undefined;
        let index = 0;
        let made: Reconstructor | undefined;
        await stream.run('radios', async (frame) => {
          made ??= reco = await start(frame);
          await made.addProjection(frame, index++);
        });
        const done = made as Reconstructor | undefined;
        if (!done) throw new DevFailed('Concert_StreamFailed', 'the radios stream had no frames');
        keep(await done.slices());
      }
      await store(slice_directory);
    } finally {
      managerState = 'standby';
    }
  };

  return defineDevice({
    className: 'TangoOnlineReconstruction',
    description: 'Tango device for online 3D reconstruction from a zmq image stream (Concert for TypeScript)',
    initialState: 'STANDBY',
    init: async (d) => {
      device = d;
      await stream.close();
      settings = defaults();
      darks = [];
      flats = [];
      await reco?.close();
      reco = undefined;
      volume = [];
      findArgs = undefined;
    },
    delete: async () => {
      await stream.close();
      await reco?.close();
      walker?.sender.close();
      await walker?.device.close();
    },
    attributes: {
      ...stream.attributes(),
      center_position_x: attribute('center_position_x', {
        type: 'DevDouble',
        format: 'SPECTRUM',
        maxDimX: 100000,
        unit: 'pixel',
      }),
      center_position_z: attribute('center_position_z', {
        type: 'DevDouble',
        format: 'SPECTRUM',
        maxDimX: 100000,
        unit: 'pixel',
      }),
      overall_angle: attribute('overall_angle', { type: 'DevDouble', unit: 'rad' }),
      region: attribute('region', { type: 'DevDouble', format: 'SPECTRUM', maxDimX: 100000 }),
      number: attribute('number', { type: 'DevLong64' }),
      absorptivity: attribute('absorptivity', { type: 'DevBoolean' }),
      fix_nan_and_inf: attribute('fix_nan_and_inf', { type: 'DevBoolean' }),
      projection_filter: attribute('projection_filter', { type: 'DevString' }),
      z_parameter: attribute('z_parameter', { type: 'DevString' }),
      slice_metric: attribute('slice_metric', { type: 'DevString' }),
      width: attribute('width', { type: 'DevLong64', unit: 'pixel' }),
      height: attribute('height', { type: 'DevLong64', unit: 'pixel' }),
      y: attribute('y', { type: 'DevLong64', unit: 'pixel' }),
    },
    commands: {
      ...stream.commands(),
      reset_manager: {
        handler: async () => {
          darks = [];
          flats = [];
          await reco?.close();
          reco = undefined;
          volume = [];
        },
      },
      get_manager_state: { out: 'DevString', handler: () => managerState },
      update_darks: {
        handler: async () => {
          const got: Frame[] = [];
          await stream.run('darks', (f) => void got.push(f));
          darks = got;
          flats = [];
        },
      },
      update_flats: {
        handler: async () => {
          const got: Frame[] = [];
          await stream.run('flats', (f) => void got.push(f));
          flats = got;
        },
      },
      setup_walker: {
        in: 'DevVarStringArray',
        inDescription: "1. walker's tango server URI, 2. root path, 3. protocol, 4. host, 5. port",
        handler: async (args: string[]) => {
          if (args.length !== 5)
            throw new DevFailed('Concert_BadArguments', 'setup_walker needs [walker URI, root, protocol, host, port]');
          const [uri, walkerRoot, protocol, host, port] = args as [string, string, string, string, string];
          const proxy = await DeviceProxy.create(uri.includes('://') ? uri : `tango://${uri}`, { timeoutMs: 10_000 });
          try {
            await proxy.writeAttribute('endpoint', `${protocol}://${host}:${port}`);
            await proxy.writeAttribute('root', walkerRoot);
            await proxy.writeAttribute('current', walkerRoot);
            await proxy.writeAttribute('bytes_per_file', 2n ** 40n);
          } catch (e) {
            await proxy.close();
            throw e;
          }
          walker?.sender.close();
          await walker?.device.close();
          const sender = await ZmqSender.create({
            mode: 'push',
            bind: `${protocol}://${host === 'localhost' ? '127.0.0.1' : host}:${port}`,
          });
          walker = { device: proxy, sender };
        },
      },
      reconstruct: { in: 'DevString', handler: (dir: string) => run(dir, false) },
      rereconstruct: { in: 'DevString', handler: (dir: string) => run(dir, true) },
      set_find_parameter_args: {
        in: 'DevString',
        inDescription: 'find_parameter arguments as JSON (what the find_parameter_args pipe carries)',
        handler: (json: string) => {
          try {
            findArgs = JSON.parse(json) as Record<string, unknown>;
          } catch (e) {
            throw new DevFailed('Concert_BadArguments', `find parameter arguments are not JSON: ${String(e)}`);
          }
        },
      },
      find_parameter: {
        out: 'DevDouble',
        outDescription: 'Found rotation axis',
        handler: async () => {
          if (!findArgs) throw new DevFailed('RuntimeError', 'Arguemnts not set');
          if (!reco) throw new DevFailed('RuntimeError', 'no projections to search in yet');
          const parameter = String(findArgs['parameter'] ?? 'center-position-x');
          if (parameter !== 'center-position-x')
            throw new DevFailed('Concert_NotImplemented', `only center-position-x can be searched, not ${parameter}`);
          const region = (findArgs['region'] as number[] | undefined) ?? [];
          if (region.length !== 3) throw new DevFailed('Concert_BadArguments', 'region must be [from, to, step]');
          const search = await reco.findAxis({ centers: region as [number, number, number] });
          if (findArgs['store']) settings = { ...settings, center_position_x: [search.center] };
          return search.center;
        },
      },
      get_volume_shape: {
        out: 'DevVarLong64Array',
        handler: () => {
          if (!volume.length) throw new DevFailed('RuntimeError', 'Volume not available yet');
          return [BigInt(volume.length), BigInt(shape[0]), BigInt(shape[1])];
        },
      },
      get_slice_x: { in: 'DevLong64', out: 'DevVarFloatArray', handler: (i: bigint) => sliceOf('x', Number(i)) },
      get_slice_y: { in: 'DevLong64', out: 'DevVarFloatArray', handler: (i: bigint) => sliceOf('y', Number(i)) },
      get_slice_z: { in: 'DevLong64', out: 'DevVarFloatArray', handler: (i: bigint) => sliceOf('z', Number(i)) },
      get_volume_line: {
        out: 'DevVarFloatArray',
        handler: () => {
          throw new DevFailed('RuntimeError', 'slice_metric must be specified (slice metrics are not implemented)');
        },
      },
      get_z_parameters: { out: 'DevVarStringArray', handler: () => ['z'] },
      get_slice_metrics: { out: 'DevVarStringArray', handler: () => [''] },
      get_parameters: {
        out: 'DevVarStringArray',
        handler: () => Object.entries(HELP).flat(),
      },
    },
  });
}
