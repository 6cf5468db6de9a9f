/**
 * Output sets: the results of a streaming step, registered as they complete. A set is `open`
 * while items may still come and `closed` once a stop criterion closed it; chained steps read it
 * while it grows.
 * @module
 */
import { inspect } from 'node:util';
import type { Observable, Subscriber } from 'rxjs';
import { rxjs } from '../core/rx.js';
import { errorMessage } from '../core/errors.js';
import { StreamingError } from './errors.js';
import { followSetFile } from './follow.js';
import { setInput, type StepInput, type StepSource } from './input.js';
import { now, type CloseInfo, type JsonValue, type OutputItem, type SetState } from './item.js';
import { SetFile, type StoredItem } from './set-file.js';

/** An item as the set holds it: the public item plus whether its record is its value. */
interface Entry<T> {
  item: { -readonly [K in keyof OutputItem<T>]: OutputItem<T>[K] };
  own: boolean;
}

/** What a step hands the set for one completed item (the set gives it its index). */
export interface CompletedItem<T> {
  readonly inputIndex: number;
  readonly inputKey: string;
  readonly status: 'done' | 'failed';
  readonly value: T | undefined;
  readonly record: JsonValue;
  /** True if `record` is the value itself (restored from the file on reopen). */
  readonly own: boolean;
  readonly error?: string;
  readonly attempts: number;
  readonly receivedAt: number;
  readonly startedAt: number;
}

/** @internal How the set was made: by a step (in memory or with a file it writes), or opened from a file. */
export interface OutputSetInit {
  readonly name: string;
  readonly file?: SetFile;
  /** Values kept in memory after every chained step took them (default 16). */
  readonly keepValues?: number;
  /** Items a chained step may lag before {@link OutputSet.register} makes the producing step wait (default 32). */
  readonly highWaterMark?: number;
  /** Bounds of a group of items committed in one transaction (with a file). */
  readonly group?: Partial<GroupLimits>;
}

/**
 * When a group of items handed to a set with a file is committed: as soon as the event loop is
 * free (an I/O-bound step commits each turn), and at once when the group holds `maxItems` or
 * waiting for one more item like the last would make its oldest item wait more than `maxAgeMs`.
 */
export interface GroupLimits {
  /** Items in a group at most (default 64). */
  readonly maxItems: number;
  /** Longest an item waits for its group's commit, if the step's own work lets it (default 10 ms). */
  readonly maxAgeMs: number;
}

const GROUP_LIMITS: GroupLimits = { maxItems: 64, maxAgeMs: 10 };

/** Counts and state of a set, for summaries and `concert set info`. */
export interface SetSummary {
  name: string;
  state: SetState;
  items: number;
  failed: number;
  file: string | undefined;
  close: CloseInfo | undefined;
}

/**
 * The results of a streaming step in completion order. Each item keeps its input index, its
 * input key and its timestamps (see {@link OutputItem}).
 *
 * Values stay in memory while a chained step still needs them, plus the newest `keepValues`;
 * plain JSON values (numbers, strings, plain objects) always stay, as they are their own record.
 * With a file, every item is committed to SQLite before it is registered: the items a step hands
 * over are committed in groups, one transaction each (as soon as the event loop is free, or once
 * 64 items or 10 ms have piled up), and each group is registered once it is committed.
 *
 * @example
 * ```ts
 * const flat = await StreamingStep.create({ name: 'flat', input: read.output, worker: './flat.ts' });
 * flat.output.items$.subscribe((item) => console.log(item.index, item.inputKey, item.status));
 * const info = await flat.output.closed; // { reason: 'input-closed', … }
 * flat.output.size;                      // items registered
 * ```
 */
