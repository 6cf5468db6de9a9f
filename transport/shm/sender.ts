/**
 * `ShmSender`: sends frames to one receiver on the same host through a ring in shared memory,
 * with the semantics of {@link ZmqSender}: `push` is lossless (waits for a free slot, fails
 * after `sendTimeoutMs`), `pub` is latest-wins (drops and counts when the receiver holds every
 * slot).
 * @module
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { frameBytes, type Frame } from '../../core/frame.js';
import { OptionError } from '../../core/errors.js';
import { TransportError } from '../zmq/errors.js';
import { race } from '../zmq/internal.js';
import type { EndOptions, SenderCounters, SenderMode, SendOptions } from '../zmq/sender.js';
import { headerJson } from '../zmq/wire-format.js';
import { Channel, SHM_PROTOCOL_VERSION, type ShmMessage } from './channel.js';
import { parseShmEndpoint, type ShmAddress } from './endpoint.js';
import { createRing, releaseRing, requireShm, slotSizeFor, slotView, unlinkRing, type Ring } from './memory.js';

/** Options of {@link ShmSender.create}. */
export interface ShmSenderOptions {
  mode: SenderMode;
  /** `shm://NAME`: the sender binds, the receiver connects (both on this host). */
  bind: string;
  /**
   * Frames that may be in flight (ring slots): default push 8, pub 3. Memory: slots × the
   * largest frame, in RAM (`/dev/shm`).
   */
  slots?: number;
  /** Smallest slot size in bytes (default 0: the first frame's size; slots grow for larger frames). */
  slotBytes?: number;
  /** Push: how long a send may wait for a receiver or a free slot, in ms (default 10000). */
  sendTimeoutMs?: number;
}

interface Peer {
  channel: Channel;
  ring: Ring | undefined;
  /** Ring ids the receiver has mapped. */
  mapped: Set<string>;
  free: number[];
  held: Set<number>;
}

/**
 * Sends frames through shared memory. The pixels are copied once, into a ring slot the
 * receiver reads in place; a doorbell message on a Unix socket announces each frame. One
 * receiver per endpoint (a second one is refused with a message saying so); register one
 * endpoint per consumer.
 * @example
 * ```ts
 * const sender = await ShmSender.create({ mode: 'push', bind: 'shm://camera-writer' });
 * for await (const frame of camera.stream({ signal })) await sender.send(frame, { signal });
 * await sender.end();
 * sender.close();
 * ```
 */
export class ShmSender {
  readonly #address: ShmAddress;
  readonly #server: Server;
  readonly #slots: number;
  readonly #minSlotBytes: number;
  readonly #timeoutMs: number;
  #peer: Peer | undefined;
  #seq = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  #changed!: Promise<void>;
  #wake!: () => void;
  #counters: SenderCounters = { sent: 0, dropped: 0, bytes: 0 };

