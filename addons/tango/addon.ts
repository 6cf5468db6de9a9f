/**
 * The base of Tango addons (Python Concert's `TangoMixin`): the addon's Tango device (`concert
 * tango walker|benchmarker|reco`, ours or Python Concert's) connects its data socket to an
 * endpoint the remote camera sends to; each acquisition run is one long command on the device
 * (`write_sequence`, `start_timer`, `reconstruct`, …) that returns when the stream's end marker
 * arrived. Our servers also report the frames they received (`stream_frames`), which the addon
 * compares with what the camera sent.
 * @module
 */
import { errorMessage, z, zwhere } from '../../core/index.js';
import type { RemoteCamera } from '../../devices/cameras/remote.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { ConsumeContext, FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { DeviceProxy, TangoType } from '../../tango/index.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';

/** A long command: no client-side deadline (the server fails a stream that stops, after its idle timeout). */
export const STREAM_TIMEOUT_MS = 2 ** 31 - 1;

export function isRemoteCamera(v: unknown): v is RemoteCamera {
  return typeof v === 'object' && v !== null && typeof (v as RemoteCamera).registerEndpoint === 'function';
}

/** A Tango device: its address (`tango://host:port/domain/family/member#dbase=no`) or a DeviceProxy. */
export const zTangoDevice = z.union([
  z.string(),
  zwhere('a DeviceProxy', (v): v is DeviceProxy => v instanceof DeviceProxy),
]);

/** The options every Tango addon accepts. */
export const TANGO_ADDON_OPTIONS = ADDON_OPTIONS.extend({
  /** Where the camera sends this addon's frames, e.g. `tcp://127.0.0.1:8991` (the camera binds, the device connects). */
  data: z.string(),
  /** The camera that sends (default: the experiment's `camera`). */
  camera: zwhere('a remote camera', isRemoteCamera).optional(),
  /** Timeout in ms of the device's short calls (default 10000). */
  timeoutMs: z.number().min(1).max(STREAM_TIMEOUT_MS).optional(),
});

/** Options every Tango addon accepts. */
export type TangoAddonOptions = z.input<typeof TANGO_ADDON_OPTIONS>;

/** @throws AddonError unless `data` is a tcp:// or ipc:// endpoint. */
export function checkData(who: string, data: unknown, verb: string): void {
  if (typeof data !== 'string' || !/^(tcp|ipc):\/\/.+/.test(data))
    throw new AddonError(
      `${who}: data must be the tcp://host:port or ipc://path endpoint where the camera ${verb} the frames, got ${JSON.stringify(data)}`,
    );
}

/** Opens a device given by address (owned: closed with the addon) or takes the given proxy. */
export async function openDevice(
  device: string | DeviceProxy,
  timeoutMs: number | undefined,
  who: string,
): Promise<{ proxy: DeviceProxy; owned: boolean }> {
  if (device instanceof DeviceProxy) return { proxy: device, owned: false };
  try {
    return { proxy: await DeviceProxy.create(device, { timeoutMs: timeoutMs ?? 10_000 }), owned: true };
  } catch (e) {
    throw new AddonError(`${who}: cannot reach the Tango device ${device}: ${errorMessage(e)}`, { cause: e });
  }
}

/** A Tango addon: frames go from the camera to a Tango device server, not through the session. */
export abstract class TangoAddon extends Addon {
  readonly kind = 'remote';
  readonly #options: TangoAddonOptions;
  #device: DeviceProxy | undefined;
  #owned = false;
  #camera: RemoteCamera | undefined;
  /** Whether the device reports `stream_frames` (ours do, Python Concert's do not). */
  #counts: boolean | undefined;

  constructor(experiment: Experiment, options: TangoAddonOptions) {
    super(experiment, options);
    checkData(this.constructor.name, options?.data, 'sends');
    this.#options = options;
  }

