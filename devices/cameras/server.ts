/**
 * The camera server (`concert serve camera`): a camera (dummy or file) in its own process,
 * controlled over the control channel, sending frames straight to registered data endpoints
 * (`grabSend`), the way uca-net and Concert camera servers do.
 * @module
 */
import { errorMessage, isQuantity, Logger, q, type Frame } from '../../core/index.js';
import {
  ControlServer,
  isStreamId,
  MAX_STREAM_ID_LENGTH,
  type ControlHandler,
  type CurveOptions,
  type SenderMode,
} from '../../transport/zmq/index.js';
import { createSender, type FrameSender } from '../../transport/frames.js';
import type { Camera } from './base.js';

/** Options of {@link CameraServer}. */
export interface CameraServerOptions {
  /** Control endpoint to bind, e.g. `tcp://127.0.0.1:8980`. */
  control: string;
  curve?: { server: CurveOptions };
}

/** A `grabSend` job as the client sees it. */
export interface GrabSendStatus {
  state: 'idle' | 'running' | 'done' | 'failed' | 'cancelled';
  /** The stream id the frames and the end marker were tagged with, if the client gave one. */
  stream?: string;
  requested: number;
  sent: number;
  error?: { name: string; message: string };
}

/** What `grabSend.start` takes. */
export interface GrabSendParams {
  /** Frames to grab and send. */
  count: number;
  /** Send the end marker after the last frame (default true). */
  end?: boolean;
  /** Stream id: every frame and the end marker carry it, so receivers can drop strays of other streams. */
  stream?: string;
}

/** Most data endpoints one camera server sends to. */
export const MAX_ENDPOINTS = 64;

/** A parameter value on the wire: quantities as a number and a unit. */
export type WireValue = { value: number; unit: string } | string | number | boolean;

/** Serves one camera. */
export class CameraServer {
  readonly log = new Logger('camera server');
  #control!: ControlServer;
  readonly #senders = new Map<string, FrameSender>();
  #job: { controller: AbortController; status: GrabSendStatus; done: Promise<void> } | undefined;
  #last: GrabSendStatus = { state: 'idle', requested: 0, sent: 0 };
  /** The stream being sent and each sender's `sent` counter when it began. */
  #streamSent: { id: string; start: Map<FrameSender, number> } | undefined;
  readonly #stopHooks: Array<() => Promise<void> | void> = [];

  constructor(
    readonly camera: Camera,
    readonly options: CameraServerOptions,
  ) {}

  get endpoint(): string {
    return this.#control.endpoint;
  }

