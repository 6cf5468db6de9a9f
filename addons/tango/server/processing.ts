/**
 * What Python Concert's `TangoRemoteProcessing` base gives every Tango addon server, as a part
 * the walker, benchmarker and reconstruction devices compose: the `endpoint` attribute, the
 * `connect_endpoint`, `disconnect_endpoint`, `reset_connection` and `cancel` commands, and one
 * stream at a time received from a (binding) sender in Concert's wire format, with the device in
 * RUNNING while it lasts and STANDBY after. Beyond Python Concert: a stream that stops without its
 * end marker fails after an idle timeout instead of hanging, and `stream_state`/`stream_frames`
 * tell clients how the last stream ended and how many frames it had (our clients check the count).
 * @module
 */
import { errorMessage, isAbortError, Logger, type Frame } from '../../../core/index.js';
import { ZmqReceiver } from '../../../transport/zmq/index.js';
import {
  DevFailed,
  type AttributeDefinition,
  type CommandDefinition,
  type TangoDevice,
} from '../../../tango/server/index.js';

/** Options of {@link StreamReception}. */
export interface StreamReceptionOptions {
  /** Fail a stream when no frame arrives for this long (ms, default 30000). */
  idleTimeoutMs?: number;
}

/** How the last stream went. */
export type StreamState = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

/** The data socket of a Tango addon server and the stream running on it. */
export class StreamReception {
  readonly log: Logger;
  #endpoint = '';
  #receiver: ZmqReceiver | undefined;
  #task: { controller: AbortController; done: Promise<number>; settled: Promise<void> } | undefined;
  #state: StreamState = 'idle';
  #name = '';
  #frames = 0;
  readonly #idleTimeoutMs: number;

  constructor(
    readonly device: () => TangoDevice,
    options: StreamReceptionOptions = {},
  ) {
    this.log = new Logger('tango stream');
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  }

  /** The endpoint clients set (where the sender binds). */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** True while a stream runs. */
  get running(): boolean {
    return this.#task !== undefined;
  }

