/**
 * `ZmqReceiver`: receives frames in the Concert wire format over PULL (lossless) or SUB
 * (latest-wins live view), validating every message.
 * @module
 */
import type { Pull, Subscriber } from 'zeromq';
import { zeromq } from './zeromq.js';
import type { Frame } from '../../core/frame.js';
import type { CurveOptions } from './curve.js';
import { TransportError } from './errors.js';
import { isTcp, place, race, type Placement } from './internal.js';
import { decodeMessage, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_HEADER_BYTES, type EndHeader } from './wire-format.js';
import { errorMessage } from '../../core/index.js';
import { reclaimAfter } from '../../core/reclaim.js';
import { reportStray } from './strays.js';

/** `'pull'`: every frame in order, with backpressure; `'sub'`: only the latest frame. */
export type ReceiverMode = 'pull' | 'sub';

/** Options of {@link ZmqReceiver.create}. Give exactly one of `bind` and `connect`. */
export interface ZmqReceiverOptions extends Placement {
  mode: ReceiverMode;
  /**
   * Messages queued by ZeroMQ (ZMQ_RCVHWM). Default: pull 32, sub 1. Fixed at creation: libzmq
   * can deadlock a flowing pipe whose HWM changes.
   */
  receiveHighWaterMark?: number;
  /** Kernel receive buffer in bytes (ZMQ_RCVBUF). Default: pull over tcp the system's (see `ZmqSenderOptions.sendBufferSize`), pull over ipc 4 MiB, sub 65536. */
  receiveBufferSize?: number;
  /**
   * Largest accepted frame payload in bytes (default 512 MiB). Also set as ZMQ_MAXMSGSIZE:
   * a peer sending a larger part is disconnected by ZeroMQ.
   */
  maxFrameBytes?: number;
  /** Largest accepted JSON header in bytes (default 64 KiB). */
  maxHeaderBytes?: number;
  /**
   * Called for every invalid message, which is then dropped. Default: `console.warn` for the
   * first 5 and then every 100th.
   */
  onInvalid?: (reason: string, receiver: ZmqReceiver) => void;
  /**
   * Called for every message of another stream that {@link ZmqReceiver.stream} dropped (a
   * stray of a failed or cancelled stream). Default: `console.warn` for the first 5, then every 100th.
   */
  onStray?: (reason: string, receiver: ZmqReceiver) => void;
  /** CURVE encryption; a connecting receiver is usually the CURVE client. */
  curve?: CurveOptions;
}

/** Options of {@link ZmqReceiver.stream}. */
export interface StreamOptions {
  /** Stops the iteration with the signal's reason. */
  signal?: AbortSignal;
  /** Fails with a `TransportError` when no message arrives for this long (ms). Default: wait forever. */
  idleTimeoutMs?: number;
  /**
   * The id of the stream to read. Frames and end markers tagged with another id are strays of
   * an earlier stream: counted (`counters.stray`), reported through `onStray` and dropped.
   * Untagged messages (Python Concert) belong to any stream. Default: take every message.
   */
  id?: string;
}

/** Counters of a receiver. */
export interface ReceiverCounters {
  /** Valid frames received. */
  received: number;
  /** Invalid messages dropped. */
  invalid: number;
  /** Payload bytes of valid frames. */
  bytes: number;
  /** Sub only: frames replaced by a newer one before anyone read them. */
  superseded: number;
  /** End markers received. */
  ends: number;
  /** Frames and end markers of another stream dropped by `stream({ id })`. */
  stray: number;
}

/** Sub mode: a consumer that kept its previous frame this long (ms) was busy. */
const STALE_MS = 5;
/** Sub mode: how long to keep reading for a fresher frame after a busy consumer (ms). */
const SKIM_MS = 4;

type Item =
  | { kind: 'frame'; frame: Frame; stream: string | undefined }
  | { kind: 'end'; header: EndHeader; stream: string | undefined };

