/**
 * Acquisitions: a named producer of frames whose frames are broadcast, by reference, to every
 * attached consumer, each with its own delivery policy (see `consumer.ts`). Consumers can be
 * attached and detached while the acquisition runs.
 * @module
 */
import { inspect } from 'node:util';
import {
  abortError,
  checkCallOptions,
  errorMessage,
  frameProblem,
  isAbortError,
  Logger,
  OptionError,
  parseOptions,
  SIGNAL_OPTIONS,
  startOperation,
  z,
  zfunction,
  zwhere,
  type Frame,
} from '../core/index.js';
import { FRAME_CONSUMER, type ConsumerStats, type FrameConsumer } from './consumer.js';
import { LatestDelivery, LosslessDelivery, type Delivery } from './delivery.js';
import { AcquisitionError, ConsumerError } from './errors.js';
import type { PausePoint } from './pause.js';
import type { AcquisitionPlan, PlanContext } from './estimate.js';

/** The options of {@link Acquisition.create}. */
export const ACQUISITION_OPTIONS = z.strictObject({
  /**
   * Runs before the producer, e.g. to make a remote camera send frames straight to remote
   * consumers (then the producer may be `null`); may return how many frames it had sent.
   */
  acquire: zfunction<(signal: AbortSignal, run: AcquireContext) => Promise<number | void>>().optional(),
  /** How many frames a run yields, if known (for progress bars). */
  frames: z.union([z.number().int().min(0), zfunction<() => number>()]).optional(),
  /**
   * The producer can restart from a checkpoint: called again as `producer(signal, { from })`, it
   * yields frame `from` next (positions, angles and exposure set up for it). Pausing then closes
   * the producer, so the hardware it drives can be made safe, and resuming restarts it (default
   * false: pausing only holds the producer between two frames).
   */
  restartable: z.boolean().optional(),
  /**
   * What a run would do, for dry runs (`experiment.estimate()`): frames, duration and each
   * frame's shape, dtype and metadata, worked out from the devices' hooks without moving them.
   * Imaging experiments declare it from the same step their producer runs.
   */
  plan: zfunction<(context: PlanContext) => Promise<AcquisitionPlan>>().optional(),
});

/** Where a producer starts: frame `from` (0, or a checkpoint's frame count after a pause). */
export interface ProducerStart {
  readonly from: number;
}

/**
 * An acquisition's source of frames: called once per run (and again after each pause, for a
 * restartable acquisition) with a signal that stops it.
 */
export type FrameProducer = (signal: AbortSignal, start: ProducerStart) => AsyncIterable<Frame>;

/** Options of {@link Acquisition.create}. */
export type AcquisitionOptions = z.input<typeof ACQUISITION_OPTIONS>;

/** What `acquire` gets besides the signal. */
export interface AcquireContext {
  /** This run's stream id (the same as its consumers' `streamId`): tag what is sent with it. */
  readonly streamId: string;
}

/** The options of {@link Acquisition.run} (experiments pass them; users rarely do). */
export const ACQUISITION_RUN_OPTIONS = SIGNAL_OPTIONS.extend({
  pause: zwhere(
    'a pause point (from an experiment run)',
    (v): v is PausePoint => typeof (v as PausePoint)?.hold === 'function',
  ).optional(),
  onFrame: zfunction<(count: number) => void>().optional(),
});

/** Options of {@link Acquisition.run}. */
export interface AcquisitionRunOptions {
  signal?: AbortSignal;
  /** Where the run holds when paused (between frames). */
  pause?: PausePoint;
  /**
   * Called with the frames so far: after each frame was handed to the consumers, or, for an
   * acquisition without a local producer, whenever every remote consumer's server has confirmed more.
   */
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
  consumer: FrameConsumer;
  delivery: Delivery<Frame>;
  /** Settles when the consumer's `prepare()` did (consume() starts after it). */
  prepared: Promise<void>;
  done: Promise<void>;
  finished: boolean;
  /** Frames the consumer's server confirmed (remote consumers report them with `confirm`). */
  confirmed?: number;
}

/** An acquisition: `await Acquisition.create('darks', producer)`. */
export class Acquisition {
  readonly log: Logger;
  readonly #producer: FrameProducer | null;
  readonly #options: AcquisitionOptions;
  readonly #consumers = new Set<FrameConsumer>();
  readonly #stats = new Map<FrameConsumer, ConsumerStats>();
  #live: Live[] = [];
  #run:
    | {
        controller: AbortController;
        signal: AbortSignal;
        failure: unknown;
        produced: Promise<number>;
        streamId: string;
        onFrame: ((count: number) => void) | undefined;
        progress: number;
      }
    | undefined;