  /** Sets the endpoint and connects to it (Python Concert's `set_endpoint`). */
  async setEndpoint(endpoint: string): Promise<void> {
    if (this.#task) throw new DevFailed('Concert_StreamRunning', 'Endpoint cannot be set while streaming');
    if (!/^(tcp|ipc|inproc):\/\/.+/.test(endpoint))
      throw new DevFailed(
        'Concert_BadEndpoint',
        `endpoint must be tcp://host:port or ipc://path, got ${JSON.stringify(endpoint)}`,
      );
    await this.#connect(endpoint);
    this.#endpoint = endpoint;
  }

  async #connect(endpoint: string): Promise<void> {
    this.#receiver?.close();
    this.#receiver = undefined;
    try {
      this.#receiver = await ZmqReceiver.create({
        mode: 'pull',
        connect: endpoint,
        onInvalid: (why) => this.log.warn(`${this.device().name}: dropped an invalid message: ${why}`),
      });
    } catch (e) {
      throw new DevFailed('Concert_ConnectFailed', `cannot connect to ${endpoint}: ${errorMessage(e)}`);
    }
  }

  /**
   * `connect_endpoint`: connects the data socket to the endpoint set before, and keeps the
   * connection it has. (Replacing it would lose the frames a sender already put into the old
   * one: clients call this before every stream, and the camera may start sending at once.)
   */
  async connect(): Promise<void> {
    if (!this.#endpoint) throw new DevFailed('Concert_NoEndpoint', 'Endpoint not set');
    if (this.#task || this.#receiver) return; // connected (maybe receiving the stream that runs)
    await this.#connect(this.#endpoint);
  }

  /** `disconnect_endpoint`: closes the data socket (not while a stream runs). */
  disconnect(): void {
    if (this.#task) return;
    this.#receiver?.close();
    this.#receiver = undefined;
  }

  /** `reset_connection`: closes and connects again. */
  async reset(): Promise<void> {
    if (!this.#endpoint) throw new DevFailed('Concert_NoEndpoint', 'Endpoint not set');
    this.#cancelTask();
    await this.#task?.done.catch(() => undefined);
    await this.#connect(this.#endpoint);
  }

  /**
   * Receives one stream called `name`, handing each frame to `consume`, until its end marker:
   * the device is RUNNING meanwhile, STANDBY after. Resolves with the frame count.
   * @throws DevFailed when a stream already runs, there is no connection, the stream stops
   *   without its end (idle timeout), `consume` fails, or it is cancelled.
   */
  async run(name: string, consume: (frame: Frame) => unknown, close?: (ok: boolean) => unknown): Promise<number> {
    if (this.#task) throw new DevFailed('Concert_StreamRunning', `Previous stream '${this.#name}' still running`);
    const receiver = this.#receiver;
    if (!receiver)
      throw new DevFailed('Concert_NoConnection', 'no data connection: set the endpoint (or connect_endpoint) first');
    const controller = new AbortController();
    const device = this.device();
    this.#state = 'running';
    this.#name = name;
    this.#frames = 0;
    device.setState('RUNNING');
    const done = (async () => {
      let ok = false;
      try {
        for await (const frame of receiver.stream({ signal: controller.signal, idleTimeoutMs: this.#idleTimeoutMs })) {
          await consume(frame);
          this.#frames++;
        }
        ok = true;
      } finally {
        await close?.(ok);
      }
      return this.#frames;
    })();
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.#task = { controller, done, settled };
    try {
      const n = await done;
      this.#state = 'done';
      this.log.info(`${device.name}: stream '${name}' done: ${n} frames`);
      return n;
    } catch (e) {
      const cancelled = isAbortError(e) || controller.signal.aborted;
      this.#state = cancelled ? 'cancelled' : 'failed';
      this.log[cancelled ? 'info' : 'error'](`${device.name}: stream '${name}' ${this.#state}: ${errorMessage(e)}`);
      // A new connection drops what is left of the stream that did not reach its end (frames
      // already received), so the next one starts clean.
      if (this.#endpoint && this.#receiver === receiver) await this.#connect(this.#endpoint).catch(() => undefined);
      if (cancelled)
        throw new DevFailed('Concert_Cancelled', `stream '${name}' was cancelled after ${this.#frames} frames`);
      throw new DevFailed(
        'Concert_StreamFailed',
        `stream '${name}' failed after ${this.#frames} frames: ${errorMessage(e)}`,
      );
    } finally {
      this.#task = undefined;
      device.setState('STANDBY');
      settle();
    }
  }

  #cancelTask(): void {
    this.#task?.controller.abort(new DOMException('stream cancelled by a client', 'AbortError'));
  }

  /**
   * `cancel`: stops the running stream at once; returns when it has ended, its files are closed
   * and the data socket is connected again (so the next stream's frames reach the new socket).
   */
  async cancel(): Promise<void> {
    const task = this.#task;
    if (!task) return;
    this.#cancelTask();
    await task.settled;
  }

  /** Stops everything (server shutdown, `Init`). */
  async close(): Promise<void> {
    await this.cancel();
    this.#receiver?.close();
    this.#receiver = undefined;
  }

  /** The attributes every Concert Tango server has. */
  attributes(): Record<string, AttributeDefinition> {
    return {
      endpoint: {
        type: 'DevString',
        label: 'Endpoint',
        read: () => this.#endpoint,
        write: (v: string) => this.setEndpoint(v),
      },
      stream_state: {
        type: 'DevString',
        description: 'how the last stream went: idle, running, done, failed or cancelled',
        read: () => this.#state,
      },
      stream_name: { type: 'DevString', description: 'name of the last stream', read: () => this.#name },
      stream_frames: {
        type: 'DevLong64',
        description: 'frames received in the last (or the running) stream',
        read: () => BigInt(this.#frames),
      },
    };
  }

  /** The commands every Concert Tango server has. */
  commands(): Record<string, CommandDefinition> {
    return {
      connect_endpoint: { handler: () => this.connect() },
      disconnect_endpoint: { handler: () => this.disconnect() },
      reset_connection: { handler: () => this.reset() },
      cancel: { handler: () => this.cancel() },
    };
  }
}