/**
 * Receives frames and exposes them as an async iterator that ends at the end marker.
 *
 * A background loop reads the socket. In pull mode it holds at most one decoded frame, so
 * ZeroMQ's HWM pushes back to the sender. In sub mode it keeps reading and holds only the newest
 * frame (older unread ones count as `superseded`), so a slow viewer always gets a fresh frame.
 * Invalid messages are counted, reported through `onInvalid` and dropped; they never end the loop.
 * @example
 * ```ts
 * const receiver = await ZmqReceiver.create({ mode: 'pull', connect: 'tcp://127.0.0.1:5555' });
 * for await (const frame of receiver.stream({ signal, idleTimeoutMs: 5000 })) write(frame);
 * receiver.close();
 * ```
 */
export class ZmqReceiver {
  readonly #socket: Pull | Subscriber;
  readonly #options: ZmqReceiverOptions;
  readonly #queue: Item[] = [];
  #counters: ReceiverCounters = { received: 0, invalid: 0, bytes: 0, superseded: 0, ends: 0, stray: 0 };
  #wakeConsumer: (() => void) | undefined;
  #wakeReader: (() => void) | undefined;
  #failure: TransportError | undefined;
  #closed = false;
  #streaming = false;
  #arrivals = 0;
  #handedOut = 0;
  /** Payload bytes of the last message, counted for core/reclaim once it is handed on (before the next receive). */
  #lastPayloadBytes = 0;

  private constructor(
    socket: Pull | Subscriber,
    options: ZmqReceiverOptions,
    /** The concrete endpoint (with the port ZeroMQ picked when binding `:*`). */
    readonly endpoint: string,
  ) {
    this.#socket = socket;
    this.#options = options;
    void this.#run();
  }

  /**
   * Creates the socket, applies options, binds or connects and starts reading.
   * @throws OptionError without exactly one of `bind`/`connect`; TransportError if binding fails.
   */
  static async create(options: ZmqReceiverOptions): Promise<ZmqReceiver> {
    const pull = options.mode === 'pull';
    const maxMessageSize = Math.max(
      options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    );
    const common = {
      receiveHighWaterMark: options.receiveHighWaterMark ?? (pull ? 32 : 1),
      receiveBufferSize: options.receiveBufferSize ?? (pull ? (isTcp(options) ? -1 : 4 * 1024 * 1024) : 65536),
      linger: 0,
      maxMessageSize,
    };
    const zmq = zeromq();
    const socket = pull ? new zmq.Pull(common) : new zmq.Subscriber(common);
    if (socket instanceof zmq.Subscriber) socket.subscribe();
    const endpoint = await place(socket, options, `ZmqReceiver(${options.mode})`);
    return new ZmqReceiver(socket, options, endpoint);
  }

  /** `'pull'` or `'sub'`. */
  get mode(): ReceiverMode {
    return this.#options.mode;
  }

