/**
 * Streaming steps: a function, or a worker module on worker threads, applied to every item of an
 * input as it arrives, into an output set that stays open until a stop criterion closes it.
 * @module
 */
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage, OptionError } from '../core/errors.js';
import { parseOptions, z, zfunction, zinstance, zwhere } from '../core/options.js';
import { Logger } from '../core/log.js';
import { progress, type Progress } from '../core/progress.js';
import type { Producer } from '../core/producer.js';
import { StreamingError } from './errors.js';
import { producerInput, isStepSource, type InputItem, type StepInput, type StepSource } from './input.js';
import { now, toRecord, type CloseInfo, type CloseReason, type JsonValue, type OutputItem } from './item.js';
import { OutputSet, type SetSummary } from './output-set.js';
import { SetFile } from './set-file.js';
import { STOP_CRITERIA, StopWatch } from './stop.js';
import { WorkerPool } from './worker-pool.js';

/** What the function of a step gets with each item. */
export interface ItemContext {
  /** The input index of the item. */
  readonly index: number;
  /** The input key of the item (file name, upstream index, …). */
  readonly key: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Aborted when the step is disposed of (not when it stops: items taken are finished). Not passed to workers. */
  readonly signal: AbortSignal;
}

/** What a step reads: another step's set, a directory watcher, or a producer. */
export type StepInputSource<I> = StepSource<I> | Producer<I>;

/** The options of {@link StreamingStep.create} (the callbacks are typed by {@link StreamingStepOptions}). */
export const STREAMING_STEP_OPTIONS = z.strictObject({
  /** Name of the step and of its set (in messages, summaries and the set file). */
  name: z.string().min(1),
  /** The items to process: `otherStep.output`, a `DirectoryWatcher`, or a producer `(signal) => AsyncIterable`. */
  input: zwhere(
    'an OutputSet (another step’s output), a DirectoryWatcher or a producer (signal) => AsyncIterable',
    (v): v is StepInputSource<unknown> => typeof v === 'function' || isStepSource(v),
  ),
  /** The function applied to each item (give this or `worker`): `(input, context) => result`. */
  process: zfunction().optional(),
  /**
   * A module run on worker threads, for CPU work (give this or `process`): its default export
   * (or its `process` export) is called with `(input, { index, key, attempt })`; an optional
   * `setup(config)` export runs once per worker with `workerConfig`. A path (resolved against
   * the working directory) or a URL (`new URL('./flat.ts', import.meta.url)`). Inputs are copied
   * to the worker; results come back with their buffers moved (return fresh arrays).
   */
  worker: z.union([z.string().min(1), zinstance(URL)]).optional(),
  /** Passed to the worker module's `setup()` (copied: structured-cloneable data). */
  workerConfig: z.unknown().optional(),
  /** Items processed at once: worker threads for a `worker` step; calls in flight for `process` (default 1). */
  concurrency: z.number().int().min(1).optional(),
  /**
   * SQLite file the set is persisted in: every item is committed before it is registered, in
   * groups (created if missing; an open set is resumed, a closed one is loaded and the step does
   * nothing). Default: memory only.
   */
  set: z.string().min(1).optional(),
  /** When to close the set; the end of the input (or the input set closing) always closes it. */
  stop: STOP_CRITERIA.optional(),
  /** `record` (default): a failing item is registered as failed and the step goes on; `fail`: it fails the step. */
  onError: z.enum(['record', 'fail']).optional(),
  /** Attempts after the first for a failing item (default 0). */
  retries: z.number().int().min(0).optional(),
  /** Wait before the first retry (default 100 ms); doubled for each further one, at most 10 s. */
  retryDelayMs: z.number().min(0).optional(),
  /** What to persist of a result: `(value) => JSON` (default: the value itself if plain JSON; a frame's shape, dtype and metadata). */
  record: zfunction().optional(),
  /** Values kept in memory after every chained step took them (default 16). */
  keepValues: z.number().int().min(0).optional(),
  /** Items a chained step may lag before this step waits for it (default 32): bounds memory. */
  highWaterMark: z.number().int().min(1).optional(),
  /** Input key of a producer's items, `(input, index) => string` (default: the index); unique and the same after a restart. */
  key: zfunction().optional(),
});

