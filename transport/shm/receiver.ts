/**
 * `ShmReceiver`: receives frames from an {@link ShmSender} on the same host, with the semantics
 * of {@link ZmqReceiver}: `pull` gets every frame in order, `sub` only the newest; streams end at
 * the end marker, and a sender that goes away during a stream fails it instead of merging it
 * with the next one.
 * @module
 */
import { connect, type Socket } from 'node:net';
import { errorMessage, OptionError } from '../../core/errors.js';
import { arrayConstructor, itemSize, type Frame } from '../../core/frame.js';
import { TransportError } from '../zmq/errors.js';
import { race, sleep } from '../zmq/internal.js';
import type { ReceiverCounters, ReceiverMode, StreamOptions } from '../zmq/receiver.js';
import { decodeEnd, decodeFrame, DEFAULT_MAX_FRAME_BYTES, parseDType, type EndHeader } from '../zmq/wire-format.js';
import { Channel, SHM_PROTOCOL_VERSION, type ShmMessage } from './channel.js';
import { parseShmEndpoint, type ShmAddress } from './endpoint.js';
import { reportStray } from '../zmq/strays.js';
import { mapRing, releaseRing, requireShm, slotView, type Ring } from './memory.js';

/** Options of {@link ShmReceiver.create}. */
export interface ShmReceiverOptions {
  mode: ReceiverMode;
  /** `shm://NAME` of a sender on this host. */
  connect: string;
  /** Largest accepted frame payload in bytes (default 512 MiB). */
  maxFrameBytes?: number;
  /** Called for every invalid message, which is then dropped (default: `console.warn` for the first 5, then every 100th). */
  onInvalid?: (reason: string, receiver: ShmReceiver) => void;
  /**
   * Called for every message of another stream that {@link ShmReceiver.stream} dropped (a stray of
   * a failed or cancelled stream). Default: `console.warn` for the first 5, then every 100th.
   */
  onStray?: (reason: string, receiver: ShmReceiver) => void;
}

/** Options of {@link ShmReceiver.stream}. */
export interface ShmStreamOptions extends StreamOptions {
  /**
   * Hand out frames that view the ring itself (no copy). Such a frame is valid only until the
   * consumer asks for the next one (its slot is then reused): use it for consumers that are done
   * with a frame when they come back (writers, reconstruction), never for ones that keep frames.
   * Default false: every frame is a copy of its own.
   */
  borrow?: boolean;
}

interface Connection {
  channel: Channel;
  ring: Ring | undefined;
  seq: number;
  /** Frames of an unfinished stream arrived on this connection. */
  midStream: number;
}

type Item =
  | { kind: 'frame'; frame: Frame; slot: number; connection: Connection; stream: string | undefined }
  | { kind: 'end'; header: EndHeader; stream: string | undefined }
  | { kind: 'broken'; error: TransportError };

/** How often a receiver looks for its sender while not connected (ms). */
const RECONNECT_MS = 100;

/**
 * Receives frames through shared memory. Connects in the background (and again after the
 * sender restarts), like a ZeroMQ socket.
 * @example
 * ```ts
 * const receiver = await ShmReceiver.create({ mode: 'pull', connect: 'shm://camera-writer' });
 * for await (const frame of receiver.stream({ signal, idleTimeoutMs: 5000 })) await write(frame);
 * receiver.close();
 * ```
 */
export class ShmReceiver {
  readonly #address: ShmAddress;
  readonly #options: ShmReceiverOptions;
  readonly #queue: Item[] = [];
  #counters: ReceiverCounters = { received: 0, invalid: 0, bytes: 0, superseded: 0, ends: 0, stray: 0 };
  #connection: Connection | undefined;
  #wakeConsumer: (() => void) | undefined;
  #connected!: Promise<void>;
  #onConnected!: () => void;
  #failure: TransportError | undefined;
  #closed = false;
  #streaming = false;

  private constructor(address: ShmAddress, options: ShmReceiverOptions) {
    this.#address = address;
    this.#options = options;
    this.#connected = new Promise((resolve) => (this.#onConnected = resolve));
    void this.#run();
  }

  /**
   * Starts connecting to the sender (which may bind later).
   * @throws OptionError for bad options; TransportError when shared memory is unavailable here.
   */
  static async create(options: ShmReceiverOptions): Promise<ShmReceiver> {
    if ((options as { bind?: unknown }).bind !== undefined || options.connect === undefined)
      throw new OptionError(
        `ShmReceiver(${options.mode}): give 'connect' (shm://NAME): over shared memory the sender binds and the receiver connects`,
      );
    if (options.mode !== 'pull' && options.mode !== 'sub')
      throw new OptionError(`ShmReceiver: mode must be 'pull' or 'sub', got ${JSON.stringify(options.mode)}`);
    const address = parseShmEndpoint(options.connect);
    requireShm();
    return new ShmReceiver(address, options);
  }

  /** `'pull'` or `'sub'`. */
  get mode(): ReceiverMode {
    return this.#options.mode;
  }

  /** `shm://NAME`. */
  get endpoint(): string {
    return this.#address.endpoint;
  }