  /**
   * Makes an acquisition.
   * @param producer called once per run with an AbortSignal; yields frames (`null` for an
   *   acquisition whose frames go to remote consumers only, driven by `acquire`).
   */
  static async create(
    name: string,
    producer: FrameProducer | null,
    options: AcquisitionOptions = {},
  ): Promise<Acquisition> {
    return new Acquisition(name, producer, options);
  }

  constructor(
    readonly name: string,
    producer: FrameProducer | null,
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

  /** What the prompt prints: `Acquisition radios (200 frames, 2 consumers, running)`. */
  [inspect.custom](): string {
    const frames = this.expectedFrames;
    const parts = [
      frames === undefined ? 'frames: unknown count' : `${frames} frame${frames === 1 ? '' : 's'}`,
      `${this.#consumers.size} consumer${this.#consumers.size === 1 ? '' : 's'}`,
      ...(this.local ? [] : ['remote']),
      ...(this.running ? ['running'] : []),
    ];
    return `Acquisition ${this.name} (${parts.join(', ')})`;
  }

  /** True if frames come through this process (it has a producer). */
  get local(): boolean {
    return this.#producer !== null;
  }

  /** True if pausing closes the producer and resuming restarts it from the checkpoint. */
  get restartable(): boolean {
    return this.#options.restartable === true && this.local;
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

  /**
   * What a run would do, without running (see the `plan` option). Without a plan: the expected
   * frames, no duration and no frame shapes (noted in the context).
   */
  async plan(context: PlanContext): Promise<AcquisitionPlan> {
    if (this.#options.plan) return this.#options.plan(context);
    context.note(
      `acquisition '${this.name}' declares no plan (option plan): its duration${this.expectedFrames === undefined ? ', frames' : ''} ` +
        'and bytes are not estimated',
    );
    return { frames: this.expectedFrames ?? 0, durationMs: 0, unknown: [`acquisition '${this.name}' has no plan`] };
  }

  /** The attached consumers. */
  get consumers(): FrameConsumer[] {
    return [...this.#consumers];
  }

  /** Counters of a consumer over the last (or current) run. */
  stats(consumer: FrameConsumer): ConsumerStats | undefined {
    const live = this.#live.find((l) => l.consumer === consumer);
    if (live) return liveStats(live);
    return this.#stats.get(consumer);
  }

  /**
   * Attaches a consumer; during a run it starts receiving at the next frame. Attaching twice is a
   * no-op.
   * @throws ConsumerError for a local consumer on an acquisition without a producer; OptionError
   *   for a consumer without a name or `consume`, or with a bad `policy`, `queueSize` or `kind`.
   */
  attach(consumer: FrameConsumer): void {
    if (this.#consumers.has(consumer)) return;
    parseOptions(
      () =>
        `acquisition '${this.name}': attach(consumer${typeof consumer?.name === 'string' ? ` '${consumer.name}'` : ''})`,
      FRAME_CONSUMER,
      consumer,
    );
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
  async detach(consumer: FrameConsumer): Promise<void> {
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
    checkCallOptions(() => `acquisition '${this.name}'.run`, ACQUISITION_RUN_OPTIONS, options);
    if (this.#run) throw new AcquisitionError(`acquisition '${this.name}' is already running`);
    const op = startOperation(options.signal);
    const controller = new AbortController();
    const signal = AbortSignal.any([op.signal, controller.signal]);
    let settleProduced!: (count: number | Promise<never>) => void;
    const produced = new Promise<number>((resolve) => (settleProduced = resolve));
    produced.catch(() => undefined);
    // (Web Crypto, made on first use: importing node:crypto costs every session start ≈ 4 ms)
    const streamId = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(6))).toString('hex');
    const run = (this.#run = {
      controller,
      signal,
      failure: undefined as unknown,
      produced,
      streamId,
      onFrame: options.onFrame,
      progress: 0,
    });
    const started = performance.now();
    let count = 0;
    this.#live = [];
    for (const c of this.#consumers) this.#start(c, produced);
    try {
      await Promise.all(this.#live.map((l) => l.prepared));
      const sent = this.#options.acquire ? await this.#acquire(this.#options.acquire, signal, streamId) : undefined;
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
      for (const live of this.#live) this.#stats.set(live.consumer, liveStats(live));
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
    acquire: (signal: AbortSignal, run: AcquireContext) => Promise<number | void>,
    signal: AbortSignal,
    streamId: string,
  ): Promise<number | void> {
    const abortable = new Abortable(signal);
    const task = acquire(signal, { streamId });
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

  /**
   * Pulls the producer and offers each frame to every live consumer. At each pause point (before
   * the next frame) a requested pause holds the run; a restartable producer is closed first
   * (interrupted at once, even while it waits for a frame) and restarted from the checkpoint.
   */
  async #pump(producer: FrameProducer, signal: AbortSignal, options: AcquisitionRunOptions): Promise<number> {
    const pause = options.pause;
    const restartable = this.restartable && pause !== undefined;
    const abortable = new Abortable(signal);
    let count = 0;
    let source: { iterator: AsyncIterator<Frame>; interrupted: AbortSignal | undefined } | undefined;
    const open = () => {
      const interrupted = restartable ? pause.interrupt : undefined;
      const own = interrupted ? AbortSignal.any([signal, interrupted]) : signal;
      return { iterator: producer(own, { from: count })[Symbol.asyncIterator](), interrupted };
    };
    const close = async () => {
      const iterator = source?.iterator;
      source = undefined;
      if (iterator) await closeProducer(iterator);
    };
    try {
      for (;;) {
        if (pause?.requested) {
          if (restartable) await close();
          await pause.hold({ acquisition: this.name, frames: count, restarts: restartable }, signal);
        }
        source ??= open();
        let next: IteratorResult<Frame>;
        try {
          next = await abortable.wait(source.iterator.next());
        } catch (error) {
          // Interrupted by a pause (not the run's abort): hold at this frame and restart there.
          if (!signal.aborted && source.interrupted?.aborted) {
            await close();
            continue;
          }
          throw error;
        }
        if (next.done) break;
        const frame = next.value;
        const problem = frameProblem(frame);
        if (problem !== undefined)
          throw new AcquisitionError(
            `acquisition '${this.name}': the producer yielded a bad frame (frame ${count}): ${problem}`,
          );
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
      await close();
    }
    return count;
  }

  #start(consumer: FrameConsumer, produced: Promise<number>): void {
    const run = this.#run!;
    const delivery: Delivery<Frame> =
      consumer.policy === 'latest' ? new LatestDelivery<Frame>() : new LosslessDelivery<Frame>(consumer.queueSize ?? 4);
    const live: Live = { consumer, delivery, prepared: Promise.resolve(), done: Promise.resolve(), finished: false };
    const signal = run.signal;
    const confirm = (frames: number) => {
      live.confirmed = Math.max(live.confirmed ?? 0, frames);
      // Without a local producer, the servers' confirmed counts are the run's progress.
      if (this.#producer || this.#run !== run) return;
      const counts = this.#live.filter((l) => l.confirmed !== undefined).map((l) => l.confirmed!);
      const now = counts.length ? Math.min(...counts) : 0;
      if (now > run.progress) {
        run.progress = now;
        run.onFrame?.(now);
      }
    };
    const context = { acquisition: this, signal, produced, streamId: run.streamId, confirm };
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
          // The producer (a camera, a moving motor) is cancelled, not failed: a consumer's failure
          // is not a fault of the devices feeding it. The run still fails with `failure`.
          run.controller.abort(abortError(`acquisition '${this.name}' stopped: ${failure.message}`, failure));
        },
      );
    this.#live.push(live);
  }

  #retire(live: Live): void {
    if (live.finished) return;
    live.finished = true;
    this.#stats.set(live.consumer, liveStats(live));
    const i = this.#live.indexOf(live);
    if (i >= 0) this.#live = [...this.#live.slice(0, i), ...this.#live.slice(i + 1)];
  }
}

/** A live consumer's counters: the frames its server confirmed, for a remote one. */
function liveStats(live: Live): ConsumerStats {
  return { frames: live.confirmed ?? live.delivery.delivered, dropped: live.delivery.dropped };
}

/** Stops a producer (its `finally` blocks run); don't hang on one that ignores its signal. */
async function closeProducer(iterator: AsyncIterator<Frame>): Promise<void> {
  const closing = iterator.return?.();
  if (closing) await Promise.race([closing.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
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
