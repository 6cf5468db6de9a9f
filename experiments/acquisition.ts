/**
 * Acquisitions: a named producer of frames whose frames are broadcast, by reference, to every
 * attached consumer, each with its own delivery policy (see `consumer.ts`). Consumers can be
 * attached and detached while the acquisition runs.
 * @module
 */
import {
  abortError,
  errorMessage,
  isAbortError,
  Logger,
  OptionError,
  parseOptions,
  startOperation,
  z,
  zfunction,
  type Frame,
  type Producer,
} from '../core/index.js';
import type { FrameConsumer as Consumer, ConsumerStats } from './consumer.js';
import { LatestDelivery, LosslessDelivery, type Delivery } from './delivery.js';
import { AcquisitionError, ConsumerError } from './errors.js';
import type { Gate } from './gate.js';

/** The options of {@link Acquisition.create}. */
export const ACQUISITION_OPTIONS = z.strictObject({
  /**
   * Runs before the producer, e.g. to make a remote camera send frames straight to remote
   * consumers (then the producer may be `null`); may return how many frames it had sent.
   */
  acquire: zfunction<(signal: AbortSignal) => Promise<number | void>>().optional(),
  /** How many frames a run yields, if known (for progress bars). */
  frames: z.union([z.number().int().min(0), zfunction<() => number>()]).optional(),
});

/** Options of {@link Acquisition.create}. */
export type AcquisitionOptions = z.input<typeof ACQUISITION_OPTIONS>;

/** Options of {@link Acquisition.run}. */
export interface AcquisitionRunOptions {
  signal?: AbortSignal;
  /** Frames wait here between each other while closed (pause). */
  gate?: Gate;
  /** Called after each frame was handed to the consumers. */
  onFrame?: (count: number) => void;
}

/** What a run did. */
export interface AcquisitionResult {
  frames: number;
  durationMs: number;
  consumers: Record<string, ConsumerStats>;
}

/** A consumer taking part in the current run. */
interface Live {
  consumer: Consumer;
  delivery: Delivery<Frame>;
  /** Settles when the consumer's `prepare()` did (consume() starts after it). */
  prepared: Promise<void>;
  done: Promise<void>;
  finished: boolean;
}

/** An acquisition: `await Acquisition.create('darks', producer)`. */
export class Acquisition {
  readonly log: Logger;
  readonly #producer: Producer<Frame> | null;
  readonly #options: AcquisitionOptions;
  readonly #consumers = new Set<Consumer>();
  readonly #stats = new Map<Consumer, ConsumerStats>();
  #live: Live[] = [];
  #run: { controller: AbortController; signal: AbortSignal; failure: unknown; produced: Promise<number> } | undefined;

  /**
   * Makes an acquisition.
   * @param producer called once per run with an AbortSignal; yields frames (`null` for an
   *   acquisition whose frames go to remote consumers only, driven by `acquire`).
   */
  static async create(
    name: string,
    producer: Producer<Frame> | null,
    options: AcquisitionOptions = {},
  ): Promise<Acquisition> {
    return new Acquisition(name, producer, options);
  }

  constructor(
    readonly name: string,
    producer: Producer<Frame> | null,
    options: AcquisitionOptions = {},
  ) {
    if (typeof name !== 'string' || name.length === 0)
      throw new OptionError(`an acquisition needs a non-empty name, got ${JSON.stringify(name)}`);
    if (producer !== null && typeof producer !== 'function')
      throw new OptionError(
        `acquisition '${name}': the producer must be a function (signal) => AsyncIterable<Frame>, or null`,
      );
    parseOptions(() => `acquisition '${name}'`, ACQUISITION_OPTIONS, options);
    if (producer === null && !options.acquire)
      throw new OptionError(`acquisition '${name}': without a producer it needs an 'acquire' function`);
    this.#producer = producer;
    this.#options = options;
    this.log = new Logger(`acquisition ${name}`);
  }

  /** True if frames come through this process (it has a producer). */
  get local(): boolean {
    return this.#producer !== null;
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.#run !== undefined;
  }

