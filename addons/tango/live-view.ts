/**
 * Tango live view (Python Concert's `tango_addons.LiveView(viewer, endpoint, ex)`): the camera
 * publishes each acquisition's frames on `data` (PUB/SUB, latest wins: it never slows the camera);
 * the session subscribes to them and shows the newest in a viewer. No device server is involved.
 * @module
 */
import { errorMessage, z, zwhere } from '../../core/index.js';
import type { RemoteCamera } from '../../devices/cameras/remote.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { ZmqReceiver } from '../../transport/zmq/index.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';
import { LogViewer, type Viewer } from '../local/live-view.js';
import { checkData, isRemoteCamera } from './addon.js';

/** The options of {@link TangoLiveView.create}. */
export const TANGO_LIVE_VIEW_OPTIONS = ADDON_OPTIONS.extend({
  /** Where the camera publishes the frames, e.g. `tcp://127.0.0.1:8993`. */
  data: z.string(),
  /** Where frames are shown (default: a LogViewer reporting frame rate and drops). */
  viewer: zwhere(
    'a Viewer (an object with show(frame))',
    (v): v is Viewer => typeof v === 'object' && v !== null && typeof (v as Viewer).show === 'function',
  ).optional(),
  /** The camera that publishes (default: the experiment's `camera`). */
  camera: zwhere('a remote camera', isRemoteCamera).optional(),
  /** Give up on a stream with no frame for this long (ms, default 30000). */
  idleTimeoutMs: z.number().min(1).optional(),
});

/** Options of {@link TangoLiveView.create}. */
export type TangoLiveViewOptions = z.input<typeof TANGO_LIVE_VIEW_OPTIONS>;

/** Shows the newest frame the camera publishes; counts the frames shown. */
export class TangoLiveView extends Addon {
  static override readonly options = TANGO_LIVE_VIEW_OPTIONS;
  readonly kind = 'remote';
  readonly viewer: Viewer;
  readonly #options: TangoLiveViewOptions;
  #receiver: ZmqReceiver | undefined;
  #camera: RemoteCamera | undefined;
  #shown = 0;

  constructor(experiment: Experiment, options: TangoLiveViewOptions) {
    super(experiment, options);
    checkData(this.constructor.name, options?.data, 'publishes');
    this.#options = options;
    this.viewer = options.viewer ?? new LogViewer();
  }

  /** Frames shown so far. */
  get shown(): number {
    return this.#shown;
  }

  protected override async setup(): Promise<void> {
    const camera = this.#options.camera ?? (this.experiment as { camera?: unknown }).camera;
    if (!isRemoteCamera(camera))
      throw new AddonError(`${this.name}: needs a remote camera that publishes the frames: pass { camera }`);
    await camera.registerEndpoint(this.#options.data, { mode: 'pub', sendHighWaterMark: 1 });
    this.#camera = camera;
    try {
      this.#receiver = await ZmqReceiver.create({ mode: 'sub', connect: this.#options.data });
    } catch (e) {
      await camera.unregisterEndpoint(this.#options.data).catch(() => undefined);
      throw new AddonError(`${this.name}: cannot subscribe to ${this.#options.data}: ${errorMessage(e)}`, { cause: e });
    }
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    return {
      name: `${this.name}:${acquisition.name}`,
      policy: 'latest',
      kind: 'remote',
      consume: async (_frames, ctx) => {
        const receiver = this.#receiver;
        if (!receiver) return;
        this.viewer.streamState?.({ acquisition: acquisition.name, running: true });
        // Stop with the producer: a latest-wins subscriber may miss the end marker.
        const stop = new AbortController();
        const onAbort = () => stop.abort(ctx.signal.reason);
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        ctx.produced.then(
          () => setTimeout(() => stop.abort(), 200),
          () => stop.abort(),
        );
        try {
          for await (const frame of receiver.stream({
            signal: stop.signal,
            idleTimeoutMs: this.#options.idleTimeoutMs ?? 30_000,
          })) {
            await this.viewer.show(frame, { acquisition: acquisition.name, dropped: 0 });
            this.#shown++;
          }
        } catch (e) {
          if (!stop.signal.aborted) throw e;
        } finally {
          ctx.signal.removeEventListener('abort', onAbort);
          this.viewer.streamState?.({ acquisition: acquisition.name, running: false });
        }
      },
    };
  }

  protected override counters(): Record<string, unknown> {
    return { shown: this.#shown };
  }

  /** Detaches, unsubscribes and unregisters the endpoint. */
  async close(): Promise<void> {
    await this.detach();
    this.#receiver?.close();
    this.#receiver = undefined;
    await this.#camera?.unregisterEndpoint(this.#options.data).catch(() => undefined);
    this.#camera = undefined;
  }
}

export { TangoLiveView as LiveView };
