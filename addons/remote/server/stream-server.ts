/**
 * The base of addon servers (`concert serve writer|live|benchmarker|reco`): a control endpoint,
 * a data socket connected to a sender, and one stream at a time handed to the subclass. What
 * it takes when is the explicit state machine of `stream-state.ts`.
 * @module
 */
import { errorMessage, isAbortError, Logger, type Frame } from '../../../core/index.js';
import {
  ControlServer,
  isStreamId,
  MAX_STREAM_ID_LENGTH,
  type CurveOptions,
  type EndHeader,
} from '../../../transport/zmq/index.js';
import { createReceiver, type FrameReceiver } from '../../../transport/frames.js';
import type { DataMode, ServerKind, ServerStatus, StreamStatus } from '../protocol.js';
import { StreamStateMachine, type StreamServerState } from './stream-state.js';

/** Options of every stream server. */
export interface StreamServerOptions {
  /** Control endpoint to bind, e.g. `tcp://127.0.0.1:8990`. */
  control: string;
  /** Fail a running stream when no frame arrives for this long (ms, default 30000). */
  idleTimeoutMs?: number;
  /** CURVE for the control and data sockets. */
  curve?: { server: CurveOptions; client: CurveOptions };
}

/** Something a server does with one stream's frames. */
export interface StreamSink {
  frame(frame: Frame): Promise<void> | void;
  /** `ok`: the end marker arrived with every frame; otherwise the stream was cancelled or failed. */
  close(ok: boolean): Promise<void>;
}

/** What `stream.start` takes. */
export interface StreamStartParams {
  name: string;
  /** Stream id: frames tagged with another id are strays of an earlier stream. */
  id?: string;
  [key: string]: unknown;
}

/** How long a drain waits for more of a cancelled untagged stream before it gives up (ms). */
const DRAIN_QUIET_MS = 500;

const IDLE: StreamStatus = { state: 'idle', name: undefined, frames: 0, bytes: 0, invalid: 0, stray: 0 };

/** A server that consumes one stream at a time from its data socket. */
export abstract class StreamServer {
  readonly log: Logger;
  #control!: ControlServer;
  readonly #machine = new StreamStateMachine();
  #receiver: FrameReceiver | undefined;
  #data: { endpoint: string; mode: DataMode } | undefined;
  #stream: StreamStatus = { ...IDLE };
  /** The stream `stream.start` is opening, and whether a `stream.cancel` came meanwhile. */
  #opening: { id: string | undefined; cancelled: boolean } | undefined;
  /** The running stream's consumer, or the drain after a cancelled untagged stream. */
  #task: { controller: AbortController; done: Promise<void> } | undefined;
  readonly #totals = { streams: 0, frames: 0, invalid: 0, stray: 0, errors: 0 };
  readonly #idleTimeoutMs: number;

  constructor(
    readonly kind: ServerKind,
    readonly options: StreamServerOptions,
  ) {
    this.log = new Logger(`${kind} server`);
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  }

  /** Where the control endpoint listens. */
  get endpoint(): string {
    return this.#control.endpoint;
  }

  /** What the server is doing. */
  get state(): StreamServerState {
    return this.#machine.state;
  }

  /** Binds the control endpoint and starts answering. */
  async start(): Promise<this> {
    this.#control = await ControlServer.create({
      bind: this.options.control,
      curve: this.options.curve?.server,
      handlers: {
        status: () => this.status(),
        connect: (p) => this.#connect(p),
        disconnect: () => this.#disconnect(),
        'stream.start': (p) => this.#startStream(p),
        'stream.status': () => ({ ...this.#stream }),
        'stream.cancel': (p) => this.#cancelStream((p as { id?: unknown } | null)?.id),
        ...this.handlers(),
      },
    });
    return this;
  }

  /** Extra control methods of the subclass. */
  protected handlers(): Record<string, (params: unknown) => unknown> {
    return {};
  }

  /** Opens what one stream's frames go to. @throws to refuse the stream (the client gets the message). */
  protected abstract openStream(name: string, params: StreamStartParams): Promise<StreamSink>;

  /** Server-specific status values. */
  protected extraStatus(): Record<string, unknown> | undefined {
    return undefined;
  }

