/**
 * The base of remote addons: the addon's server connects its data socket to an endpoint the
 * remote camera sends to; each acquisition run becomes one stream on the server, confirmed
 * (with its frame count) before the acquisition ends.
 * @module
 */
import { errorMessage, MAX_TIMER_MS, sleep, z, zwhere } from '../../core/index.js';
import type { AcquisitionPlan, AddonEstimate, PlanContext } from '../../experiments/estimate.js';
import { zcurve } from '../../transport/zmq/index.js';
import type { RemoteCamera } from '../../devices/cameras/remote.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';
import { CANCEL_TIMEOUT_MS, ServerClient } from './client.js';

/** How often `prepare` asks a server that is still ending an earlier run's stream (ms). */
const BUSY_POLL_MS = 50;

/** Options of remote addons. */
export type RemoteAddonOptions = z.input<typeof REMOTE_ADDON_OPTIONS>;

function isRemoteCamera(v: unknown): v is RemoteCamera {
  return typeof v === 'object' && v !== null && typeof (v as RemoteCamera).registerEndpoint === 'function';
}

/** The options of remote addons. */
export const REMOTE_ADDON_OPTIONS = ADDON_OPTIONS.extend({
  /** The server's control endpoint, e.g. `tcp://127.0.0.1:8990`. */
  server: z.string(),
  /** Where the camera sends this addon's frames (the camera binds it, the server connects). */
  data: z.string(),
  /** The camera that sends (default: the experiment's `camera`). */
  camera: zwhere('a remote camera', isRemoteCamera).optional(),
  /** Server timeout in ms (default 3000). */
  timeoutMs: z.number().min(1).max(MAX_TIMER_MS).optional(),
  /** CURVE client options for the control connection (see `concert/transport`). */
  curve: zcurve.optional(),
});

/** A remote addon: frames go from the camera to its server, not through the session. */
export abstract class RemoteAddon extends Addon {
  static override readonly options = REMOTE_ADDON_OPTIONS;
  readonly kind = 'remote';
  /** Lossless addons use PUSH/PULL, latest-wins ones PUB/SUB with HWM 1. */
  protected abstract readonly lossless: boolean;
  readonly #options: RemoteAddonOptions;
  #client: ServerClient | undefined;
  #camera: RemoteCamera | undefined;
  /** Whether the server answered, per dry run. */
  readonly #answers = new WeakMap<PlanContext, Promise<boolean>>();
  /** Ids of the streams this addon started (the latest few). */
  readonly #started = new Set<string>();

  constructor(experiment: Experiment, options: RemoteAddonOptions) {
    super(experiment, options);
    if (!options || typeof options.server !== 'string' || typeof options.data !== 'string')
      throw new AddonError(
        `${this.constructor.name} needs { server: 'tcp://host:port' (control), data: 'tcp://host:port' (frames) }`,
      );
    this.#options = options;
  }

  /** The server client (after create). */
  get server(): ServerClient {
    if (!this.#client) throw new AddonError(`${this.name} is not connected to its server`);
    return this.#client;
  }

  protected override async setup(): Promise<void> {
    const camera = this.#options.camera ?? (this.experiment as { camera?: unknown }).camera;
    if (!isRemoteCamera(camera))
      throw new AddonError(
        `${this.name}: needs a remote camera that sends the frames: pass { camera } or use an experiment with a remote camera`,
      );
    this.#camera = camera;
    this.#client = await ServerClient.create(this.#options.server, {
      timeoutMs: this.#options.timeoutMs,
      curve: this.#options.curve,
    });
    await camera.registerEndpoint(this.#options.data, { mode: this.lossless ? 'push' : 'pub' });
    await this.#client.connectData(this.#options.data, this.lossless ? 'pull' : 'sub');
    await this.configure(this.#client);
  }

  /**
   * Asks the server whether it answers (within 1 s): a server that does not is a limit of the
   * run. Writes nothing of its own (the remote writer adds its datasets).
   */
  override async estimate(
    _acquisition: Acquisition,
    _plan: AcquisitionPlan,
    context: PlanContext,
  ): Promise<AddonEstimate | undefined> {
    await this.serverAnswers(context);
    return undefined;
  }

  /** Whether the server answers (asked once per dry run); a limit in `context` if not. */
  protected serverAnswers(context: PlanContext): Promise<boolean> {
    let answer = this.#answers.get(context);
    if (!answer) {
      const endpoint = this.#options.server;
      answer = this.server.request('status', undefined, { timeoutMs: 1000 }).then(
        () => true,
        (error: unknown) => {
          context.limit(this.name, `${this.name}: the server ${endpoint} does not answer: ${errorMessage(error)}`);
          return false;
        },
      );
      this.#answers.set(context, answer);
    }
    return answer;
  }

  /** Sends addon-specific settings to the server. */
  protected async configure(_server: ServerClient): Promise<void> {}

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    return {
      name: `${this.name}:${acquisition.name}`,
      policy: this.lossless ? 'lossless' : 'latest',
      kind: 'remote',
      prepare: async (ctx) => {
        // A restarted camera server has forgotten the endpoint, a restarted addon server its
        // data connection: restore both (each is a no-op when nothing changed).
        await this.#camera!.registerEndpoint(this.#options.data, { mode: this.lossless ? 'push' : 'pub' });
        let status = await this.server.status();
        // a stream of an earlier run that the server is still busy with (its cancel came late): drop it
        const ours = () => status.stream.id !== undefined && this.#started.has(status.stream.id);
        if (status.stream.state === 'running' && ours())
          await this.server.request('stream.cancel', { id: status.stream.id }, { timeoutMs: CANCEL_TIMEOUT_MS });
        // and wait while that stream ends (a reconstruction closing after a cancel or a failure);
        // a stream of someone else is refused by stream.start at once
        const until = performance.now() + CANCEL_TIMEOUT_MS;
        for (;;) {
          if (status.state === 'ready' || status.state === 'draining' || status.state === 'unconnected') break;
          if (!(status.state === 'closing' || ours()) || performance.now() > until) break;
          await sleep(BUSY_POLL_MS, ctx.signal);
          status = await this.server.status();
        }
        if (status.data !== this.#options.data)
          await this.server.connectData(this.#options.data, this.lossless ? 'pull' : 'sub');
        await this.beforeStream(this.server, acquisition);
        await this.server.startStream(acquisition.name, { ...this.streamParams(acquisition), id: ctx.streamId });
        this.#started.add(ctx.streamId);
        if (this.#started.size > 64) this.#started.delete(this.#started.values().next().value!);
      },
      consume: async (_frames, ctx) => {
        await this.server.followStream(acquisition.name, ctx.produced, {
          signal: ctx.signal,
          lossless: this.lossless,
          id: ctx.streamId,
          onStatus: (status) => ctx.confirm(status.frames),
        });
      },
    };
  }

  /** Tells the server what it needs before an acquisition's stream starts. */
  protected async beforeStream(_server: ServerClient, _acquisition: Acquisition): Promise<void> {}

  /** Extra `stream.start` parameters of this addon's server (e.g. where the writer writes). */
  protected streamParams(_acquisition: Acquisition): Record<string, unknown> {
    return {};
  }

  /** Detaches, disconnects the server's data socket, unregisters the endpoint and closes the client. */
  async close(): Promise<void> {
    await this.detach();
    await this.#client?.disconnectData().catch(() => undefined);
    await this.#camera?.unregisterEndpoint(this.#options.data).catch(() => undefined);
    this.#client?.close();
  }
}
