/**
 * A camera served by `concert serve camera` in another process (or on another machine):
 * controlled like a local camera (same base contract), while its frames go straight from the
 * server to registered data endpoints (`registerEndpoint`, `grabSend`).
 * @module
 */
import * as errors from '../../core/errors.js';
import {
  arrayConstructor,
  check,
  checkCallOptions,
  DEVICE_OPTIONS,
  makeFrame,
  MAX_TIMER_MS,
  q,
  show,
  SIGNAL_OPTIONS,
  sleep,
  z,
  type DType,
  type Frame,
} from '../../core/index.js';
import {
  ControlClient,
  RemoteError,
  TransportError,
  zcurve,
  type CurveOptions,
  type SenderMode,
} from '../../transport/zmq/index.js';
import * as base from './base.js';
import type { GrabSendStatus, WireValue } from './server.js';

/** The options of {@link RemoteCamera.create}. */
export const REMOTE_CAMERA_OPTIONS = DEVICE_OPTIONS.extend({
  /** The camera server's control endpoint, e.g. `tcp://127.0.0.1:8980`. */
  endpoint: z.string(),
  /** A request without a reply in this long means the server is gone (ms, default 3000). */
  timeoutMs: z.number().min(1).max(MAX_TIMER_MS).optional(),
  /** CURVE keys of the control connection (see concert/transport/zmq). */
  curve: zcurve.optional(),
});

/** The options of {@link RemoteCamera.grabSend}. */
export const GRAB_SEND_OPTIONS = SIGNAL_OPTIONS.extend({
  /** Send the end marker after the frames (default true). */
  end: z.boolean().optional(),
  /** The stream id to tag the frames and the end marker with (default: the one of `withStream`). */
  stream: z.string().min(1).optional(),
});

/** Options of {@link RemoteCamera.create}. */
export type RemoteCameraOptions = z.input<typeof REMOTE_CAMERA_OPTIONS>;

/** A remote camera: `await Camera.create({ endpoint })` from `concert/devices/cameras/remote`. */
export class RemoteCamera extends base.Camera {
  static override readonly options = REMOTE_CAMERA_OPTIONS;
  readonly endpoint: string;
  readonly #timeoutMs: number;
  readonly #curve: CurveOptions | undefined;
  #client!: ControlClient;
  #sent = 0;
  #stream: string | undefined;
  /** The name of the camera in the server (its frames carry it). */
  #serverCamera = '';

  /** Frames this camera's server sent to registered endpoints through `grabSend`, in total. */
  get sentFrames(): number {
    return this.#sent;
  }

  constructor(options: RemoteCameraOptions) {
    super(options);
    this.endpoint = options?.endpoint;
    this.#timeoutMs = options?.timeoutMs ?? 3000;
    this.#curve = options?.curve;
  }