  async start(): Promise<this> {
    const c = this.camera;
    this.#control = await ControlServer.create({
      bind: this.options.control,
      curve: this.options.curve?.server,
      handlers: {
        status: async () => ({
          kind: 'camera',
          pid: process.pid,
          camera: c.name,
          state: await c.getState(),
          endpoints: [...this.#senders.keys()],
          grabSend: this.#status(),
          memory: { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed },
        }),
        'param.list': () =>
          c
            .parameters()
            .map((p) => ({ name: p.name, kind: p.kind, writable: p.writable, unit: (p as { unit?: string }).unit })),
        'param.get': async (p) => toWire(await c.param(nameOf(p)).get()),
        'param.set': async (p) => void (await c.param(nameOf(p)).set(fromWire((p as { value: WireValue }).value))),
        'camera.startRecording': () => c.startRecording(),
        'camera.stopRecording': () => c.stopRecording(),
        'camera.startReadout': () => c.startReadout(),
        'camera.stopReadout': () => c.stopReadout(),
        'camera.trigger': () => c.trigger(),
        'camera.reset': () => c.reset(),
        'camera.grab': async () => encodeFrame(await c.grab()),
        // Dry runs: what the camera would deliver (frame 0's metadata as a sample of every frame's).
        'camera.estimate': async () => {
          const { metadata, ...estimate } = await c.estimateFrames();
          return { ...estimate, sample: metadata(0) };
        },
        'endpoint.register': (p) =>
          this.#register(p as { endpoint: string; mode?: SenderMode; sendHighWaterMark?: number }),
        'endpoint.unregister': (p) => this.#unregister(String((p as { endpoint?: unknown })?.endpoint)),
        'endpoint.unregisterAll': async () => {
          for (const e of [...this.#senders.keys()]) await this.#unregister(e);
        },
        'grabSend.start': (p) => this.#grabSend(p),
        'grabSend.status': () => this.#status(),
        'grabSend.cancel': () => this.#cancel(),
      },
    });
    return this;
  }

  async #register(p: {
    endpoint: string;
    mode?: SenderMode;
    sendHighWaterMark?: number;
  }): Promise<{ endpoint: string }> {
    if (!p || typeof p.endpoint !== 'string' || !/^(tcp|ipc|inproc|shm):\/\/./.test(p.endpoint))
      throw new TypeError(
        `endpoint.register needs { endpoint: 'tcp://127.0.0.1:port' (or ipc://, inproc://, shm://NAME), mode: 'push' | 'pub' }, got ` +
          `endpoint ${JSON.stringify(p?.endpoint)?.slice(0, 80)}`,
      );
    if (this.#senders.has(p.endpoint)) return { endpoint: p.endpoint };
    const mode = p.mode ?? 'push';
    if (mode !== 'push' && mode !== 'pub')
      throw new TypeError(`endpoint.register: mode must be 'push' or 'pub', got ${JSON.stringify(mode)?.slice(0, 40)}`);
    const hwm = p.sendHighWaterMark;
    if (hwm !== undefined && !(Number.isSafeInteger(hwm) && hwm >= 1 && hwm <= 100_000))
      throw new TypeError(
        `endpoint.register: sendHighWaterMark must be a whole number in [1, 100000], got ${JSON.stringify(hwm)?.slice(0, 40)}`,
      );
    if (this.#senders.size >= MAX_ENDPOINTS)
      throw new RangeError(
        `endpoint.register: already sending to ${MAX_ENDPOINTS} endpoints (the most a camera server takes)`,
      );
    // shm://NAME: frames through shared memory to one consumer on this host (transport/shm)
    const sender = await createSender({
      mode,
      bind: p.endpoint,
      sendHighWaterMark: p.sendHighWaterMark,
      curve: this.options.curve?.server,
    });
    this.#senders.set(p.endpoint, sender);
    this.log.info(`sending ${mode} to ${sender.endpoint}`);
    return { endpoint: sender.endpoint };
  }

  async #unregister(endpoint: string): Promise<void> {
    const sender = this.#senders.get(endpoint);
    if (!sender)
      throw new Error(
        `no registered endpoint ${endpoint} (registered: ${[...this.#senders.keys()].join(', ') || 'none'})`,
      );
    if (this.#job) throw new Error(`cannot unregister ${endpoint} while grabSend is running`);
    this.#senders.delete(endpoint);
    sender.close();
  }

  #status(): GrabSendStatus {
    return { ...(this.#job?.status ?? this.#last) };
  }

  #grabSend(params: unknown): GrabSendStatus {
    const p = (params ?? {}) as Partial<GrabSendParams>;
    const count = p.count;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0)
      throw new TypeError(`grabSend: count must be a whole number ≥ 0, got ${JSON.stringify(count)?.slice(0, 40)}`);
    if (p.stream !== undefined && !isStreamId(p.stream))
      throw new TypeError(
        `grabSend: stream must be a string of 1 to ${MAX_STREAM_ID_LENGTH} characters, got ${JSON.stringify(p.stream)?.slice(0, 40)}`,
      );
    const end = p.end !== false;
    if (this.#job) throw new Error('grabSend is already running');
    if (this.#senders.size === 0) throw new Error('grabSend: no registered endpoints');
    const controller = new AbortController();
    const status: GrabSendStatus = {
      state: 'running',
      ...(p.stream === undefined ? {} : { stream: p.stream }),
      requested: count,
      sent: 0,
    };
    const done = this.#run(count, end, status, controller.signal).finally(() => {
      this.#last = { ...status };
      this.#job = undefined;
    });
    this.#job = { controller, status, done };
    return { ...status };
  }

  async #run(count: number, end: boolean, status: GrabSendStatus, signal: AbortSignal): Promise<void> {
    const senders = [...this.#senders.values()];
    const stream = status.stream;
    // a stream may be sent in several grabSends (one per triggered frame): count per stream
    if (stream !== undefined && this.#streamSent?.id !== stream) this.#streamSent = { id: stream, start: new Map() };
    const start = this.#streamSent?.start;
    for (const s of senders) if (start && !start.has(s)) start.set(s, s.counters.sent);
    try {
      for (let i = 0; i < count; i++) {
        signal.throwIfAborted();
        const frame = await this.camera.grab({ signal });
        await Promise.all(senders.map((s) => s.send(frame, { signal, stream })));
        status.sent++;
      }
      status.state = 'done';
    } catch (error) {
      if (signal.aborted) status.state = 'cancelled';
      else {
        status.state = 'failed';
        status.error = { name: (error as Error)?.name ?? 'Error', message: errorMessage(error) };
        this.log.error(`grabSend failed: ${errorMessage(error)}`, error);
      }
    }
    // The end marker tells receivers the stream is over (also after a cancel, so they can drain);
    // after a cancel or failure, a receiver that is gone must not hold the camera up.
    if (end || status.state !== 'done') {
      // each receiver learns how many frames its sender sent in this stream
      const ends = Promise.all(
        senders.map((s) =>
          s
            .end(stream === undefined ? {} : { stream, frames: s.counters.sent - start!.get(s)! })
            .catch(() => undefined),
        ),
      );
      if (stream !== undefined) this.#streamSent = undefined;
      if (status.state === 'done') await ends;
      else await Promise.race([ends, new Promise((r) => setTimeout(r, 500))]);
    }
  }

  async #cancel(): Promise<GrabSendStatus> {
    const job = this.#job;
    if (job) {
      job.controller.abort(new DOMException('grabSend cancelled', 'AbortError'));
      await job.done;
    }
    return this.#status();
  }

  /**
   * Adds (or replaces) a control method, e.g. the conductor's `acquisition.*` commands
   * (`conductor/host/`). Call after {@link start}.
   */
  handle(method: string, handler: ControlHandler): this {
    this.#control.handle(method, handler);
    return this;
  }

  /** Runs `fn` first when the server stops (e.g. to close a recording's files). */
  onStop(fn: () => Promise<void> | void): void {
    this.#stopHooks.push(fn);
  }

  /** Cancels a running grabSend, stops recording and closes the sockets. */
  async stop(): Promise<void> {
    for (const fn of this.#stopHooks.splice(0))
      await Promise.resolve()
        .then(fn)
        .catch((error: unknown) => this.log.error(`while stopping: ${errorMessage(error)}`, error));
    await this.#cancel();
    // A normal shutdown (SIGTERM) stops recording the ordinary way: no "emergency stop" warning.
    // Only a camera that will not stop so is stopped hard.
    try {
      if ((await this.camera.getState()) === 'recording') await this.camera.stopRecording();
    } catch {
      await this.camera.emergencyStop().catch(() => undefined);
    }
    for (const s of this.#senders.values()) s.close();
    this.#control?.close();
  }
}

function nameOf(p: unknown): string {
  const name = (p as { name?: unknown })?.name;
  if (typeof name !== 'string') throw new TypeError('expected { name: string }');
  return name;
}

/** A parameter value for the wire. */
export function toWire(value: unknown): WireValue {
  if (isQuantity(value)) {
    const unit = value.formatUnits();
    return { value: value.toNumber(unit), unit };
  }
  return value as WireValue;
}

/** A parameter value from the wire. */
export function fromWire(value: WireValue): unknown {
  if (typeof value === 'object' && value !== null && typeof value.value === 'number' && typeof value.unit === 'string')
    return q(value.value, value.unit);
  return value;
}

/** A frame in a control reply (single grabs only; streams go over data sockets). */
export function encodeFrame(frame: Frame): {
  dtype: string;
  shape: readonly number[];
  metadata: unknown;
  data: string;
} {
  const bytes = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  return { dtype: frame.dtype, shape: frame.shape, metadata: frame.metadata, data: bytes.toString('base64') };
}
