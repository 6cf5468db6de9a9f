/**
 * A gate that producers pass between frames: closed while an experiment is paused.
 * @module
 */

/** Open by default; `close()` pauses everyone who calls `pass()` until `open()`. */
export class Gate {
  #waiting: Promise<void> | undefined;
  #open: (() => void) | undefined;

  get isOpen(): boolean {
    return this.#waiting === undefined;
  }

  close(): void {
    if (this.#waiting) return;
    this.#waiting = new Promise((resolve) => (this.#open = resolve));
  }

  open(): void {
    const open = this.#open;
    this.#waiting = this.#open = undefined;
    open?.();
  }

  /** Resolves at once when open; otherwise when opened, or rejects when `signal` aborts. */
  pass(signal?: AbortSignal): Promise<void> | undefined {
    const waiting = this.#waiting;
    if (!waiting) return undefined;
    if (!signal) return waiting;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      waiting.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