  protected override async connect(): Promise<void> {
    if (typeof this.endpoint !== 'string')
      throw new TypeError("RemoteCamera.create needs { endpoint: 'tcp://host:port' }");
    this.#client = await ControlClient.create({
      connect: this.endpoint,
      timeoutMs: this.#timeoutMs,
      curve: this.#curve,
    });
    const status = await this.#client.request<{ state: string; camera?: string }>('status');
    this.#serverCamera = status.camera ?? this.name;
    if (status.state !== 'standby') this.log.warn(`the camera server is in state '${status.state}'`);
  }

  /**
   * What the server's camera would send: its settings read from the server, frames tagged by
   * the server (its camera's name and the run's stream id) and sent straight to remote consumers.
   */
  override async estimateFrames(): Promise<base.FrameEstimate> {
    // every run's stream id has 12 hex digits (the acquisition's randomBytes(6))
    const stream = '0'.repeat(12);
    let server: (Omit<base.FrameEstimate, 'metadata'> & { sample: Record<string, unknown> }) | undefined;
    try {
      server = await this.#call('camera.estimate');
    } catch (error) {
      if (!(error instanceof RemoteError && /unknown control method/.test(error.message))) throw error;
    }
    if (server) {
      const { sample, ...estimate } = server;
      return { ...estimate, direct: true, metadata: (index) => ({ ...sample, frameNumber: index, stream }) };
    }
    // A server without camera.estimate: the settings read through it, the metadata of a dummy.
    const estimate = await super.estimateFrames();
    const camera = this.#serverCamera;
    const timestamp = Date.now();
    return { ...estimate, direct: true, metadata: (index) => ({ frameNumber: index, timestamp, camera, stream }) };
  }

  protected override async disconnectHook(): Promise<void> {
    this.#client?.close();
  }

  async #call<T>(method: string, params?: unknown, signal?: AbortSignal): Promise<T> {
    try {
      return await this.#client.request<T>(method, params, { signal });
    } catch (error) {
      throw localError(error);
    }
  }

  async #get(name: string, unit?: string): Promise<never> {
    const v = await this.#call<WireValue>('param.get', { name });
    if (unit && typeof v === 'object') return q(v.value, v.unit).toNumber(unit) as never;
    return v as never;
  }

  async #set(name: string, value: number | string, unit?: string): Promise<void> {
    await this.#call('param.set', { name, value: unit ? { value, unit } : value });
  }

  protected readExposureTime(): Promise<number> {
    return this.#get('exposureTime', 's');
  }
  protected writeExposureTime(s: number): Promise<void> {
    return this.#set('exposureTime', s, 's');
  }
  protected readFrameRate(): Promise<number> {
    return this.#get('frameRate', 'Hz');
  }
  protected writeFrameRate(hz: number): Promise<void> {
    return this.#set('frameRate', hz, 'Hz');
  }
  protected readTriggerSource(): Promise<base.TriggerSource> {
    return this.#get('triggerSource');
  }
  protected writeTriggerSource(source: base.TriggerSource): Promise<void> {
    return this.#set('triggerSource', source);
  }
  protected async readRoi(): Promise<base.Roi> {
    const [x0, y0, width, height] = await Promise.all(
      ['roiX0', 'roiY0', 'roiWidth', 'roiHeight'].map((n) => this.#get(n, 'px')),
    );
    return { x0, y0, width, height };
  }
  protected async writeRoi(roi: base.Roi): Promise<void> {
    const current = await this.readRoi();
    for (const [key, name] of [
      ['x0', 'roiX0'],
      ['y0', 'roiY0'],
      ['width', 'roiWidth'],
      ['height', 'roiHeight'],
    ] as const)
      if (roi[key] !== current[key]) await this.#set(name, roi[key], 'px');
  }
  protected async readSensorSize(): Promise<{ width: number; height: number }> {
    // The server checks the ROI against its sensor; allow anything here.
    return { width: Number.MAX_SAFE_INTEGER, height: Number.MAX_SAFE_INTEGER };
  }
  protected async recordHook(start: boolean): Promise<void> {
    await this.#call(start ? 'camera.startRecording' : 'camera.stopRecording');
  }
  protected override async readoutHook(start: boolean): Promise<void> {
    await this.#call(start ? 'camera.startReadout' : 'camera.stopReadout');
  }
  protected async triggerHook(): Promise<void> {
    await this.#call('camera.trigger');
  }
  protected override async resetHook(): Promise<void> {
    await this.#call('camera.reset');
  }
  protected async grabHook(signal: AbortSignal): Promise<Frame> {
    const f = await this.#call<{
      dtype: DType;
      shape: [number, number];
      metadata: Record<string, unknown>;
      data: string;
    }>('camera.grab', undefined, signal);
    const bytes = Buffer.from(f.data, 'base64');
    const copy = new Uint8Array(bytes).buffer;
    return makeFrame(new (arrayConstructor(f.dtype))(copy), f.shape, f.metadata);
  }

  /** Makes the server send frames to `endpoint` (it binds there; consumers connect). */
  async registerEndpoint(
    endpoint: string,
    options: { mode?: SenderMode; sendHighWaterMark?: number } = {},
  ): Promise<void> {
    await this.#call('endpoint.register', { endpoint, ...options });
  }

  async unregisterEndpoint(endpoint: string): Promise<void> {
    await this.#call('endpoint.unregister', { endpoint });
  }

  async unregisterAll(): Promise<void> {
    await this.#call('endpoint.unregisterAll');
  }

  /**
   * Runs `fn` with `stream` as the stream id of every `grabSend` that does not name its own (an
   * acquisition run whose frames are sent one `grabSend` at a time, e.g. a stepped tomography).
   */
  async withStream<T>(stream: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#stream;
    this.#stream = stream;
    try {
      return await fn();
    } finally {
      this.#stream = previous;
    }
  }

  /**
   * Grabs `count` frames on the server and sends them to every registered endpoint, then the end
   * marker. Resolves with the number sent. Aborting cancels it on the server (which still sends
   * the end marker so consumers can drain). `stream` (default: the one of {@link withStream})
   * tags every frame and the end marker, so receivers reading another stream drop them.
   * @throws TransportError when the server stops answering (naming it), RemoteError with its error,
   *   DeliveryError when the server could not send the frames (the camera stays in its state: the
   *   receiving side failed, not the camera); OptionError for a bad count or option.
   */
  @check(['recording', 'readout'], ['recording', 'readout'], { fault: (e) => !(e instanceof DeliveryError) })
  async grabSend(
    count: number,
    options: { signal?: AbortSignal; end?: boolean; stream?: string } = {},
  ): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 0)
      throw new errors.OptionError(`${this.name}.grabSend: count must be a whole number ≥ 0, got ${show(count)}`);
    checkCallOptions(() => `${this.name}.grabSend`, GRAB_SEND_OPTIONS, options);
    const stream = options.stream ?? this.#stream;
    return this.operation(options.signal, async (signal) => {
      await this.#call('grabSend.start', {
        count,
        end: options.end ?? true,
        ...(stream === undefined ? {} : { stream }),
      });
      try {
        for (;;) {
          const status = await this.#call<GrabSendStatus>('grabSend.status');
          if (status.state === 'done') {
            this.#sent += status.sent;
            return status.sent;
          }
          if (status.state === 'failed') {
            const message = status.error?.message ?? 'unknown error';
            // A send that failed is the receiving side's failure (gone, full, too slow), not the camera's.
            if (status.error?.name === 'TransportError')
              throw new DeliveryError(
                `${this.name}: grabSend could not deliver frames from ${this.endpoint}: ${message}`,
                this.endpoint,
              );
            throw new Error(`${this.name}: grabSend failed on ${this.endpoint}: ${message}`);
          }
          if (status.state === 'cancelled')
            throw new DOMException(`${this.name}: grabSend was cancelled on the server`, 'AbortError');
          await sleep(50, signal);
        }
      } catch (error) {
        if (signal.aborted) await this.#client.request('grabSend.cancel').catch(() => undefined);
        throw error;
      }
    });
  }

  protected override async stopHook(): Promise<void> {
    await this.#client.request('grabSend.cancel').catch(() => undefined);
    await super.stopHook();
  }
}

/**
 * The camera server could not deliver frames to a registered endpoint (nobody took them in time,
 * a receiver is gone): a failure of the receiving side, which leaves the camera's state unchanged.
 */
export class DeliveryError extends TransportError {
  override name = 'DeliveryError';
}

/**
 * A Concert error the server raised, as the same class here (so a remote camera fails the way a
 * local one does); anything else unchanged.
 */
function localError(error: unknown): unknown {
  if (!(error instanceof RemoteError)) return error;
  const Class = (errors as Record<string, unknown>)[error.remoteName];
  if (
    typeof Class !== 'function' ||
    !(Class.prototype instanceof errors.ConcertError) ||
    Class === errors.NotConnectedError
  )
    return error;
  const message = error.message.replace(/^.*?'[^']*': \w+: /, '');
  if (Class === errors.TransitionNotAllowed) {
    const state = /in state '([^']*)'/.exec(message)?.[1] ?? 'unknown';
    return new errors.TransitionNotAllowed(message, state, { cause: error });
  }
  return new (Class as new (message: string, options?: ErrorOptions) => Error)(message, { cause: error });
}

/** The family names users import: `import { Camera } from 'concert/devices/cameras/remote'`. */
export { RemoteCamera as Camera };