  /** A snapshot of the counters. */
  get counters(): ReceiverCounters {
    return { ...this.#counters };
  }

  /**
   * Resolves once connected to the sender.
   * @throws TransportError after `timeoutMs` without a sender on this host (shared memory never
   *   crosses hosts), or when the sender refused this receiver.
   */
  async waitConnected(timeoutMs = 2000): Promise<void> {
    await race(
      this.#connected,
      undefined,
      timeoutMs,
      () =>
        this.#failure ??
        new TransportError(
          `no shared-memory sender ${this.endpoint} on this host within ${timeoutMs} ms ` +
            `(no one listens on ${this.#address.socket}): ` +
            'shm:// works only between processes on one host, with the sender bound first',
          this.endpoint,
        ),
    );
    if (this.#failure) throw this.#failure;
  }

  /**
   * The frames of one stream, ending at the end marker (returned: it may say how many frames the
   * sender sent). Call again for the next stream. With `id`, frames and end markers of other
   * streams are dropped as strays (as {@link ZmqReceiver.stream}).
   * @throws TransportError on idle timeout, when the sender goes away during the stream, when
   * the receiver is closed, or if a stream is already being read.
   */
  async *stream(options: ShmStreamOptions = {}): AsyncGenerator<Frame, EndHeader, undefined> {
    if (this.#streaming) throw new TransportError(`receiver ${this.endpoint} is already being read`, this.endpoint);
    this.#streaming = true;
    const { id } = options;
    let lent: (Item & { kind: 'frame' }) | undefined;
    try {
      for (;;) {
        const item = await this.#next(options);
        if (item.kind === 'broken') throw item.error;
        if (id !== undefined && item.stream !== undefined && item.stream !== id) {
          this.#stray(item, id);
          continue;
        }
        if (item.kind === 'end') return item.header;
        if (options.borrow) {
          lent = item;
          yield item.frame;
          release(lent);
          lent = undefined;
        } else {
          const frame = copied(item.frame);
          release(item);
          yield frame;
        }
      }
    } finally {
      if (lent) release(lent);
      this.#streaming = false;
    }
  }

  /** Hangs up; a pending `stream()` fails with a `TransportError`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection?.channel.close();
    this.#wakeConsumer?.();
  }

  async #next({ signal, idleTimeoutMs }: StreamOptions): Promise<Item> {
    signal?.throwIfAborted();
    for (;;) {
      const item = this.#queue.shift();
      if (item) return item;
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

  #push(item: Item): void {
    this.#queue.push(item);
    this.#wakeConsumer?.();
  }

  /** Connects, serves the connection until it closes, and again, until closed or refused. */
  async #run(): Promise<void> {
    while (!this.#closed && !this.#failure) {
      const socket = await tryConnect(this.#address.socket);
      if (!socket) {
        await sleep(RECONNECT_MS);
        continue;
      }
      if (this.#closed) {
        socket.destroy();
        break;
      }
      await new Promise<void>((resolve) => {
        const connection: Connection = {
          channel: undefined as unknown as Channel,
          ring: undefined,
          seq: 0,
          midStream: 0,
        };
        connection.channel = new Channel(
          socket,
          (m) => this.#message(connection, m),
          (reason) => {
            this.#disconnected(connection, reason);
            resolve();
          },
        );
        this.#connection = connection;
      });
      if (!this.#closed && !this.#failure) await sleep(RECONNECT_MS);
    }
    this.#wakeConsumer?.();
  }

  #message(c: Connection, m: ShmMessage): void {
    switch (m.t) {
      case 'hello': {
        const expected = this.mode === 'pull' ? 'push' : 'pub';
        if (m.version !== SHM_PROTOCOL_VERSION)
          return this.#fatal(
            c,
            `${this.endpoint}: the sender speaks protocol version ${m.version}, this receiver ${SHM_PROTOCOL_VERSION}`,
          );
        if (m.mode !== expected)
          return this.#fatal(
            c,
            `${this.endpoint}: the sender is '${m.mode}' but this receiver is '${this.mode}' (pull takes push, sub takes pub)`,
          );
        this.#onConnected();
        return;
      }
      case 'refused':
        return this.#fatal(c, `${this.endpoint}: the sender refused this receiver: ${m.reason}`);
      case 'ring': {
        const previous = c.ring;
        try {
          c.ring = mapRing(m.name, m.id, m.slots, m.slotBytes);
        } catch (error) {
          return this.#fatal(c, errorMessage(error));
        }
        if (previous) releaseRing(previous);
        c.channel.send({ t: 'mapped', id: m.id });
        return;
      }
      case 'frame':
        return this.#frame(c, m);
      case 'end': {
        const { stream, frames } = m;
        const decoded = decodeEnd({
          end: true,
          ...(stream === undefined ? {} : { stream }),
          ...(frames === undefined ? {} : { frames }),
        });
        if (decoded.kind !== 'end')
          return this.#invalid(decoded.kind === 'invalid' ? decoded.reason : 'not an end marker');
        c.midStream = 0;
        this.#counters.ends++;
        this.#push({ kind: 'end', header: decoded.header, stream: decoded.stream });
        return;
      }
      default:
        this.#invalid(`unknown message type ${JSON.stringify((m as { t: unknown }).t)}`);
    }
  }

  #frame(c: Connection, m: ShmMessage & { t: 'frame' }): void {
    const ring = c.ring;
    const slotOk = ring !== undefined && Number.isInteger(m.slot) && m.slot >= 0 && m.slot < ring.slots;
    const bad = (reason: string): void => {
      if (slotOk) c.channel.send(`{"t":"release","slot":${m.slot}}\n`);
      this.#invalid(reason);
    };
    if (!ring) return bad('a frame before any ring');
    if (!slotOk) return bad(`slot ${JSON.stringify(m.slot)} is outside the ring's ${ring.slots} slots`);
    if (m.seq !== c.seq) {
      // Each message on one connection is numbered: a gap is a lost frame, never a slow one.
      if (this.mode === 'pull')
        return this.#fatal(c, `${this.endpoint}: frame ${m.seq} arrived where ${c.seq} was due`);
    }
    c.seq = m.seq + 1;
    const header = m.header;
    if (typeof header !== 'object' || header === null || Array.isArray(header))
      return bad('header is not a JSON object');
    const max = this.#options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const bytes = payloadBytes(header);
    if (bytes === undefined || bytes > ring.slotBytes)
      return bad(`the frame's header does not describe pixels that fit a ${ring.slotBytes}-byte slot`);
    const decoded = decodeFrame(header, slotView(ring, m.slot, bytes), {
      maxFrameBytes: max,
      fallbackFrameNumber: this.#counters.received,
    });
    if (decoded.kind !== 'frame') return bad(decoded.kind === 'invalid' ? decoded.reason : 'not a frame');
    this.#counters.received++;
    this.#counters.bytes += bytes;
    c.midStream++;
    if (this.mode === 'sub')
      while (this.#queue.length > 0 && this.#queue[this.#queue.length - 1]!.kind === 'frame') {
        release(this.#queue.pop() as Item & { kind: 'frame' });
        this.#counters.superseded++;
      }
    this.#push({ kind: 'frame', frame: decoded.frame, slot: m.slot, connection: c, stream: decoded.stream });
  }

  /** Drops a message of another stream (a frame's slot is freed at once). */
  #stray(item: Item & { kind: 'frame' | 'end' }, id: string): void {
    if (item.kind === 'frame') release(item);
    const onStray = this.#options.onStray;
    reportStray(
      item,
      id,
      ++this.#counters.stray,
      onStray && ((reason) => onStray(reason, this)),
      `ShmReceiver ${this.endpoint}`,
    );
  }

