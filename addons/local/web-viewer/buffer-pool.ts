/**
 * Free buffers kept for reuse by byte length: the session thread's shared frame buffers and the
 * server thread's display images each take a buffer of the length they need from here, and give
 * it back once nothing reads it.
 * @module
 * @internal
 */

/** Buffers kept per byte length (at most `perLength`), for at most `lengths` lengths at once. */
export class BufferPool<B extends { readonly byteLength: number }> {
  readonly #free = new Map<number, B[]>();
  readonly #perLength: number;
  readonly #lengths: number;

  /** `lengths`: past it, a new length drops every buffer kept (the frame sizes changed). */
  constructor(perLength: number, lengths = Infinity) {
    this.#perLength = perLength;
    this.#lengths = lengths;
  }

  /** A kept buffer of `byteLength` bytes, or undefined if there is none. */
  take(byteLength: number): B | undefined {
    return this.#free.get(byteLength)?.pop();
  }

  /** Keeps `buffer` for a later {@link take} (unless as many of its length are kept already). */
  give(buffer: B): void {
    let free = this.#free.get(buffer.byteLength);
    if (!free) {
      if (this.#free.size >= this.#lengths) this.#free.clear();
      this.#free.set(buffer.byteLength, (free = []));
    }
    if (free.length < this.#perLength) free.push(buffer);
  }
}
