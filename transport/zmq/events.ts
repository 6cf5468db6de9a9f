/**
 * Events: small JSON messages (log lines, heartbeats) that many publishers send to one
 * subscriber, over PUB (connects) → SUB (binds), as `[topic, JSON body]`.
 *
 * Publishing never waits: a message that finds the queue full (ZMQ_SNDHWM, default 10000) or
 * arrives while the publisher is not connected is dropped and counted, so a slow or absent
 * subscriber never holds up the camera that publishes. Never `conflate` (multipart).
 * @module
 */
import type { Publisher, Subscriber } from 'zeromq';
import { zeromq } from './zeromq.js';
import type { CurveOptions } from './curve.js';
import { place, type Placement } from './internal.js';

/** One event as received. */
export interface ZmqEvent {
  topic: string;
  body: unknown;
}

/** Options of {@link EventPublisher.create}. */
export interface EventPublisherOptions extends Placement {
  /** Messages queued for the subscriber before new ones are dropped (ZMQ_SNDHWM, default 10000). */
  sendHighWaterMark?: number;
  curve?: CurveOptions;
}

/**
 * Publishes events. `publish()` returns at once; messages are sent in order.
 * @example
 * ```ts
 * const events = await EventPublisher.create({ connect: 'tcp://conductor:7000' });
 * events.publish('log', { level: 'info', message: 'recording' });
 * ```
 */
export class EventPublisher {
  readonly #socket: Publisher;
  #queue: Buffer[][] = [];
  #sending = false;
  #closed = false;
  #dropped = 0;
  #sent = 0;

  private constructor(
    socket: Publisher,
    /** Where the publisher is connected (or bound). */ readonly endpoint: string,
  ) {
    this.#socket = socket;
  }

  /** Creates the PUB socket and connects (or binds). @throws TransportError */
  static async create(options: EventPublisherOptions): Promise<EventPublisher> {
    const socket = new (zeromq().Publisher)({
      linger: 500,
      sendHighWaterMark: options.sendHighWaterMark ?? 10_000,
      sendTimeout: 0,
    });
    const endpoint = await place(socket, options, 'EventPublisher');
    return new EventPublisher(socket, endpoint);
  }

  /** Messages sent and dropped (queue full). */
  get counters(): { sent: number; dropped: number } {
    return { sent: this.#sent, dropped: this.#dropped };
  }

  /** Queues `body` under `topic`; drops it (counted) when the queue is full. */
  publish(topic: string, body: unknown): void {
    if (this.#closed) return;
    if (this.#queue.length >= 10_000) {
      this.#dropped++;
      return;
    }
    this.#queue.push([Buffer.from(topic), Buffer.from(JSON.stringify(body))]);
    if (!this.#sending) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    try {
      while (this.#queue.length && !this.#closed) {
        const message = this.#queue.shift()!;
        try {
          await this.#socket.send(message);
          this.#sent++;
        } catch {
          this.#dropped++; // EAGAIN (full) or closed
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  /** Sends what is queued (within `timeoutMs`), then closes the socket. Idempotent. */
  async close(timeoutMs = 500): Promise<void> {
    if (this.#closed) return;
    const until = performance.now() + timeoutMs;
    while ((this.#queue.length || this.#sending) && performance.now() < until)
      await new Promise((r) => setTimeout(r, 5));
    this.#closed = true;
    this.#socket.close();
  }
}

/** Options of {@link EventSubscriber.create}. */
export interface EventSubscriberOptions extends Placement {
  /** Topics to receive (default: all). */
  topics?: readonly string[];
  curve?: CurveOptions;
}

/**
 * Receives the events of every publisher connected to it.
 * @example
 * ```ts
 * const events = await EventSubscriber.create({ bind: 'tcp://127.0.0.1:*' });
 * for await (const { topic, body } of events) console.log(topic, body);
 * ```
 */
export class EventSubscriber implements AsyncIterable<ZmqEvent> {
  readonly #socket: Subscriber;
  #closed = false;
  #invalid = 0;

  private constructor(
    socket: Subscriber,
    /** The concrete endpoint (with the port ZeroMQ picked). */ readonly endpoint: string,
  ) {
    this.#socket = socket;
  }

  /** Creates the SUB socket and binds (or connects). @throws TransportError */
  static async create(options: EventSubscriberOptions): Promise<EventSubscriber> {
    const socket = new (zeromq().Subscriber)({ linger: 0, receiveHighWaterMark: 100_000 });
    if (options.topics) for (const t of options.topics) socket.subscribe(t);
    else socket.subscribe();
    const endpoint = await place(socket, options, 'EventSubscriber');
    return new EventSubscriber(socket, endpoint);
  }

  /** Messages that were not `[topic, JSON]` (dropped). */
  get invalid(): number {
    return this.#invalid;
  }

  /** The events as they arrive, until {@link close}. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ZmqEvent> {
    while (!this.#closed) {
      let parts: Buffer[];
      try {
        parts = await this.#socket.receive();
      } catch {
        return;
      }
      if (parts.length !== 2) {
        this.#invalid++;
        continue;
      }
      let body: unknown;
      try {
        body = JSON.parse(parts[1]!.toString('utf8'));
      } catch {
        this.#invalid++;
        continue;
      }
      yield { topic: parts[0]!.toString('utf8'), body };
    }
  }

  /** Closes the socket; the iteration ends. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}