export class OutputSet<T = unknown> implements AsyncIterable<OutputItem<T>>, StepSource<T> {
  readonly name: string;
  /** The SQLite file the set is persisted in, if any. */
  readonly file: string | undefined;
  readonly #file: SetFile | undefined;
  readonly #entries: Entry<T>[] = [];
  readonly #keys = new Set<string>();
  readonly #keepValues: number;
  readonly #highWaterMark: number;
  #failed = 0;
  #state: SetState = 'open';
  #close: CloseInfo | undefined;
  #failure: unknown;
  readonly #closed: Promise<CloseInfo>;
  #settle!: { resolve(info: CloseInfo): void; reject(error: unknown): void };
  readonly #readers = new Set<SetReader<T>>();
  readonly #itemSubscribers = new Set<Subscriber<OutputItem<T>>>();
  readonly #stateSubscribers = new Set<Subscriber<SetState>>();
  #space: (() => void)[] = [];
  #releasedUpTo = 0;
  #follow: AbortController | undefined;
  readonly #group: GroupLimits;
  /** Items handed over and not yet committed (with a file), in index order. */
  #pending: Entry<T>[] = [];
  readonly #pendingKeys = new Set<string>();
  #commitSoon: NodeJS.Immediate | undefined;
  /** Why a group could not be committed: the set takes no more items. */
  #commitError: StreamingError | undefined;
  /**
   * @internal Told when a group handed over by {@link register} could not be committed later, in
   * the background (installed by the step that writes the set: it fails the step).
   */
  onCommitError: ((error: StreamingError) => void) | undefined;
  /** @internal The STOP file of the step that writes the set (a chained step sharing it closes in cascade). */
  stopFile: string | undefined;
  /** @internal Computes a released value again (installed by the step that writes the set). */
  recover: ((item: OutputItem<T>) => Promise<T>) | undefined;

  /** @internal Sets are made by steps ({@link StreamingStep}) or opened with {@link OutputSet.open}. */
  constructor(init: OutputSetInit) {
    this.name = init.name;
    this.#file = init.file;
    this.file = init.file?.path;
    this.#keepValues = init.keepValues ?? 16;
    this.#highWaterMark = init.highWaterMark ?? 32;
    this.#group = { ...GROUP_LIMITS, ...init.group };
    this.#closed = new Promise<CloseInfo>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#closed.catch(() => undefined); // a failure nobody awaits is not an unhandled rejection
    if (init.file) this.#load(init.file);
  }

  /**
   * Opens a set file another process (or an earlier run) wrote: its items with their records
   * (values for plain JSON results), and, while the set is open, the items still to come, until
   * it closes.
   * @throws StreamingError if the file is missing or not a set file.
   */
  static async open<T = unknown>(path: string, options: { follow?: boolean } = {}): Promise<OutputSet<T>> {
    const file = SetFile.openForReading(path);
    const set = new OutputSet<T>({ name: file.meta().name, file });
    if (set.#state === 'open' && options.follow !== false) set.#startFollowing(file);
    else file.close();
    return set;
  }

  #load(file: SetFile): void {
    const meta = file.meta();
    for (const stored of file.items()) this.#append(stored);
    this.#releasedUpTo = this.#entries.length;
    if (meta.state === 'closed') this.#finish(meta.close!, undefined);
  }

