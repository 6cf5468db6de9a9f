/**
 * Frame slots in one shared `WebAssembly.Memory` between the main thread and the mapping thread:
 * a slot holds a frame's pixels (copied in once by the main thread) and its 8-bit image (mapped
 * in place by the thread, followed by a constant tail such as yuv420p's chroma planes, written
 * once per slot), so no buffer is posted, transferred or allocated per frame. A slot is taken per
 * frame and given back once the image is in ffmpeg's pipe.
 * @module
 * @internal
 */

/** Where one slot's pixels and image are in the memory (byte offsets). */
export interface GreySlot {
  readonly input: number;
  readonly inputBytes: number;
  readonly output: number;
  readonly outputBytes: number;
  /** The tail last written after the image (its bytes stay: the thread writes only the image). */
  tail?: Uint8Array;
  /** Times the slot was taken. */
  taken: number;
}

/** Memory the slots may take (the memory's maximum; a frame that does not fit is posted instead). */
const MAX_PAGES = 8192; // 512 MiB
const PAGE = 65536;
/** Slots per memory (several movies at once; each has at most its feed's depth in use). */
const MAX_SLOTS = 12;
const ALIGN = 64;

/** The slots of one memory; they are never freed, the memory is dropped as a whole. */
export class GreySlots {
  readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  readonly #free: GreySlot[] = [];
  readonly #used = new Set<GreySlot>();
  #top = 0;

  /** Slots taken and not given back. */
  get inUse(): number {
    return this.#used.size;
  }

  /** A free slot for `inputBytes` of pixels and an image of `outputBytes`, or undefined if none fits. */
  take(inputBytes: number, outputBytes: number): GreySlot | undefined {
    const i = this.#free.findIndex((s) => s.inputBytes === inputBytes && s.outputBytes === outputBytes);
    let slot = i >= 0 ? this.#free.splice(i, 1)[0] : undefined;
    if (!slot) {
      if (this.#free.length + this.#used.size >= MAX_SLOTS) return undefined;
      const input = this.#top;
      const output = align(input + inputBytes);
      const top = align(output + outputBytes);
      if (top > MAX_PAGES * PAGE) return undefined;
      const pages = Math.ceil(top / PAGE) - this.memory.buffer.byteLength / PAGE;
      if (pages > 0) this.memory.grow(pages);
      this.#top = top;
      slot = { input, inputBytes, output, outputBytes, taken: 0 };
    }
    this.#used.add(slot);
    slot.taken++;
    return slot;
  }

  /** Gives `slot` back (its image is no longer read). */
  give(slot: GreySlot): void {
    if (this.#used.delete(slot)) this.#free.push(slot);
  }

  /** The slot's pixel bytes. */
  input(slot: GreySlot): Uint8Array {
    return new Uint8Array(this.memory.buffer, slot.input, slot.inputBytes);
  }

  /** The slot's image and tail. */
  output(slot: GreySlot): Uint8Array {
    return new Uint8Array(this.memory.buffer, slot.output, slot.outputBytes);
  }
}

/**
 * Makes sure this thread's view of the shared `memory` reaches byte `end`. The main thread grows
 * the memory for new slots, and a thread that received the memory while it grew can keep a
 * shorter view (seen under load: a slot past the view's end); growing by 0 pages refreshes it.
 * @throws Error if the memory itself is shorter.
 */
export function reachView(memory: WebAssembly.Memory, end: number): void {
  if (memory.buffer.byteLength < end) memory.grow(0);
  if (memory.buffer.byteLength < end)
    throw new Error(`the slot memory has ${memory.buffer.byteLength} bytes, short of the slot's end at ${end}`);
}

function align(offset: number): number {
  return Math.ceil(offset / ALIGN) * ALIGN;
}
