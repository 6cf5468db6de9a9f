/**
 * A flag others can wait for, like Python's `asyncio.Event` (e.g. `readyToPrepareNextSample`).
 * @module
 */
/** Set or clear; `wait()` resolves when set. */
export class Flag {
  #set: boolean;
  #waiters: Array<() => void> = [];

  constructor(initially = false) {
    this.#set = initially;
  }

  get isSet(): boolean {
    return this.#set;
  }

  set(): void {
    this.#set = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  clear(): void {
    this.#set = false;
  }

  /** Resolves when the flag is set (at once if it is). Rejects when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    if (this.#set) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(signal!.reason);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
