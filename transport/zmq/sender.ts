/**
 * `ZmqSender`: sends frames in the Concert wire format over a PUSH (lossless) or PUB
 * (latest-wins live view) socket.
 * @module
 */
import type { Publisher, Push } from 'zeromq';
import { zeromq } from './zeromq.js';
import { isAbortError } from '../../core/errors.js';
import type { Frame } from '../../core/frame.js';
import type { CurveOptions } from './curve.js';
import { TransportError } from './errors.js';
import { checkSocketMs, place, race, sleep, zmqCode, type Placement } from './internal.js';
import { encodeEnd, encodeFrame } from './wire-format.js';
import { errorMessage } from '../../core/index.js';

/** `'push'`: lossless, waits for the consumer; `'pub'`: latest-wins, drops (and counts) when full. */
export type SenderMode = 'push' | 'pub';

/** Options of {@link ZmqSender.create}. Give exactly one of `bind` and `connect`. */
export interface ZmqSenderOptions extends Placement {
  mode: SenderMode;
  /**
   * Messages queued per peer (ZMQ_SNDHWM). Default: push 32, pub 1. Queued frames are held by
   * reference: 32 × 8 MiB = 256 MiB. Fixed at creation (libzmq can deadlock a flowing pipe whose
   * HWM changes).
   */
  sendHighWaterMark?: number;
  /** Kernel send buffer in bytes (ZMQ_SNDBUF). Default: push 4 MiB, pub 65536 (fresh live frames). */
  sendBufferSize?: number;
  /**
   * Push: how long a send may wait for room (or for a consumer) before it fails with a
   * `TransportError`, in ms (default 10000). Pub: how long `end()` retries (default 2000).
   */
  sendTimeoutMs?: number;
  /** How long queued messages are still delivered after `close()` (ZMQ_LINGER), ms. Default: push 2000, pub 0. */
  lingerMs?: number;
  /** CURVE encryption; the sender is usually the CURVE server when it binds. */
  curve?: CurveOptions;
}

/** Options of one send. */
export interface SendOptions {
  /**
   * Aborts waiting. A frame already handed to ZeroMQ may still go out if room appears before
   * `sendTimeoutMs`; a frame still waiting behind earlier sends is not sent.
   */
  signal?: AbortSignal;
  /**
   * The id of the stream the frame (or end marker) belongs to, sent in the header (`stream`):
   * receivers reading another stream drop it as a stray. Default: the frame's `metadata.stream`.
   */
  stream?: string;
}

/** Options of {@link ZmqSender.end}. */
export interface EndOptions extends SendOptions {
  /** How many frames the stream had: lossless receivers check their count against it. */
  frames?: number;
}

/** Counters of a sender. */
export interface SenderCounters {
  /** Frames handed to ZeroMQ. */
  sent: number;
  /** Frames dropped because a live-view subscriber was full (pub only). */
  dropped: number;
  /** Payload bytes of the frames sent. */
  bytes: number;
}

/**
 * Sends frames, without copying their pixels, as `[JSON header, raw bytes]` messages.
 *
 * Push mode is lossless: `send()` waits while the peer's queue (`sendHighWaterMark`) is full and
 * fails with a `TransportError` naming the endpoint after `sendTimeoutMs`, never dropping a frame
 * silently. Pub mode is latest-wins for live view: send HWM 1, small kernel buffers,
 * ZMQ_XPUB_NODROP so that a full subscriber makes `send()` return `false` immediately; dropped
 * frames are counted. With several subscribers, one slow subscriber makes every frame drop for all.
 * @example
 * ```ts
 * const sender = await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(5555) });
 * for await (const frame of camera.stream({ signal })) await sender.send(frame, { signal });
 * await sender.end();
 * sender.close();
 * ```
 */
export class ZmqSender {
  readonly #socket: Push | Publisher;
  readonly #timeoutMs: number;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  #counters: SenderCounters = { sent: 0, dropped: 0, bytes: 0 };

