/**
 * A promise-based mutex for exclusive use of a device.
 * @module
 */

/** First come, first served lock. `acquire()` resolves to a release function. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #held = false;

  /** True while someone holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /** Waits for the lock; call the returned function (once) to release it. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => next);
    return previous.then(() => {
      this.#held = true;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        this.#held = false;
        release();
      };
    });
  }

  /** Resolves when everything queued before this call has run (failures ignored). */
  idle(): Promise<void> {
    return this.run(() => undefined).catch(() => undefined);
  }

  /** Runs `fn` while holding the lock. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