  /** A snapshot of the counters. */
  get counters(): ReceiverCounters {
    return { ...this.#counters };
  }

  /**
   * The frames of one stream, ending at the end marker (returned: it may say how many frames
   * the sender sent). Call again for the next stream. With `id`, messages of other streams are
   * dropped as strays.
   * @throws TransportError on idle timeout, when the receiver is closed, or if a stream is already being read.
   */
  async *stream(options: StreamOptions = {}): AsyncGenerator<Frame, EndHeader, undefined> {
    if (this.#streaming) throw new TransportError(`receiver ${this.endpoint} is already being read`, this.endpoint);
    this.#streaming = true;
    const { id } = options;
    try {
      for (;;) {
        const item = await this.#next(options);
        if (id !== undefined && item.stream !== undefined && item.stream !== id) {
          this.#stray(item, id);
          continue;
        }
        if (item.kind === 'end') return item.header;
        yield item.frame;
      }
    } finally {
      this.#streaming = false;
    }
  }

  /** Closes the socket; a pending `stream()` fails with a `TransportError`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    this.#wakeConsumer?.();
    this.#wakeReader?.();
  }

  async #next({ signal, idleTimeoutMs }: StreamOptions): Promise<Item> {
    signal?.throwIfAborted();
    // sub: a consumer that kept the previous frame a while is handed a fresh one, see #skim
    let skim = this.mode === 'sub' && performance.now() - this.#handedOut >= STALE_MS;
    for (;;) {
      if (skim && this.#queue[0]?.kind === 'frame') {
        skim = false;
        await this.#skim();
      }
      const item = this.#queue.shift();
      if (item) {
        this.#wakeReader?.();
        this.#handedOut = performance.now();
        return item;
      }
      if (this.#failure) throw this.#failure;
      if (this.#closed) throw new TransportError(`receiver ${this.endpoint} is closed`, this.endpoint);
      const woken = new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
      try {
        await race(
          woken,
          signal,
          idleTimeoutMs,
          () => new TransportError(`no message from ${this.endpoint} within ${idleTimeoutMs} ms`, this.endpoint),
        );
      } finally {
        this.#wakeConsumer = undefined;
      }
    }
  }

  /**
   * Sub mode, when the consumer kept the previous frame for `STALE_MS` or more: the frames that
   * queued meanwhile in ZeroMQ's pipes and the kernel buffers were all sent about when the
   * consumer went away. Keep reading for up to `SKIM_MS` (stopping after 2 ms without a new
   * frame) so that the consumer gets a frame sent after it came back, not one queued before.
   */
  async #skim(): Promise<void> {
    const end = performance.now() + SKIM_MS;
    let quiet = 0;
    while (performance.now() < end && !this.#closed && quiet < 2) {
      const before = this.#arrivals;
      await new Promise((resolve) => setTimeout(resolve, 1));
      quiet = this.#arrivals === before ? quiet + 1 : 0;
    }
  }

  async #run(): Promise<void> {
    const { maxFrameBytes, maxHeaderBytes } = this.#options;
    while (!this.#closed) {
      if (this.mode === 'pull' && this.#queue.length > 0) {
        await new Promise<void>((resolve) => (this.#wakeReader = resolve));
        this.#wakeReader = undefined;
        continue;
      }
      let parts: Buffer[];
      // Free the frames consumers dropped while their memory is warm (core/reclaim.ts).
      reclaimAfter(this.#lastPayloadBytes);
      try {
        parts = await this.#socket.receive();
        this.#lastPayloadBytes = parts[1]?.length ?? 0;
      } catch (error) {
        if (!this.#closed)
          this.#failure = new TransportError(
            `receive from ${this.endpoint} failed: ${errorMessage(error)}`,
            this.endpoint,
            { cause: error },
          );
        break;
      }
      const decoded = decodeMessage(parts, {
        maxFrameBytes,
        maxHeaderBytes,
        fallbackFrameNumber: this.#counters.received,
      });
      if (decoded.kind === 'invalid') {
        this.#invalid(decoded.reason);
        continue;
      }
      if (decoded.kind === 'end') {
        this.#counters.ends++;
        this.#queue.push({ kind: 'end', header: decoded.header, stream: decoded.stream });
      } else {
        this.#counters.received++;
        this.#counters.bytes += decoded.frame.data.byteLength;
        if (this.mode === 'sub')
          while (this.#queue.length > 0 && this.#queue[this.#queue.length - 1]!.kind === 'frame') {
            this.#queue.pop();
            this.#counters.superseded++;
          }
        this.#queue.push({ kind: 'frame', frame: decoded.frame, stream: decoded.stream });
        this.#arrivals++;
      }
      this.#wakeConsumer?.();
    }
    this.#wakeConsumer?.();
  }

  #stray(item: Item, id: string): void {
    const onStray = this.#options.onStray;
    reportStray(
      item,
      id,
      ++this.#counters.stray,
      onStray && ((reason) => onStray(reason, this)),
      `ZmqReceiver ${this.endpoint}`,
    );
  }

  #invalid(reason: string): void {
    const n = ++this.#counters.invalid;
    if (this.#options.onInvalid) {
      try {
        this.#options.onInvalid(reason, this);
      } catch {
        // a faulty callback must not stop the receive loop
      }
    } else if (n <= 5 || n % 100 === 0) {
      console.warn(`ZmqReceiver ${this.endpoint}: dropped invalid message #${n}: ${reason}`);
    }
  }
}