  private constructor(
    socket: Push | Publisher,
    /** `'push'` or `'pub'`. */
    readonly mode: SenderMode,
    /** The concrete endpoint (with the port ZeroMQ picked when binding `:*`). */
    readonly endpoint: string,
    timeoutMs: number,
  ) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Creates the socket, applies options and binds or connects.
   * @throws OptionError without exactly one of `bind`/`connect`; TransportError if binding fails.
   */
  static async create(options: ZmqSenderOptions): Promise<ZmqSender> {
    checkSocketMs(`ZmqSender(${options.mode})`, 'sendTimeoutMs', options.sendTimeoutMs);
    checkSocketMs(`ZmqSender(${options.mode})`, 'lingerMs', options.lingerMs);
    const push = options.mode === 'push';
    const socket = push
      ? new (zeromq().Push)({
          sendHighWaterMark: options.sendHighWaterMark ?? 32,
          sendTimeout: options.sendTimeoutMs ?? 10_000,
        })
      : new (zeromq().Publisher)({ sendHighWaterMark: options.sendHighWaterMark ?? 1, sendTimeout: 0, noDrop: true });
    socket.sendBufferSize = options.sendBufferSize ?? (push ? 4 * 1024 * 1024 : 65536);
    socket.linger = options.lingerMs ?? (push ? 2000 : 0);
    const endpoint = await place(socket, options, `ZmqSender(${options.mode})`);
    return new ZmqSender(socket, options.mode, endpoint, options.sendTimeoutMs ?? (push ? 10_000 : 2000));
  }

  /** A snapshot of the counters. */
  get counters(): SenderCounters {
    return { ...this.#counters };
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one frame. Calls are serialised in call order.
   * @returns `true` when the frame was queued; `false` when a pub sender dropped it.
   * @throws TransportError when a push send cannot proceed within `sendTimeoutMs` or the sender is closed.
   */
  async send(frame: Frame, options: SendOptions = {}): Promise<boolean> {
    const parts = encodeFrame(frame, options.stream === undefined ? undefined : { stream: options.stream });
    return this.#enqueue(parts, options.signal, () => {
      this.#counters.sent++;
      this.#counters.bytes += parts[1].byteLength;
    });
  }

  /**
   * Sends the end-of-stream marker `{"end": true}` (with `stream` and `frames` when given). A pub
   * sender retries while its subscriber is full, up to `sendTimeoutMs`, so the marker is not dropped.
   * @throws TransportError if the marker cannot be sent in time.
   */
  async end(options: EndOptions = {}): Promise<void> {
    const { stream, frames } = options;
    const parts =
      stream === undefined && frames === undefined
        ? encodeEnd()
        : encodeEnd({ ...(stream === undefined ? {} : { stream }), ...(frames === undefined ? {} : { frames }) });
    if (this.mode === 'push') {
      await this.#enqueue(parts, options.signal);
      return;
    }
    const deadline = Date.now() + this.#timeoutMs;
    while (!(await this.#enqueue(parts, options.signal, undefined, false))) {
      if (Date.now() > deadline)
        throw new TransportError(
          `could not send the end marker to subscribers of ${this.endpoint} within ${this.#timeoutMs} ms`,
          this.endpoint,
        );
      await sleep(1);
    }
  }

  /** Closes the socket; queued push messages are still delivered for `lingerMs`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }

  #enqueue(parts: Buffer[], signal: AbortSignal | undefined, onSent?: () => void, countDrop = true): Promise<boolean> {
    if (this.#closed) return Promise.reject(new TransportError(`sender ${this.endpoint} is closed`, this.endpoint));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const op = this.#tail.then(async () => {
      if (signal?.aborted) throw signal.reason;
      if (this.#closed) throw new TransportError(`sender ${this.endpoint} is closed`, this.endpoint);
      try {
        await this.#socket.send(parts);
      } catch (error) {
        if (zmqCode(error) === 'EAGAIN' && this.mode === 'pub') {
          if (countDrop) this.#counters.dropped++;
          return false;
        }
        throw this.#error(error);
      }
      onSent?.();
      return true;
    });
    this.#tail = op.catch(() => undefined);
    return race(op, signal);
  }

  #error(error: unknown): unknown {
    if (isAbortError(error)) return error;
    if (zmqCode(error) === 'EAGAIN')
      return new TransportError(
        `send to ${this.endpoint} timed out after ${this.#timeoutMs} ms: no consumer took the frame (queue full or no peer)`,
        this.endpoint,
        { cause: error },
      );
    if (this.#closed)
      return new TransportError(`sender ${this.endpoint} was closed during a send`, this.endpoint, { cause: error });
    return new TransportError(`send to ${this.endpoint} failed: ${errorMessage(error)}`, this.endpoint, {
      cause: error,
    });
  }
}
