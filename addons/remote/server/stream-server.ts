/**
 * The base of addon servers (`concert serve writer|live|benchmarker|reco`): a control endpoint,
 * a data socket connected to a sender, and one stream at a time handed to the subclass.
 * @module
 */
import { errorMessage, isAbortError, Logger, type Frame } from '../../../core/index.js';
import { createReceiver, isShmEndpoint, ShmReceiver, type FrameReceiver } from '../../../transport/index.js';
import { ControlServer, type CurveOptions } from '../../../transport/zmq/index.js';
import type { DataMode, ServerKind, ServerStatus, StreamStatus } from '../protocol.js';

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
  /**
   * True if `frame()` is finished with its frame once it returns (or its promise resolves): the
   * frame is not kept. Over shared memory such a sink is lent the frame in the ring instead of a
   * copy. Default false.
   */
  readonly doneWithFrames?: boolean;
  /** `ok`: the end marker arrived; otherwise the stream was cancelled or failed. */
  close(ok: boolean): Promise<void>;
}

/** A server that consumes one stream at a time from its data socket. */
export abstract class StreamServer {
  readonly log: Logger;
  #control!: ControlServer;
  #receiver: FrameReceiver | undefined;
  #data: { endpoint: string; mode: DataMode } | undefined;
  #stream: StreamStatus = { state: 'idle', name: undefined, frames: 0, bytes: 0, invalid: 0 };
  #streamTask: { controller: AbortController; done: Promise<void> } | undefined;
  /** After a cancel: discarding the rest of the cancelled stream. */
  #draining: Promise<void> | undefined;
  readonly #totals = { streams: 0, frames: 0, invalid: 0, errors: 0 };
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

  /** Binds the control endpoint and starts answering. */
  async start(): Promise<this> {
    this.#control = await ControlServer.create({
      bind: this.options.control,
      curve: this.options.curve?.server,
      handlers: {
        status: () => this.status(),
        connect: (p) => this.#connect(p as { endpoint: string; mode?: DataMode }),
        disconnect: () => this.#disconnect(),
        'stream.start': (p) => this.#startStream(p as { name: string; [k: string]: unknown }),
        'stream.status': () => ({ ...this.#stream }),
        'stream.cancel': () => this.#cancelStream(),
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
  protected abstract openStream(name: string, params: Record<string, unknown>): Promise<StreamSink>;

  /** Server-specific status values. */
  protected extraStatus(): Record<string, unknown> | undefined {
    return undefined;
  }

  status(): ServerStatus {
    return {
      kind: this.kind,
      pid: process.pid,
      data: this.#data?.endpoint,
      stream: { ...this.#stream },
      totals: { ...this.#totals },
      extra: this.extraStatus(),
    };
  }

  async #connect(params: { endpoint: string; mode?: DataMode }): Promise<{ endpoint: string }> {
    if (!params || typeof params.endpoint !== 'string')
      throw new TypeError("connect needs { endpoint: 'tcp://host:port', mode: 'pull' | 'sub' }");
    const mode = params.mode ?? 'pull';
    if (mode !== 'pull' && mode !== 'sub')
      throw new TypeError(`connect: mode must be 'pull' or 'sub', got ${JSON.stringify(mode)}`);
    if (this.#streamTask)
      throw new Error(`cannot change the data connection while stream '${this.#stream.name}' is running`);
    this.#receiver?.close();
    this.#receiver = await createReceiver({
      mode,
      connect: params.endpoint,
      curve: isShmEndpoint(params.endpoint) ? undefined : this.options.curve?.client,
      onInvalid: (reason) => {
        this.#stream.invalid++;
        this.#totals.invalid++;
        this.log.warn(`dropped an invalid message: ${reason}`);
      },
    });
    if (this.#receiver instanceof ShmReceiver) {
      // The sender (the camera server) binds first: no sender means another host or a typo.
      try {
        await this.#receiver.waitConnected();
      } catch (error) {
        this.#receiver.close();
        this.#receiver = undefined;
        throw error;
      }
    }
    this.#data = { endpoint: params.endpoint, mode };
    this.log.info(`data socket (${mode}) connected to ${params.endpoint}`);
    return { endpoint: params.endpoint };
  }

  #disconnect(): void {
    this.#receiver?.close();
    this.#receiver = undefined;
    this.#data = undefined;
  }

  async #startStream(params: { name: string; [k: string]: unknown }): Promise<StreamStatus> {
    if (this.#draining) await this.#draining;
    if (this.#streamTask)
      throw new Error(`stream '${this.#stream.name}' is still running; a server takes one stream at a time`);
    if (!this.#receiver) throw new Error("no data connection: call 'connect' first");
    const name = String(params?.name ?? '');
    if (!name) throw new TypeError('stream.start needs { name }');
    const sink = await this.openStream(name, params);
    const stream: StreamStatus = (this.#stream = { state: 'running', name, frames: 0, bytes: 0, invalid: 0 });
    this.#totals.streams++;
    const controller = new AbortController();
    const done = this.#consume(this.#receiver, sink, stream, controller.signal);
    this.#streamTask = { controller, done };
    void done.finally(() => {
      if (this.#streamTask?.done === done) this.#streamTask = undefined;
    });
    return { ...this.#stream };
  }

  async #consume(receiver: FrameReceiver, sink: StreamSink, stream: StreamStatus, signal: AbortSignal): Promise<void> {
    let ok = false;
    try {
      const borrow = sink.doneWithFrames === true;
      for await (const frame of receiver.stream({ signal, idleTimeoutMs: this.#idleTimeoutMs, borrow })) {
        await sink.frame(frame);
        stream.frames++;
        stream.bytes += frame.data.byteLength;
        this.#totals.frames++;
      }
      ok = true;
    } catch (error) {
      if (!isAbortError(error)) this.#fail(stream, error);
    }
    try {
      await sink.close(ok);
    } catch (error) {
      ok = false;
      this.#fail(stream, error);
    }
    if (ok) stream.state = 'done';
    else if (stream.state === 'running') stream.state = 'cancelled';
    this.log.info(`stream '${stream.name}' ${stream.state}: ${stream.frames} frames`);
    if (stream.state === 'cancelled' && this.#receiver === receiver) {
      const draining = (this.#draining = this.#drain(receiver).finally(() => {
        if (this.#draining === draining) this.#draining = undefined;
      }));
    }
  }

  #fail(stream: StreamStatus, error: unknown): void {
    this.#totals.errors++;
    stream.state = 'failed';
    stream.error = { name: (error as Error)?.name ?? 'Error', message: errorMessage(error) };
    this.log.error(`stream '${stream.name}' failed: ${errorMessage(error)}`, error);
  }

  /** After a cancel, discards frames up to the stream's end marker (or a quiet half second), so the next stream starts clean. */
  async #drain(receiver: FrameReceiver): Promise<void> {
    try {
      for await (const _ of receiver.stream({ idleTimeoutMs: 500, borrow: true }));
    } catch {
      // quiet for a while: nothing left to drain
    }
  }

  async #cancelStream(): Promise<StreamStatus> {
    const task = this.#streamTask;
    if (task) {
      this.#stream.state = 'cancelled';
      task.controller.abort(new DOMException('stream cancelled by the client', 'AbortError'));
      await task.done;
    }
    return { ...this.#stream };
  }

  /** Cancels a running stream (closing its files), then closes the sockets. */
  async stop(): Promise<void> {
    await this.#cancelStream();
    this.#receiver?.close();
    this.#control?.close();
  }
}