  #append(stored: StoredItem): Entry<T> {
    const { valueIsRecord, ...rest } = stored;
    const entry: Entry<T> = {
      item: { ...rest, value: valueIsRecord ? (stored.record as T) : undefined },
      own: valueIsRecord,
    };
    this.#entries.push(entry);
    this.#keys.add(stored.inputKey);
    if (stored.status === 'failed') this.#failed++;
    return entry;
  }

  #startFollowing(file: SetFile): void {
    const controller = (this.#follow = new AbortController());
    void (async () => {
      try {
        for await (const update of followSetFile(file, { from: this.#entries.length, signal: controller.signal })) {
          for (const stored of update.items) this.#announce(this.#append(stored).item);
          if (update.meta.state === 'closed') this.#finish(update.meta.close!, undefined);
        }
      } catch (error) {
        this.#finish(
          { reason: 'failed', at: Date.now(), message: `cannot read ${file.path}: ${errorMessage(error)}` },
          new StreamingError(`set '${this.name}': cannot read ${file.path}: ${errorMessage(error)}`, { cause: error }),
        );
      } finally {
        file.close();
      }
    })();
  }

  /** `open` or `closed`. */
  get state(): SetState {
    return this.#state;
  }

  /** How and when the set was closed (undefined while open). */
  get closeInfo(): CloseInfo | undefined {
    return this.#close;
  }

  /**
   * Resolves with how the set was closed once it is; rejects with the step's error if the step
   * failed (a failing item with `onError: 'fail'`, a failed input).
   */
  get closed(): Promise<CloseInfo> {
    return this.#closed;
  }

  /** Items registered (done and failed). */
  get size(): number {
    return this.#entries.length;
  }

  /** Items that failed. */
  get failed(): number {
    return this.#failed;
  }

  /** Every item in completion order. */
  get items(): readonly OutputItem<T>[] {
    return this.#entries.map((e) => e.item);
  }

  /** The item at `index` (completion order). */
  get(index: number): OutputItem<T> | undefined {
    return this.#entries[index]?.item;
  }

  /** True if an item of input key `key` is in the set. */
  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** @internal True if an item of input key `key` is in the set or handed over to be committed. */
  accepted(key: string): boolean {
    return this.#keys.has(key) || this.#pendingKeys.has(key);
  }

  /** Items per second over the last `windowMs` (default 10 s) before the newest item. */
  rate(windowMs = 10_000): number {
    return rateOf(
      this.#entries.map((e) => e.item.finishedAt),
      windowMs,
    );
  }

  /** Counts and state in one object. */
  summary(): SetSummary {
    return {
      name: this.name,
      state: this.#state,
      items: this.size,
      failed: this.#failed,
      file: this.file,
      close: this.#close,
    };
  }

  /**
   * The value of a done item; a released value is computed again by the set's step (from its
   * input, e.g. by reading the file again).
   * @throws StreamingError for a failed item, or a value that cannot be computed again.
   */
  async valueOf(item: OutputItem<T> | number): Promise<T> {
    const entry = this.#entries[typeof item === 'number' ? item : item.index];
    if (!entry)
      throw new StreamingError(
        `set '${this.name}' has no item ${String(typeof item === 'number' ? item : item.index)}`,
      );
    const it = entry.item;
    if (it.status === 'failed')
      throw new StreamingError(`set '${this.name}': item ${it.index} (input ${it.inputKey}) failed: ${it.error}`);
    if (entry.own || it.value !== undefined || it.index >= this.#releasedUpTo) return it.value as T;
    if (!this.recover)
      throw new StreamingError(
        `set '${this.name}': the value of item ${it.index} (input ${it.inputKey}) is not in memory ` +
          'and no step can compute it again (only its record is stored)',
      );
    return this.recover(it);
  }

  /** A stream of the items registered from now on; completes when the set closes. */
  get items$(): Observable<OutputItem<T>> {
    return new (rxjs().Observable<OutputItem<T>>)((subscriber) => {
      if (this.#state === 'closed') return subscriber.complete();
      this.#itemSubscribers.add(subscriber);
      return () => this.#itemSubscribers.delete(subscriber);
    });
  }

  /** The state now and each change (`open`, then `closed`); completes when the set closes. */
  get state$(): Observable<SetState> {
    return new (rxjs().Observable<SetState>)((subscriber) => {
      subscriber.next(this.#state);
      if (this.#state === 'closed') return subscriber.complete();
      this.#stateSubscribers.add(subscriber);
      return () => this.#stateSubscribers.delete(subscriber);
    });
  }

  /** Every item from the first, then each new one, until the set closes (the values may be released: see {@link valueOf}). */
  [Symbol.asyncIterator](): AsyncIterator<OutputItem<T>> {
    return this.reader({ hold: false });
  }

  /**
   * @internal A cursor over the items from `from` on. A holding reader (a chained step) keeps
   * the values it has not taken in memory and makes the producing step wait when it lags by more
   * than the high-water mark.
   */
  reader(options: { from?: number; hold?: boolean } = {}): SetReader<T> {
    const reader = new SetReader(this, options.from ?? 0, options.hold ?? true);
    this.#readers.add(reader);
    return reader;
  }

  /** @internal The set as the input of a chained step. */
  toStepInput(): StepInput<T> {
    return setInput(this);
  }

  /** @internal The item at `index`, if registered. */
  entryAt(index: number): OutputItem<T> | undefined {
    return this.#entries[index]?.item;
  }

  /** @internal Called by readers when they advance or stop. */
  readerMoved(reader: SetReader<T>, stopped: boolean): void {
    if (stopped) this.#readers.delete(reader);
    this.#release();
    if (this.#space.length > 0 && this.#lag() <= this.#highWaterMark) {
      const waiting = this.#space;
      this.#space = [];
      for (const resolve of waiting) resolve();
    }
  }

  /** @internal The failure the set was closed with, for readers. */
  get failure(): unknown {
    return this.#failure;
  }

  /** How far the slowest holding reader is behind the newest item. */
  #lag(): number {
    let slowest = this.#entries.length;
    for (const r of this.#readers) if (r.hold && r.position < slowest) slowest = r.position;
    return this.#entries.length - slowest;
  }

  /** Releases the values no holding reader needs, beyond the newest `keepValues`. */
  #release(): void {
    let limit = this.#entries.length - this.#keepValues;
    for (const r of this.#readers) if (r.hold && r.position < limit) limit = r.position;
    for (let i = this.#releasedUpTo; i < limit; i++) {
      const entry = this.#entries[i]!;
      if (!entry.own) entry.item.value = undefined;
    }
    if (limit > this.#releasedUpTo) this.#releasedUpTo = limit;
  }

  /**
   * @internal Registers a completed item; with a file, hands it over to be committed first (in a
   * group, see {@link GroupLimits}): it is registered, with the rest of its group, once committed.
   * Returns a promise while a chained step lags by more than the high-water mark (the producing
   * step should wait for it), undefined otherwise.
   * @throws StreamingError if the set is closed, the key is already in it, or a commit failed.
   */
  register(completed: CompletedItem<T>): Promise<void> | undefined {
    if (this.#state === 'closed')
      throw new StreamingError(
        `set '${this.name}' is closed; item ${JSON.stringify(completed.inputKey)} came too late`,
      );
    if (this.#commitError) throw this.#commitError;
    if (this.accepted(completed.inputKey))
      throw new StreamingError(`set '${this.name}' already has an item of input ${JSON.stringify(completed.inputKey)}`);
    const { own, ...rest } = completed;
    const item: Entry<T>['item'] = { index: this.#entries.length + this.#pending.length, ...rest, finishedAt: now() };
    if (item.error === undefined) delete item.error;
    if (this.#file) {
      this.#pending.push({ item, own });
      this.#pendingKeys.add(item.inputKey);
      const oldest = this.#pending[0]!.item.finishedAt;
      const { maxItems, maxAgeMs } = this.#group;
      if (this.#pending.length >= maxItems || item.finishedAt - oldest + (item.finishedAt - item.startedAt) >= maxAgeMs)
        this.flush();
      else this.#commitSoon ??= setImmediate(() => this.#commitInBackground());
    } else this.#add({ item, own });
    if (this.#lag() <= this.#highWaterMark) return undefined;
    return new Promise<void>((resolve) => this.#space.push(resolve));
  }

  /**
   * @internal Commits the items handed over and not yet committed, in one transaction, then
   * registers them. A no-op if there are none.
   * @throws StreamingError if they cannot be committed (none of them is registered then, and the
   *   set takes no more items).
   */
  flush(): void {
    if (this.#commitSoon) clearImmediate(this.#commitSoon);
    this.#commitSoon = undefined;
    if (this.#commitError) throw this.#commitError;
    if (this.#pending.length === 0) return;
    const group = this.#pending;
    this.#pending = [];
    this.#pendingKeys.clear();
    try {
      this.#file!.append(group.map((e) => ({ item: e.item, valueIsRecord: e.own })));
    } catch (error) {
      this.#commitError =
        error instanceof StreamingError
          ? error
          : new StreamingError(`set '${this.name}': ${errorMessage(error)}`, { cause: error });
      throw this.#commitError;
    }
    for (const entry of group) this.#add(entry);
  }

  #commitInBackground(): void {
    this.#commitSoon = undefined;
    try {
      this.flush();
    } catch {
      this.onCommitError?.(this.#commitError!);
    }
  }

  /** Registers a (committed) item: in the set, then readers and subscribers are told. */
  #add(entry: Entry<T>): void {
    const { item } = entry;
    this.#entries.push(entry);
    this.#keys.add(item.inputKey);
    if (item.status === 'failed') this.#failed++;
    this.#announce(item);
    this.#release();
  }

  #announce(item: OutputItem<T>): void {
    for (const r of this.#readers) r.wake();
    for (const s of this.#itemSubscribers) s.next(item);
  }

  /**
   * @internal Closes the set: commits the items handed over, then the state, and gives the file
   * up. A second close is a no-op. If the file cannot be written (or a group could not be
   * committed before), the set closes as failed, with that error, and it is thrown; the file then
   * stays open, as after a crash.
   */
  close(info: CloseInfo, failure?: unknown): void {
    if (this.#state === 'closed') return;
    let error: StreamingError | undefined;
    if (this.#file) {
      try {
        this.flush();
        this.#file.markClosed(info);
      } catch (e) {
        error =
          e instanceof StreamingError
            ? e
            : new StreamingError(`set '${this.name}': cannot mark ${this.file} closed: ${errorMessage(e)}`, {
                cause: e,
              });
      } finally {
        this.#file.close();
      }
    }
    if (error === undefined) return this.#finish(info, failure);
    // A step failing because of this very error already says so.
    const told = failure !== undefined && (failure === error || (failure as { cause?: unknown }).cause === error);
    const message = failure === undefined || told ? error.message : `${info.message}; then ${error.message}`;
    this.#finish({ reason: 'failed', at: info.at, message }, failure ?? error);
    throw error;
  }

  #finish(info: CloseInfo, failure: unknown): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#close = info;
    this.#failure = failure;
    this.#follow?.abort();
    if (failure === undefined) this.#settle.resolve(info);
    else this.#settle.reject(failure);
    for (const resolve of this.#space) resolve();
    this.#space = [];
    for (const r of this.#readers) r.wake();
    for (const s of this.#itemSubscribers) s.complete();
    this.#itemSubscribers.clear();
    for (const s of this.#stateSubscribers) {
      s.next('closed');
      s.complete();
    }
    this.#stateSubscribers.clear();
  }

  /**
   * @internal Gives the file up without closing the set (the step stopped because its process is
   * ending), after committing the items handed over.
   * @throws StreamingError if they cannot be committed (the file is given up all the same).
   */
  detachFile(): void {
    try {
      if (this.#file && this.#pending.length > 0) this.flush();
    } finally {
      this.#file?.close();
      this.#follow?.abort();
    }
  }

  [inspect.custom](): string {
    const failed = this.#failed ? `, ${this.#failed} failed` : '';
    const closed = this.#close ? ` (${this.#close.reason})` : '';
    return `OutputSet '${this.name}' ${this.#state}${closed}: ${this.size} items${failed}${this.file ? ` in ${this.file}` : ''}`;
  }
}

/**
 * A cursor over a set: yields items (copies, with the value they had when taken) in index
 * order as they land and ends after the last one once the set is closed (rejecting with the
 * set's failure if it failed).
 * @internal
 */
export class SetReader<T> implements AsyncIterableIterator<OutputItem<T>> {
  #wake: (() => void) | undefined;
  #stopped = false;

  constructor(
    readonly set: OutputSet<T>,
    public position: number,
    readonly hold: boolean,
  ) {}

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async next(): Promise<IteratorResult<OutputItem<T>>> {
    for (;;) {
      if (this.#stopped) return { value: undefined, done: true };
      const item = this.set.entryAt(this.position);
      if (item) {
        // A copy taken before moving on: moving on may release the set's value of the item.
        const taken = { ...item };
        this.position++;
        this.set.readerMoved(this, false);
        return { value: taken, done: false };
      }
      if (this.set.state === 'closed') {
        this.#stop();
        if (this.set.failure !== undefined) throw this.set.failure;
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<OutputItem<T>>> {
    this.#stop();
    return { value: undefined, done: true };
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.set.readerMoved(this, true);
    this.wake();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Items per second over the `windowMs` before the newest of `times` (ms since the epoch, ascending). */
export function rateOf(times: readonly number[], windowMs: number): number {
  const n = times.length;
  if (n < 2) return 0;
  const last = times[n - 1]!;
  let i = n - 1;
  while (i > 0 && times[i - 1]! >= last - windowMs) i--;
  const span = last - times[i]!;
  return span > 0 ? ((n - 1 - i) / span) * 1000 : 0;
}