/** Options of {@link StreamingStep.create}: the schema's, with the callbacks typed by the input `I` and result `O`. */
export type StreamingStepOptions<I, O> = Omit<
  z.input<typeof STREAMING_STEP_OPTIONS>,
  'input' | 'process' | 'record' | 'key'
> & {
  /** The items to process: `otherStep.output`, a `DirectoryWatcher`, or a producer `(signal) => AsyncIterable`. */
  input: StepInputSource<I>;
  /** The function applied to each item (give this or `worker`). */
  process?: (input: I, context: ItemContext) => O | Promise<O>;
  /** What to persist of a result (default: the value itself if plain JSON; a frame's shape, dtype and metadata). */
  record?: (value: O) => JsonValue;
  /** Input key of a producer's items (default: their index); must be unique and the same after a restart. */
  key?: (input: I, index: number) => string;
};

/** `streaming` while the set is open, `closed` after a stop criterion, `failed` if the step failed. */
export type StepState = 'streaming' | 'closed' | 'failed';

/** Counters of a step. */
export interface StepSummary extends Omit<SetSummary, 'state'> {
  step: string;
  state: StepState;
  /** State of the set. */
  setState: SetSummary['state'];
  inFlight: number;
  /** Input items skipped because the set already had them (a resumed step). */
  skipped: number;
  /** Retries made. */
  retries: number;
  /** Items per second over the last 10 s. */
  rate: number;
}

const MAX_RETRY_DELAY_MS = 10_000;

/**
 * A streaming step: `await StreamingStep.create({ name, input, process | worker, … })` starts
 * it at once. Items are processed as they arrive, `concurrency` at a time, and registered in
 * `step.output` in completion order.
 *
 * @example
 * ```ts
 * const watcher = await DirectoryWatcher.create({ directory: '/data/detector', pattern: '*.tif' });
 * const read = await StreamingStep.create({
 *   name: 'read', input: watcher, set: '/data/run1/read.sqlite', stop: { count: 500 },
 *   process: async (file) => (await readTiff(file.path))[0]!.frame,
 * });
 * const flat = await StreamingStep.create<Frame, Frame>({
 *   name: 'flat', input: read.output, worker: './flat-worker.ts', concurrency: 2, set: '/data/run1/flat.sqlite',
 * });
 * await flat.output.closed;   // closes after read's set closed (cascade)
 * ```
 */
export class StreamingStep<I = unknown, O = unknown> {
  readonly name: string;
  /** The results. */
  readonly output: OutputSet<O>;
  /** Items of the set that were there when the step started (a resumed set). */
  readonly resumed: number;
  readonly log: Logger;
  readonly #input: StepInput<I>;
  readonly #options: StreamingStepOptions<I, O>;
  #pool: WorkerPool | undefined;
  readonly #stopWatch: StopWatch;
  readonly #inputAbort = new AbortController();
  readonly #dispose = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #stop: { reason: CloseReason; message: string; error?: unknown } | undefined;
  #wakeLoop: (() => void) | undefined;
  #state: StepState = 'streaming';
  #nextIndex: number;
  #skipped = 0;
  #retries = 0;
  #progress: Progress | undefined;
  #recovery: { pool: Promise<WorkerPool>; timer: NodeJS.Timeout | undefined } | undefined;

  /**
   * Checks the options, opens (or resumes) the set, starts the workers and starts streaming.
   * @throws OptionError for bad options (naming the option and what is allowed); StreamingError
   *   for a set file that cannot be used or a worker module that does not load.
   */
  static async create<I = unknown, O = unknown>(options: StreamingStepOptions<I, O>): Promise<StreamingStep<I, O>> {
    parseOptions('StreamingStep.create', STREAMING_STEP_OPTIONS, options);
    if ((options.process === undefined) === (options.worker === undefined))
      throw new OptionError(
        'StreamingStep.create: give exactly one of process: (input, context) => result or worker: a module path or URL',
      );
    const input = isStepSource(options.input)
      ? (options.input.toStepInput() as StepInput<I>)
      : producerInput(options.input as Producer<I>, options.key);
    const file = options.set
      ? SetFile.openForWriting(options.set, { name: options.name, step: options.name, input: input.description })
      : undefined;
    let set: OutputSet<O>;
    try {
      set = new OutputSet<O>({
        name: options.name,
        file,
        keepValues: options.keepValues,
        highWaterMark: options.highWaterMark,
      });
    } catch (error) {
      file?.close();
      throw error;
    }
    let pool: WorkerPool | undefined;
    if (options.worker !== undefined && set.state === 'open') {
      try {
        pool = await WorkerPool.create(
          `step '${options.name}'`,
          workerUrl(options.worker),
          options.concurrency ?? 1,
          options.workerConfig,
        );
      } catch (error) {
        set.detachFile();
        throw error;
      }
    }
    const step = new StreamingStep<I, O>(options, input, set, pool);
    step.#start();
    return step;
  }