  private constructor(
    readonly mode: SenderMode,
    address: ShmAddress,
    server: Server,
    options: ShmSenderOptions,
  ) {
    this.#address = address;
    this.#server = server;
    this.#slots = options.slots ?? (mode === 'push' ? 8 : 3);
    this.#minSlotBytes = options.slotBytes ?? 0;
    this.#timeoutMs = options.sendTimeoutMs ?? 10_000;
    this.#rearm();
    server.on('connection', (socket) => this.#accept(socket));
  }

  /**
   * Listens on the endpoint's doorbell socket (a stale socket left by a dead process is replaced).
   * @throws OptionError for bad options; TransportError when shared memory is unavailable or another process has bound the name.
   */
  static async create(options: ShmSenderOptions): Promise<ShmSender> {
    if ((options as { connect?: unknown }).connect !== undefined || options.bind === undefined)
      throw new OptionError(
        `ShmSender(${options.mode}): give 'bind' (shm://NAME): over shared memory the sender binds and the receiver connects`,
      );
    if (options.mode !== 'push' && options.mode !== 'pub')
      throw new OptionError(`ShmSender: mode must be 'push' or 'pub', got ${JSON.stringify(options.mode)}`);
    const address = parseShmEndpoint(options.bind);
    for (const key of ['slots', 'slotBytes', 'sendTimeoutMs'] as const) {
      const v = options[key];
      const min = key === 'slots' ? 2 : 0;
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= min))
        throw new OptionError(`ShmSender ${address.endpoint}: ${key} must be an integer ≥ ${min}, got ${String(v)}`);
    }
    requireShm();
    const server = await listen(address);
    return new ShmSender(options.mode, address, server, options);
  }

  /** `shm://NAME`. */
  get endpoint(): string {
    return this.#address.endpoint;
  }

  /** A snapshot of the counters. */
  get counters(): SenderCounters {
    return { ...this.#counters };
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while a receiver is connected. */
  get connected(): boolean {
    return this.#peer !== undefined;
  }

  /**
   * Sends one frame (copied into a free slot). Calls are serialised in call order.
   * @returns `true` when the receiver was told of the frame; `false` when a pub sender dropped it.
   * @throws TransportError when a push send finds no receiver or no free slot within `sendTimeoutMs`, or the sender is closed.
   */
  send(frame: Frame, options: SendOptions = {}): Promise<boolean> {
    const json = headerJson(frame, options.stream === undefined ? {} : { stream: options.stream });
    return this.#enqueue(options.signal, (deadline, signal) => this.#send(frame, json, deadline, signal));
  }

  /**
   * Tells the receiver the stream ended (after every frame sent before), with the stream's id and
   * frame count when given (as {@link ZmqSender.end}). A push sender waits for a receiver like
   * `send()`; a pub sender without receiver has nobody to tell.
   */
  async end(options: EndOptions = {}): Promise<void> {
    const { stream, frames } = options;
    await this.#enqueue(options.signal, async (deadline, signal) => {
      const peer = this.mode === 'push' ? await this.#waitFor(() => this.#peer, deadline, signal, 'end') : this.#peer;
      peer?.channel.send({
        t: 'end',
        seq: this.#seq,
        ...(stream === undefined ? {} : { stream }),
        ...(frames === undefined ? {} : { frames }),
      });
      return true;
    });
  }

  /** Stops listening, hangs up on the receiver and releases the ring. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    try {
      unlinkSync(this.#address.socket);
    } catch {
      // already gone
    }
    if (this.#peer) this.#drop(this.#peer);
    this.#wake();
  }

  #enqueue(
    signal: AbortSignal | undefined,
    task: (deadline: number, signal: AbortSignal | undefined) => Promise<boolean>,
  ): Promise<boolean> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const op = this.#tail.then(() => {
      if (signal?.aborted) throw signal.reason;
      if (this.#closed) throw this.#closedError();
      return task(performance.now() + this.#timeoutMs, signal);
    });
    this.#tail = op.catch(() => undefined);
    return race(op, signal);
  }

  async #send(frame: Frame, json: string, deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    const bytes = frameBytes(frame);
    const push = this.mode === 'push';
    let peer = this.#peer;
    if (push) peer = await this.#waitFor(() => this.#peer, deadline, signal, 'frame');
    if (!peer) return this.#dropped();
    if (!peer.ring || peer.ring.slotBytes < bytes.byteLength) {
      // A new ring (first frame, or a larger one) once the receiver holds nothing of the old one.
      if (push)
        await this.#waitFor(
          () => (this.#peer !== peer || peer.held.size === 0 ? true : undefined),
          deadline,
          signal,
          'frame',
        );
      else if (peer.held.size > 0) return this.#dropped();
      if (this.#peer !== peer) return push ? this.#send(frame, json, deadline, signal) : this.#dropped();
      this.#newRing(peer, bytes.byteLength);
    }
    let slot: number | undefined = peer.free.pop();
    if (slot === undefined) {
      if (!push) return this.#dropped();
      slot = await this.#waitFor(() => (this.#peer === peer ? peer.free.pop() : -1), deadline, signal, 'frame');
      if (slot === -1) return this.#send(frame, json, deadline, signal); // the receiver went away: wait for the next
    }
    const ring = peer.ring!;
    const target = slotView(ring, slot, bytes.byteLength);
    if (target.buffer !== bytes.buffer || target.byteOffset !== bytes.byteOffset) target.set(bytes);
    peer.held.add(slot);
    peer.channel.send(`{"t":"frame","seq":${this.#seq++},"slot":${slot},"header":${json}}\n`);
    this.#counters.sent++;
    this.#counters.bytes += bytes.byteLength;
    return true;
  }

  #dropped(): boolean {
    this.#counters.dropped++;
    return false;
  }

  #newRing(peer: Peer, frameBytes: number): void {
    if (peer.ring) releaseRing(peer.ring);
    const ring = createRing(this.#slots, slotSizeFor(Math.max(frameBytes, this.#minSlotBytes)));
    peer.ring = ring;
    peer.free = Array.from({ length: ring.slots }, (_, i) => ring.slots - 1 - i);
    peer.held.clear();
    peer.channel.send({ t: 'ring', name: ring.name, id: ring.id, slots: ring.slots, slotBytes: ring.slotBytes });
  }

  /** Resolves with `get()`'s first defined result, re-checked whenever the peer or its slots change. */
  async #waitFor<T>(
    get: () => T | undefined,
    deadline: number,
    signal: AbortSignal | undefined,
    what: 'frame' | 'end',
  ): Promise<T> {
    for (;;) {
      const value = get();
      if (value !== undefined) return value;
      if (this.#closed) throw this.#closedError();
      const left = deadline - performance.now();
      if (left <= 0) throw this.#timeoutError(what);
      await race(this.#changed, signal, left, () => this.#timeoutError(what));
    }
  }

  #timeoutError(what: 'frame' | 'end'): TransportError {
    const why = this.#peer ? `the receiver holds all ${this.#slots} slots (it is behind)` : 'no receiver is connected';
    return new TransportError(
      `send ${what === 'end' ? 'of the end marker ' : ''}to ${this.endpoint} timed out after ${this.#timeoutMs} ms: ${why}`,
      this.endpoint,
    );
  }

  #closedError(): TransportError {
    return new TransportError(`sender ${this.endpoint} is closed`, this.endpoint);
  }

  #rearm(): void {
    this.#changed = new Promise<void>((resolve) => (this.#wake = resolve));
  }

  #changedNow(): void {
    const wake = this.#wake;
    this.#rearm();
    wake();
  }

  #accept(socket: Socket): void {
    if (this.#closed) return void socket.destroy();
    if (this.#peer) {
      const refused = new Channel(
        socket,
        () => undefined,
        () => undefined,
      );
      refused.send({
        t: 'refused',
        reason: `${this.endpoint} already has a receiver: a shared-memory stream has one consumer (give each consumer its own endpoint)`,
      });
      refused.end();
      return;
    }
    const peer: Peer = {
      channel: undefined as unknown as Channel,
      ring: undefined,
      mapped: new Set(),
      free: [],
      held: new Set(),
    };
    peer.channel = new Channel(
      socket,
      (m) => this.#message(peer, m),
      () => this.#drop(peer),
    );
    this.#peer = peer;
    peer.channel.send({ t: 'hello', version: SHM_PROTOCOL_VERSION, pid: process.pid, mode: this.mode });
    this.#changedNow();
  }

  #message(peer: Peer, m: ShmMessage): void {
    if (m.t === 'release') {
      if (!peer.held.delete(m.slot)) return;
      peer.free.push(m.slot);
      this.#changedNow();
    } else if (m.t === 'mapped') {
      if (peer.ring?.id === m.id) unlinkRing(peer.ring);
      peer.mapped.add(m.id);
    }
  }

  #drop(peer: Peer): void {
    if (this.#peer === peer) this.#peer = undefined;
    if (!peer.channel.closed) peer.channel.close();
    if (peer.ring) releaseRing(peer.ring);
    peer.ring = undefined;
    this.#changedNow();
  }
}

/** Listens on the doorbell socket, replacing a stale one. */
async function listen(address: ShmAddress): Promise<Server> {
  for (let attempt = 0; ; attempt++) {
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(address.socket, () => {
          server.off('error', reject);
          resolve();
        });
      });
      chmodSync(address.socket, 0o600); // only this user may connect (and map the rings)
      return server;
    } catch (error) {
      server.close();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0)
        throw new TransportError(
          `cannot bind ${address.endpoint} (${address.socket}): ${String(error)}`,
          address.endpoint,
          {
            cause: error,
          },
        );
      if (await alive(address.socket))
        throw new TransportError(`cannot bind ${address.endpoint}: another process has bound it`, address.endpoint);
      try {
        unlinkSync(address.socket); // left by a process that died
      } catch {
        // raced with someone else
      }
    }
  }
}

function alive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
