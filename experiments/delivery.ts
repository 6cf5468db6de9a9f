/**
 * Per-consumer delivery of frames: a bounded FIFO for lossless consumers (the producer waits when
 * it is full) and a one-frame slot for latest-wins consumers (never waits; counts drops).
 * @module
 * @internal
 */

/** What a consumer's frame source is ended with. */
type Ending = { kind: 'end' } | { kind: 'error'; error: unknown };

/** The queue between the broadcaster and one consumer. */
export abstract class Delivery<T> implements AsyncIterable<T> {
  /** Frames handed to the consumer. */
  delivered = 0;
  /** Frames dropped (latest-wins only). */
  dropped = 0;
  protected ending: Ending | undefined;
  #take: ((r: IteratorResult<T>) => void) | undefined;
  #fail: ((e: unknown) => void) | undefined;

  /** Offers a frame; resolves when the producer may go on (immediately unless a lossless queue is full). */
  abstract offer(item: T): Promise<void> | undefined;
  protected abstract next(): T | undefined;
  protected abstract get size(): number;

  /** True once `end()` or `fail()` was called. */
  get closed(): boolean {
    return this.ending !== undefined;
  }

  /** Ends the stream after the queued frames. */
  end(): void {
    if (!this.ending) this.ending = { kind: 'end' };
    this.wake();
  }

  /** Ends the stream now with `error` (queued frames are discarded). */
  fail(error: unknown): void {
    if (!this.ending || this.ending.kind === 'end') this.ending = { kind: 'error', error };
    this.clear();
    this.wake();
  }

  protected abstract clear(): void;
  /** Called when a queued frame was taken (lossless: frees a place). */
  protected taken(): void {}

  /** Hands a waiting consumer the next frame or the ending. */
  protected wake(): void {
    const take = this.#take;
    if (!take) return;
    if (this.size > 0) {
      this.#take = this.#fail = undefined;
      const item = this.next()!;
      this.delivered++;
      this.taken();
      take({ value: item, done: false });
    } else if (this.ending) {
      const fail = this.#fail!;
      this.#take = this.#fail = undefined;
      if (this.ending.kind === 'end') take({ value: undefined, done: true });
      else fail(this.ending.error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.ending?.kind === 'error') return Promise.reject(this.ending.error);
        if (this.size > 0) {
          const item = this.next()!;
          this.delivered++;
          this.taken();
          return Promise.resolve({ value: item, done: false });
        }
        if (this.ending) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.#take = resolve;
          this.#fail = reject;
        });
      },
      return: () => {
        // The consumer stopped reading early: stop waiting producers.
        this.end();
        this.clear();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Lossless: a bounded FIFO; `offer` waits while it is full. */
export class LosslessDelivery<T> extends Delivery<T> {
  readonly #items: T[] = [];
  #head = 0;
  #space: (() => void) | undefined;

  constructor(readonly capacity: number) {
    super();
  }

  protected get size(): number {
    return this.#items.length - this.#head;
  }

  offer(item: T): Promise<void> | undefined {
    if (this.closed) return undefined;
    this.#items.push(item);
    this.wake();
    if (this.size < this.capacity) return undefined;
    return new Promise<void>((resolve) => (this.#space = resolve));
  }

  protected next(): T | undefined {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  protected override taken(): void {
    if (this.size < this.capacity) this.#release();
  }

  protected clear(): void {
    this.#items.length = 0;
    this.#head = 0;
    this.#release();
  }

  #release(): void {
    const space = this.#space;
    this.#space = undefined;
    space?.();
  }
}

/** Latest-wins: keeps only the newest frame; `offer` never waits. */
export class LatestDelivery<T> extends Delivery<T> {
  #slot: T | undefined;
  #full = false;

  protected get size(): number {
    return this.#full ? 1 : 0;
  }

  offer(item: T): undefined {
    if (this.closed) return undefined;
    if (this.#full) this.dropped++;
    this.#slot = item;
    this.#full = true;
    this.wake();
    return undefined;
  }

  protected next(): T | undefined {
    const item = this.#slot;
    this.#slot = undefined;
    this.#full = false;
    return item;
  }

  protected clear(): void {
    this.#slot = undefined;
    this.#full = false;
  }
}