  private constructor(options: StreamingStepOptions<I, O>, input: StepInput<I>, set: OutputSet<O>, pool?: WorkerPool) {
    this.name = options.name;
    this.log = new Logger(`step ${options.name}`);
    this.#options = options;
    this.#input = input;
    this.output = set;
    this.#pool = pool;
    this.resumed = set.size;
    this.#nextIndex = set.items.reduce((n, item) => Math.max(n, item.inputIndex + 1), 0);
    const stopFile =
      options.stop?.stopFile === false
        ? undefined
        : options.stop?.stopFile !== undefined
          ? resolve(options.stop.stopFile)
          : set.file
            ? join(dirname(set.file), 'STOP')
            : undefined;
    set.stopFile = stopFile;
    // A STOP file shared with the input set is left to it: this step closes after it, in cascade,
    // so every item taken upstream is processed here too.
    const cascade = stopFile !== undefined && stopFile === input.upstream?.stopFile;
    this.#stopWatch = new StopWatch(options.stop ?? {}, cascade ? undefined : stopFile, (reason, message) =>
      this.#requestStop({ reason, message }),
    );
    set.recover = (item) => this.#recompute(item);
    set.onCommitError = (error) => this.#commitFailed(error);
  }

  /** `streaming`, `closed` or `failed`. */
  get state(): StepState {
    return this.#state;
  }

  /** Items being processed now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Resolves when the set is closed (see {@link OutputSet.closed}). */
  get done(): Promise<CloseInfo> {
    return this.output.closed;
  }

  /**
   * Stops taking input, finishes the items in flight and closes the set (reason `stopped`);
   * resolves with how the set was closed (the first criterion met wins).
   */
  async stopStreaming(): Promise<CloseInfo> {
    this.#requestStop({ reason: 'stopped', message: 'stopped: stopStreaming() was called' });
    return this.output.closed;
  }

  /**
   * Stops at once: aborts the items in flight (their signal), stops the workers and gives the set
   * file up without closing the set (it stays open, as after a crash, and can be resumed).
   */
  async dispose(): Promise<void> {
    this.#dispose.abort(new DOMException(`step '${this.name}' disposed`, 'AbortError'));
    this.#requestStop({ reason: 'stopped', message: 'disposed' });
    await this.#pool?.close();
    this.#stopWatch.dispose();
    this.output.detachFile();
  }

  /** Counters and state. */
  summary(): StepSummary {
    const { state, ...set } = this.output.summary();
    return {
      ...set,
      setState: state,
      step: this.name,
      state: this.#state,
      inFlight: this.inFlight,
      skipped: this.#skipped,
      retries: this.#retries,
      rate: this.output.rate(),
    };
  }

  #start(): void {
    if (this.output.state === 'closed') {
      this.#state = this.output.closeInfo?.reason === 'failed' ? 'failed' : 'closed';
      this.log.info(`set '${this.name}' is already closed (${this.output.closeInfo?.message}): nothing to do`);
      return;
    }
    if (this.resumed > 0) this.log.info(`resuming set '${this.name}' with ${this.resumed} items`);
    void this.#run();
  }

  #requestStop(stop: { reason: CloseReason; message: string; error?: unknown }): void {
    if (this.#stop) return;
    this.#stop = stop;
    this.#inputAbort.abort();
    this.#wakeLoop?.();
  }

  /** Waits for `promise`, or until a stop is requested (then undefined). */
  async #unlessStopped<T>(promise: Promise<T>): Promise<T | undefined> {
    if (this.#stop) return undefined;
    return new Promise<T | undefined>((resolve, reject) => {
      this.#wakeLoop = () => resolve(undefined);
      promise.then(resolve, reject);
    }).finally(() => (this.#wakeLoop = undefined));
  }

  async #run(): Promise<void> {
    const { stop = {}, concurrency = 1 } = this.#options;
    const count = stop.count;
    this.#progress = progress(this.name, count ?? 0);
    if (this.resumed) this.#progress.tick(this.resumed);
    let taken = 0;
    const remaining = count === undefined ? Infinity : count - this.output.size;
    if (remaining <= 0) this.#requestStop({ reason: 'count', message: `count: ${count} items` });
    this.#stopWatch.start();
    const iterator = this.#input.items(this.#inputAbort.signal)[Symbol.asyncIterator]();
    try {
      while (!this.#stop) {
        while (this.#inFlight.size >= concurrency && !this.#stop)
          await this.#unlessStopped(Promise.race(this.#inFlight));
        if (this.#stop) break;
        const next = await this.#unlessStopped(iterator.next());
        if (next === undefined) break;
        if (next.done) {
          this.#requestStop({
            reason: this.#input.endReason,
            message:
              this.#input.endReason === 'input-closed'
                ? `input closed: ${this.#input.description} was closed`
                : `input ended: ${this.#input.description} has no more items`,
          });
          break;
        }
        this.#stopWatch.itemReceived();
        const item = next.value;
        if (this.output.accepted(item.key)) {
          this.#skipped++;
          continue;
        }
        const task = this.#process(item).finally(() => this.#inFlight.delete(task));
        this.#inFlight.add(task);
        if (++taken >= remaining) this.#requestStop({ reason: 'count', message: `count: ${count} items` });
      }
    } catch (error) {
      const upstream = this.#input.upstream;
      const message =
        upstream && error === upstream.failure
          ? `input set '${upstream.name}' failed: ${errorMessage(error)}`
          : `its input (${this.#input.description}) failed: ${errorMessage(error)}`;
      this.#requestStop({
        reason: 'failed',
        message,
        error: new StreamingError(`step '${this.name}': ${message}`, { cause: error }),
      });
    } finally {
      this.#inputAbort.abort();
      // Stop the input; don't hang on a producer that ignores its signal.
      const closing = iterator.return?.();
      if (closing)
        await Promise.race([closing.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    this.#finish();
  }

  #finish(): void {
    const stop = this.#stop!;
    this.#stopWatch.dispose();
    void this.#pool?.close();
    this.#pool = undefined;
    this.#progress?.done();
    if (this.#dispose.signal.aborted) return; // disposed: the set stays open
    let error = stop.error;
    let message = stop.message;
    try {
      // Commits the items handed over and not yet committed first.
      this.output.close({ reason: stop.reason, at: Date.now(), message }, stop.error);
    } catch (closeError) {
      // The set is closed as failed; its file stays open, as after a crash (a restart resumes it).
      if (error === undefined || (error as { cause?: unknown }).cause !== closeError) {
        message = error === undefined ? errorMessage(closeError) : `${message}; then ${errorMessage(closeError)}`;
        error ??= new StreamingError(`step '${this.name}': ${errorMessage(closeError)}`, { cause: closeError });
      }
    }
    this.#state = error === undefined ? 'closed' : 'failed';
    if (error === undefined) this.log.info(`set '${this.name}' closed: ${message}`);
    else this.log.error(`step '${this.name}' failed: ${message}`, error);
  }

  /** Runs one item (with retries), registers it, and waits while a chained step lags. */
  async #process(item: InputItem<I>): Promise<void> {
    const index = item.index ?? this.#nextIndex++;
    const startedAt = now();
    const { onError = 'record', retries = 0, retryDelayMs = 100 } = this.#options;
    let attempts = 0;
    let value: O | undefined;
    let failure: unknown;
    let ok = false;
    let input: I | undefined;
    try {
      input = await item.load();
    } catch (error) {
      failure = new StreamingError(`cannot get the input: ${errorMessage(error)}`, { cause: error });
    }
    if (failure === undefined)
      for (;;) {
        attempts++;
        try {
          value = await this.#call(input as I, { index, key: item.key, attempt: attempts });
          ok = true;
          break;
        } catch (error) {
          failure = error;
          if (attempts > retries || this.#dispose.signal.aborted) break;
          this.#retries++;
          const wait = Math.min(retryDelayMs * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS);
          this.log.warn(
            `item ${item.key} failed (attempt ${attempts}): ${errorMessage(error)}; retrying in ${wait} ms`,
          );
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    if (this.#dispose.signal.aborted) return;
    let record: { record: JsonValue; own: boolean } = { record: null, own: false };
    if (ok)
      try {
        record = this.#options.record ? { record: this.#options.record(value as O), own: false } : toRecord(value);
        JSON.stringify(record.record);
      } catch (error) {
        ok = false;
        failure = new StreamingError(
          `its result cannot be stored: ${errorMessage(error)}; give the step a record: (value) => JSON`,
          { cause: error },
        );
      }
    const error = ok ? undefined : failure instanceof Error ? failure.message : errorMessage(failure);
    let wait: Promise<void> | undefined;
    try {
      wait = this.output.register({
        inputIndex: index,
        inputKey: item.key,
        status: ok ? 'done' : 'failed',
        value: ok ? value : undefined,
        record: record.record,
        own: record.own,
        attempts: Math.max(attempts, 1),
        receivedAt: item.receivedAt,
        startedAt,
        ...(error === undefined ? {} : { error }),
      });
    } catch (registerError) {
      this.#commitFailed(registerError);
      return;
    }
    this.#progress?.tick();
    if (!ok) {
      const message = `item ${item.key} (input ${index}) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${error}`;
      if (onError === 'fail')
        this.#requestStop({
          reason: 'failed',
          message,
          error: new StreamingError(`step '${this.name}': ${message}`, { cause: failure }),
        });
      else this.log.warn(message);
    }
    if (wait) await wait;
  }

  /** Fails the step: an item could not be registered (a group of items could not be committed, …). */
  #commitFailed(error: unknown): void {
    this.#requestStop({
      reason: 'failed',
      message: errorMessage(error),
      error: new StreamingError(`step '${this.name}': ${errorMessage(error)}`, { cause: error }),
    });
  }

  /** Calls the step's function or worker on one input. */
  #call(input: I, context: Omit<ItemContext, 'signal'>): Promise<O> {
    if (this.#pool) return this.#pool.run(input, context) as Promise<O>;
    const signal = this.#dispose.signal;
    return Promise.resolve().then(() => this.#options.process!(input, { ...context, signal }));
  }

  /** Computes a released value again from the input (for a chained step that needs it). */
  async #recompute(item: OutputItem<O>): Promise<O> {
    let input: I;
    try {
      input = await this.#input.reload(item.inputKey);
    } catch (error) {
      throw new StreamingError(
        `set '${this.name}': the value of item ${item.index} is no longer in memory ` +
          `and its input cannot be read again: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const context = { index: item.inputIndex, key: item.inputKey, attempt: 1 };
    if (this.#options.process) return this.#options.process(input, { ...context, signal: this.#dispose.signal });
    if (this.#pool) return (await this.#pool.run(input, context)) as O;
    return (await (await this.#recoveryPool()).run(input, context)) as O;
  }

  /** One worker for values computed again after the step's own workers stopped; stopped when idle for 1 s. */
  #recoveryPool(): Promise<WorkerPool> {
    clearTimeout(this.#recovery?.timer);
    this.#recovery ??= {
      pool: WorkerPool.create(`step '${this.name}'`, workerUrl(this.#options.worker!), 1, this.#options.workerConfig),
      timer: undefined,
    };
    const recovery = this.#recovery;
    recovery.timer = setTimeout(() => {
      if (this.#recovery === recovery) this.#recovery = undefined;
      void recovery.pool.then((p) => p.close());
    }, 1000).unref();
    recovery.pool.catch(() => (this.#recovery = undefined));
    return recovery.pool;
  }
}

/** The file URL of a worker module given as a path (against the working directory) or a URL. */
function workerUrl(worker: string | URL): string {
  return worker instanceof URL ? worker.href : pathToFileURL(resolve(worker)).href;
}