  #fatal(c: Connection, message: string): void {
    this.#failure = new TransportError(message, this.endpoint);
    c.channel.close();
    this.#onConnected(); // waitConnected() reports the failure at once
    this.#wakeConsumer?.();
  }

  #disconnected(c: Connection, reason: string | undefined): void {
    if (this.#connection === c) this.#connection = undefined;
    this.#connected = new Promise((resolve) => (this.#onConnected = resolve));
    if (c.ring) releaseRing(c.ring);
    if (c.midStream > 0 && !this.#closed)
      this.#push({
        kind: 'broken',
        error: new TransportError(
          `${this.endpoint}: the sender went away during a stream, after ${c.midStream} frame(s) of it${reason ? ` (${reason})` : ''}`,
          this.endpoint,
        ),
      });
  }

  #invalid(reason: string): void {
    const n = ++this.#counters.invalid;
    if (this.#options.onInvalid) {
      try {
        this.#options.onInvalid(reason, this);
      } catch {
        // a faulty callback must not stop the receiver
      }
    } else if (n <= 5 || n % 100 === 0) {
      console.warn(`ShmReceiver ${this.endpoint}: dropped invalid message #${n}: ${reason}`);
    }
  }
}

/** Tells the sender the frame's slot is free again. */
function release(item: Item & { kind: 'frame' }): void {
  item.connection.channel.send(`{"t":"release","slot":${item.slot}}\n`);
}

/** A frame with pixels of its own (the ring slot can be reused at once). */
function copied(frame: Frame): Frame {
  // Uninitialised memory (the copy overwrites all of it): one pass over the pixels, not two.
  const bytes = Buffer.allocUnsafeSlow(frame.data.byteLength);
  bytes.set(new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength));
  return { ...frame, data: new (arrayConstructor(frame.dtype))(bytes.buffer, 0, frame.data.length) };
}

/** Payload bytes from a header's dtype and shape (undefined when they make no sense; decodeFrame says why). */
function payloadBytes(header: Record<string, unknown>): number | undefined {
  const shape = header.shape;
  const parsed = parseDType(header.dtype);
  if (!Array.isArray(shape) || shape.length !== 2 || !parsed) return undefined;
  const n = (shape[0] as number) * (shape[1] as number) * itemSize(parsed.dtype);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => resolve(undefined));
  });
}