  /** The device this addon drives (after create). */
  get device(): DeviceProxy {
    if (!this.#device) throw new AddonError(`${this.name} is not connected to its Tango device`);
    return this.#device;
  }

  /** The device to drive, as given in the options (or found, e.g. the walker's). */
  protected abstract deviceOption(): string | DeviceProxy;

  protected override async setup(): Promise<void> {
    const camera = this.#options.camera ?? (this.experiment as { camera?: unknown }).camera;
    if (!isRemoteCamera(camera))
      throw new AddonError(
        `${this.name}: needs a remote camera that sends the frames: pass { camera } or use an experiment with a remote camera`,
      );
    const { proxy, owned } = await openDevice(this.deviceOption(), this.#options.timeoutMs, this.name);
    this.#device = proxy;
    this.#owned = owned;
    try {
      await this.#call('set its endpoint', () => proxy.writeAttribute('endpoint', this.#options.data));
      await camera.registerEndpoint(this.#options.data, { mode: 'push' });
      this.#camera = camera;
      const attributes = await proxy.attributeList();
      this.#counts = attributes.includes('stream_frames');
      await this.configure(proxy);
    } catch (e) {
      if (owned) await proxy.close().catch(() => undefined);
      this.#device = undefined;
      throw e;
    }
  }

  /** Device settings before the first run (e.g. reconstruction parameters). */
  protected async configure(_device: DeviceProxy): Promise<void> {}

  /** Runs a device call, errors as AddonError naming the device and what failed. */
  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof AddonError) throw e;
      throw new AddonError(`${this.name}: ${this.#device?.name ?? 'device'}: ${what} failed: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }

  /** Calls a command of the device, errors naming the device and the command. */
  protected command(name: string, arg?: unknown, type?: number, options?: { timeoutMs?: number }): Promise<unknown> {
    return this.#call(name, () => this.device.command(name, arg, type, options));
  }

  /**
   * The long command that receives `acquisition`'s stream on the device (it returns when the
   * stream's end marker arrived), or undefined when this acquisition needs none.
   */
  protected abstract streamCommand(acquisition: Acquisition): Promise<{ name: string; arg?: string } | undefined>;

  /** Called after the device confirmed a stream. */
  protected async afterStream(_acquisition: Acquisition): Promise<void> {}

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    let running: Promise<unknown> | undefined;
    const cancel = () => void this.device.command('cancel', undefined, TangoType.DevVoid).catch(() => undefined);
    return {
      name: `${this.name}:${acquisition.name}`,
      policy: 'lossless',
      kind: 'remote',
      prepare: async () => {
        running = undefined;
        // A restarted server has forgotten its endpoint: set it again. (Reading `endpoint` would
        // tell, but Python Concert's servers fail to read it.)
        await this.device
          .command('connect_endpoint', undefined, TangoType.DevVoid)
          .catch(() =>
            this.#call('set its endpoint', () => this.device.writeAttribute('endpoint', this.#options.data)),
          );
        const call = await this.streamCommand(acquisition);
        if (!call) return;
        running =
          call.arg === undefined
            ? this.command(call.name, undefined, TangoType.DevVoid, { timeoutMs: STREAM_TIMEOUT_MS })
            : this.command(call.name, call.arg, TangoType.DevString, { timeoutMs: STREAM_TIMEOUT_MS });
        running.catch(() => undefined);
      },
      consume: async (_frames, ctx: ConsumeContext) => {
        if (!running) return;
        const onAbort = () => cancel();
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        try {
          await running;
        } finally {
          ctx.signal.removeEventListener('abort', onAbort);
        }
        const sent = await ctx.produced;
        if (this.#counts) {
          const got = Number(
            (await this.#call('read stream_frames', () => this.device.readAttribute('stream_frames'))).value,
          );
          if (got !== sent)
            throw new AddonError(
              `${this.name}: ${this.device.name} received ${got} of the ${sent} frames of '${acquisition.name}'`,
            );
        }
        await this.afterStream(acquisition);
      },
    };
  }

  /** Detaches, disconnects the device's data socket, unregisters the endpoint and closes the device it opened. */
  async close(): Promise<void> {
    await this.detach();
    if (this.#device)
      await this.#device.command('disconnect_endpoint', undefined, TangoType.DevVoid).catch(() => undefined);
    await this.#camera?.unregisterEndpoint(this.#options.data).catch(() => undefined);
    this.#camera = undefined;
    if (this.#owned) await this.#device?.close().catch(() => undefined);
    this.#device = undefined;
  }
}