  status(): ServerStatus {
    const { rss, heapUsed } = process.memoryUsage();
    return {
      kind: this.kind,
      pid: process.pid,
      state: this.#machine.state,
      data: this.#data?.endpoint,
      stream: { ...this.#stream },
      totals: { ...this.#totals },
      memory: { rss, heapUsed },
      extra: this.extraStatus(),
    };
  }

  async #connect(params: unknown): Promise<{ endpoint: string }> {
    const p = (params ?? {}) as { endpoint?: unknown; mode?: unknown };
    if (typeof p.endpoint !== 'string' || !/^(tcp|ipc|inproc|shm):\/\/./.test(p.endpoint))
      throw new TypeError(
        `connect needs { endpoint: 'tcp://host:port' (or ipc://, inproc://, shm://NAME), mode: 'pull' | 'sub' }, got endpoint ` +
          `${JSON.stringify(p.endpoint)?.slice(0, 80)}`,
      );
    const endpoint = p.endpoint;
    const mode = p.mode ?? 'pull';
    if (mode !== 'pull' && mode !== 'sub')
      throw new TypeError(`connect: mode must be 'pull' or 'sub', got ${JSON.stringify(mode)?.slice(0, 40)}`);
    if (this.#receiver && this.#data?.endpoint === endpoint && this.#data.mode === mode) return { endpoint };
    this.#machine.check('connect');
    const back = this.#machine.state === 'unconnected' ? 'unconnected' : 'ready';
    this.#machine.enter('connecting');
    let receiver: FrameReceiver;
    try {
      await this.#stopTask();
      // shm://NAME: a camera server's shared-memory sender on this host (transport/shm)
      receiver = await createReceiver({
        mode,
        connect: endpoint,
        curve: this.options.curve?.client,
        onInvalid: (reason) => {
          this.#stream.invalid++;
          const n = ++this.#totals.invalid;
          if (n <= 5 || n % 1000 === 0) this.log.warn(`dropped invalid message #${n}: ${reason}`);
        },
        onStray: (reason) => {
          const n = ++this.#stream.stray;
          this.#totals.stray++;
          if (n <= 3 || n % 100 === 0) this.log.warn(`dropped stray #${n}: ${reason}`);
        },
      });
    } catch (error) {
      // the socket that worked before is still in place
      this.#machine.enter(this.#receiver ? 'ready' : back);
      throw error;
    }
    this.#receiver?.close();
    this.#receiver = receiver;
    this.#data = { endpoint, mode };
    this.#machine.enter('ready');
    this.log.info(`data socket (${mode}) connected to ${endpoint}`);
    return { endpoint };
  }

  async #disconnect(): Promise<void> {
    if (this.#machine.state === 'streaming') await this.#cancelStream(undefined);
    this.#machine.check('disconnect');
    if (this.#machine.state === 'unconnected') return;
    this.#machine.enter('unconnected');
    await this.#stopTask();
    this.#receiver?.close();
    this.#receiver = undefined;
    this.#data = undefined;
  }

  async #startStream(params: unknown): Promise<StreamStatus> {
    const p = (params ?? {}) as StreamStartParams;
    const name = p.name;
    if (typeof name !== 'string' || name.length === 0 || name.length > 256)
      throw new TypeError(
        `stream.start needs { name: a non-empty string, id?: a stream id }, got name ${JSON.stringify(name)?.slice(0, 40)}`,
      );
    if (p.id !== undefined && !isStreamId(p.id))
      throw new TypeError(
        `stream.start: id must be a string of 1 to ${MAX_STREAM_ID_LENGTH} characters, got ${JSON.stringify(p.id)?.slice(0, 40)}`,
      );
    const id = p.id;
    // checked and taken in one synchronous step: a concurrent stream.start sees 'opening'
    this.#machine.check('stream.start');
    const draining = this.#machine.state === 'draining';
    this.#machine.enter('opening');
    this.#machine.stream = name;
    const opening = (this.#opening = { id, cancelled: false });
    let sink: StreamSink;
    try {
      // a tagged stream drops the rest of an untagged one itself; an untagged one waits for the drain
      if (draining) await (id === undefined ? this.#task?.done : this.#stopTask());
      if (!this.#receiver) throw new Error("no data connection: call 'connect' first");
      sink = await this.openStream(name, { ...p, name });
      if (opening.cancelled) {
        await sink.close(false).catch(() => undefined);
        throw new DOMException(`stream '${name}' was cancelled while it was being opened`, 'AbortError');
      }
    } catch (error) {
      this.#machine.enter('ready');
      this.#machine.stream = undefined;
      throw error;
    } finally {
      this.#opening = undefined;
    }
    const stream: StreamStatus = (this.#stream = { ...IDLE, state: 'running', name, ...(id ? { id } : {}) });
    this.#totals.streams++;
    const controller = new AbortController();
    this.#machine.enter('streaming');
    const done = this.#consume(this.#receiver, sink, stream, controller.signal);
    this.#task = { controller, done };
    return { ...stream };
  }

  async #consume(receiver: FrameReceiver, sink: StreamSink, stream: StreamStatus, signal: AbortSignal): Promise<void> {
    let ok = false;
    const frames = receiver.stream({ signal, idleTimeoutMs: this.#idleTimeoutMs, id: stream.id });
    try {
      let end: EndHeader;
      try {
        for (;;) {
          const next = await frames.next();
          if (next.done) {
            end = next.value;
            break;
          }
          await sink.frame(next.value);
          stream.frames++;
          stream.bytes += next.value.data.byteLength;
          this.#totals.frames++;
        }
      } finally {
        await frames.return(undefined as never); // the receiver can be read again
      }
      if (end.frames !== undefined) {
        stream.expected = end.frames;
        if (this.#data?.mode === 'pull' && stream.frames !== end.frames)
          throw new Error(
            `received ${stream.frames} of the ${end.frames} frames the sender sent in stream '${stream.name}'`,
          );
      }
      ok = true;
    } catch (error) {
      if (!isAbortError(error)) this.#fail(stream, error);
    }
    this.#machine.enter('closing');
    try {
      await sink.close(ok);
    } catch (error) {
      ok = false;
      this.#fail(stream, error);
    }
    if (ok) stream.state = 'done';
    else if (stream.state === 'running') stream.state = 'cancelled';
    this.log.info(
      `stream '${stream.name}' ${stream.state}: ${stream.frames} frames${stream.stray ? `, ${stream.stray} strays dropped` : ''}`,
    );
    this.#task = undefined;
    if (!ok && stream.id === undefined && this.#receiver === receiver) {
      // an untagged stream cannot be told from the next one: discard what is left of it
      this.#machine.enter('draining');
      const controller = new AbortController();
      const drained = this.#drain(receiver, controller.signal).finally(() => {
        if (this.#task?.done === drained) this.#task = undefined;
        if (this.#machine.state === 'draining') this.#machine.enter('ready');
      });
      this.#task = { controller, done: drained };
    } else this.#machine.enter('ready');
  }

  #fail(stream: StreamStatus, error: unknown): void {
    this.#totals.errors++;
    stream.state = 'failed';
    stream.error = { name: (error as Error)?.name ?? 'Error', message: errorMessage(error) };
    this.log.error(`stream '${stream.name}' failed: ${errorMessage(error)}`, error);
  }

  /** Discards frames up to the stream's end marker (or a quiet half second). */
  async #drain(receiver: FrameReceiver, signal: AbortSignal): Promise<void> {
    try {
      for await (const _ of receiver.stream({ idleTimeoutMs: DRAIN_QUIET_MS, signal }));
    } catch {
      // quiet for a while, or stopped: nothing left to drain
    }
  }

  /** Stops the drain (if one runs) and waits for it. */
  async #stopTask(): Promise<void> {
    const task = this.#task;
    if (!task) return;
    task.controller.abort(new DOMException('stopped', 'AbortError'));
    await task.done;
  }

  async #cancelStream(id: unknown): Promise<StreamStatus> {
    if (id !== undefined && !isStreamId(id))
      throw new TypeError(
        `stream.cancel takes { id?: a stream id }, got id ${JSON.stringify(id)?.slice(0, 40)} (without an id it cancels ` +
          `the current stream)`,
      );
    // a stream.start still opening (its handler runs concurrently) is cancelled as soon as it is open
    if (this.#opening && (id === undefined || this.#opening.id === id)) this.#opening.cancelled = true;
    const stream = this.#stream;
    if (id !== undefined && stream.id !== id) return { ...stream };
    const task = this.#task;
    if (task && this.#machine.state === 'streaming') {
      stream.state = 'cancelled';
      task.controller.abort(new DOMException('stream cancelled by the client', 'AbortError'));
      await task.done;
    }
    return { ...stream };
  }

  /** Cancels a running stream (closing its files), then closes the sockets. */
  async stop(): Promise<void> {
    await this.#cancelStream(undefined);
    await this.#stopTask();
    this.#receiver?.close();
    this.#control?.close();
  }
}