  /** How many frames a run yields, if known. */
  get expectedFrames(): number | undefined {
    const f = this.#options.frames;
    return typeof f === 'function' ? f() : f;
  }

  /** The attached consumers. */
  get consumers(): Consumer[] {
    return [...this.#consumers];
  }

  /** Counters of a consumer over the last (or current) run. */
  stats(consumer: Consumer): ConsumerStats | undefined {
    const live = this.#live.find((l) => l.consumer === consumer);
    if (live) return { frames: live.delivery.delivered, dropped: live.delivery.dropped };
    return this.#stats.get(consumer);
  }

  /**
   * Attaches a consumer; during a run it starts receiving at the next frame. Attaching twice is a
   * no-op.
   * @throws ConsumerError for a local consumer on an acquisition without a producer.
   */
  attach(consumer: Consumer): void {
    if (this.#consumers.has(consumer)) return;
    if ((consumer.kind ?? 'local') === 'local' && !this.local)
      throw new ConsumerError(
        `cannot attach local consumer '${consumer.name}' to acquisition '${this.name}': its frames go to remote consumers only`,
      );
    this.#consumers.add(consumer);
    if (this.#run && consumer.kind !== 'remote') this.#start(consumer, this.#run.produced);
  }

  /**
   * Detaches a consumer. During a run its frame stream ends cleanly (lossless consumers get the
   * frames already queued); resolves when it has finished.
   */
  async detach(consumer: Consumer): Promise<void> {
    this.#consumers.delete(consumer);
    const live = this.#live.find((l) => l.consumer === consumer);
    if (!live) return;
    this.#retire(live);
    live.delivery.end();
    await live.done.catch(() => undefined);
  }

  /**
   * Runs the acquisition: `acquire`, then the producer's frames to every consumer. Resolves when
   * the producer is done and every consumer has finished.
   * @throws AcquisitionError naming the failed producer or consumer; AbortError when cancelled.
   */
  async run(options: AcquisitionRunOptions = {}): Promise<AcquisitionResult> {
    if (this.#run) throw new AcquisitionError(`acquisition '${this.name}' is already running`);
    const op = startOperation(options.signal);
    const controller = new AbortController();
    const signal = AbortSignal.any([op.signal, controller.signal]);
    let settleProduced!: (count: number | Promise<never>) => void;
    const produced = new Promise<number>((resolve) => (settleProduced = resolve));
    produced.catch(() => undefined);
    const run = (this.#run = { controller, signal, failure: undefined as unknown, produced });
    const started = performance.now();
    let count = 0;
    this.#live = [];
    for (const c of this.#consumers) this.#start(c, produced);
    try {
      await Promise.all(this.#live.map((l) => l.prepared));
      const sent = this.#options.acquire ? await this.#acquire(this.#options.acquire, signal) : undefined;
      if (this.#producer) count = await this.#pump(this.#producer, signal, options);
      else if (typeof sent === 'number') count = sent;
      signal.throwIfAborted();
      settleProduced(count);
      for (const live of this.#live) live.delivery.end();
    } catch (error) {
      const reason = run.failure ?? (isAbortError(error) && signal.aborted ? signal.reason : error);
      settleProduced(Promise.reject(reason));
      for (const live of this.#live) live.delivery.fail(reason);
      run.failure ??= reason;
    } finally {
      await Promise.all(this.#live.map((l) => l.done.catch(() => undefined)));
      for (const live of this.#live)
        this.#stats.set(live.consumer, { frames: live.delivery.delivered, dropped: live.delivery.dropped });
      this.#live = [];
      this.#run = undefined;
      op.done();
    }
    if (run.failure !== undefined) {
      if (isAbortError(run.failure) || run.failure instanceof AcquisitionError) throw run.failure;
      throw new AcquisitionError(`acquisition '${this.name}' failed: ${errorMessage(run.failure)}`, {
        cause: run.failure,
      });
    }
    return {
      frames: count,
      durationMs: performance.now() - started,
      consumers: Object.fromEntries([...this.#stats].map(([c, s]) => [c.name, s])),
    };
  }

  /**
   * Runs `acquire`; when the run is aborted, rejects at once and gives `acquire` up to 2 s more
   * to clean up (e.g. to stop a remote camera) before the run ends.
   */
  async #acquire(
    acquire: (signal: AbortSignal) => Promise<number | void>,
    signal: AbortSignal,
  ): Promise<number | void> {
    const abortable = new Abortable(signal);
    const task = acquire(signal);
    try {
      return await abortable.wait(task);
    } catch (error) {
      if (signal.aborted)
        await Promise.race([task.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
      throw error;
    } finally {
      abortable.dispose();
    }
  }

  /** Pulls the producer and offers each frame to every live consumer. */
  async #pump(producer: Producer<Frame>, signal: AbortSignal, options: AcquisitionRunOptions): Promise<number> {
    const iterator = producer(signal)[Symbol.asyncIterator]();
    const abortable = new Abortable(signal);
    let count = 0;
    try {
      for (;;) {
        const next = await abortable.wait(iterator.next());
        if (next.done) break;
        const gate = options.gate?.pass(signal);
        if (gate) await gate;
        const frame = next.value;
        let waits: Promise<void>[] | undefined;
        for (const live of this.#live) {
          const wait = live.delivery.offer(frame);
          if (wait) (waits ??= []).push(wait);
        }
        count++;
        options.onFrame?.(count);
        if (waits) await abortable.wait<unknown>(waits.length === 1 ? waits[0]! : Promise.all(waits));
      }
    } finally {
      abortable.dispose();
      // Stop the producer; don't hang on one that ignores its signal.
      const closing = iterator.return?.();
      if (closing)
        await Promise.race([closing.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    return count;
  }

  #start(consumer: Consumer, produced: Promise<number>): void {
    const run = this.#run!;
    const delivery: Delivery<Frame> =
      consumer.policy === 'latest' ? new LatestDelivery<Frame>() : new LosslessDelivery<Frame>(consumer.queueSize ?? 4);
    const live: Live = { consumer, delivery, prepared: Promise.resolve(), done: Promise.resolve(), finished: false };
    const signal = run.signal;
    const context = { acquisition: this, signal, produced };
    live.prepared = Promise.resolve().then(() => consumer.prepare?.(context));
    live.done = live.prepared
      .then(() => consumer.consume(delivery, context))
      .then(
        () => {
          // Finished early (before the end of the stream): drop it; the others go on.
          if (!delivery.closed) this.log.info(`consumer '${consumer.name}' finished early; detached`);
          this.#retire(live);
          delivery.fail(abortError('consumer finished'));
        },
        (error: unknown) => {
          this.#retire(live);
          if (isAbortError(error) && (delivery.closed || signal.aborted)) return;
          if (run.failure !== undefined) return;
          const failure = new AcquisitionError(
            `consumer '${consumer.name}' of acquisition '${this.name}' failed: ${errorMessage(error)}`,
            { cause: error },
          );
          run.failure = failure;
          this.log.error(failure.message, error);
          run.controller.abort(failure);
        },
      );
    this.#live.push(live);
  }

  #retire(live: Live): void {
    if (live.finished) return;
    live.finished = true;
    this.#stats.set(live.consumer, { frames: live.delivery.delivered, dropped: live.delivery.dropped });
    const i = this.#live.indexOf(live);
    if (i >= 0) this.#live = [...this.#live.slice(0, i), ...this.#live.slice(i + 1)];
  }
}

/**
 * Awaits promises that reject as soon as `signal` aborts. One abort listener for all waits, and
 * nothing kept of a settled wait (a `Promise.race` against one long-lived abort promise would
 * keep every frame it ever resolved with).
 */
class Abortable {
  #reject: ((reason: unknown) => void) | undefined;
  readonly #onAbort = () => this.#reject?.(this.signal.reason);

  constructor(readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  wait<T>(promise: Promise<T>): Promise<T> {
    if (this.signal.aborted) {
      promise.catch(() => undefined);
      return Promise.reject(this.signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      promise.then(resolve, reject);
    }).finally(() => (this.#reject = undefined));
  }

  dispose(): void {
    this.signal.removeEventListener('abort', this.#onAbort);
  }
}
