/**
 * The contrast mapping off the main thread: one worker thread, shared by every movie and export
 * of the process, maps large frames to grey while the main thread runs the acquisition (a camera
 * at kHz rates, other consumers) and feeds ffmpeg. Each frame's pixels are copied once into a
 * buffer that is transferred (the frame itself may still be in use elsewhere) and come back for
 * reuse with the image.
 *
 * The thread starts on first use; until it is ready, and if it ever fails, frames are mapped on
 * the main thread instead (in slices), so a movie never waits for it.
 * @module
 * @internal
 */
import type { Worker } from 'node:worker_threads';
import type { DType, Frame } from '../core/index.js';
import { startModuleWorker } from '../core/worker.js';
import type { GreyRange } from './grey-kernel.js';
import { GreySlots, type GreySlot } from './grey-slots.js';

/** What the main thread sends: the pixels (transferred), and the window or the per-frame percentiles. */
export interface GreyJob {
  id: number;
  pixels: ArrayBuffer;
  dtype: DType;
  width: number;
  height: number;
  window?: readonly [number, number];
  low?: number;
  high?: number;
  /** Overlay text to burn in ('' for none). */
  text: string;
  range: GreyRange;
  /** A spare image buffer to map into (one byte per pixel), else the thread makes one. */
  image?: ArrayBuffer;
}

/** A frame mapped in a slot of the shared memory (see `grey-slots.ts`): nothing is transferred. */
export interface GreySlotJob extends Omit<GreyJob, 'pixels' | 'image'> {
  slot: { input: number; output: number };
}

/** What the main thread sends: a job, or the shared memory of the slots that follow. */
export type GreyMessage = GreyJob | GreySlotJob | { memory: WebAssembly.Memory | undefined };

/** What the thread sends back: the image, or why not; the pixel buffer unless the job was in a slot. */
export type GreyReply =
  { id: number; image?: Uint8Array; pixels?: ArrayBuffer } | { id: number; error: string; pixels?: ArrayBuffer };

/** Pixel buffers kept for reuse (a few frames' worth)… */
const SPARE_BUFFERS = 3;
/** …and for this long once no frame is being mapped. */
const SPARE_KEEP_MS = 1000;

/** The mapping thread of the process. */
export class MappingThread {
  static #shared: MappingThread | undefined;
  readonly #worker: Worker;
  readonly #jobs = new Map<number, { resolve(image?: Uint8Array): void; reject(error: Error): void }>();
  /** The slots (created on first use, dropped when idle) and the images in them. */
  #slots: GreySlots | undefined;
  readonly #slotOf = new Map<Uint8Array, GreySlot>();
  readonly #spare: ArrayBuffer[] = [];
  /** Image buffers given back ({@link recycle}) for the thread to map into again. */
  readonly #spareImages: ArrayBuffer[] = [];
  #nextId = 0;
  #mapped = 0;
  #reused = 0;
  #inSlots = 0;
  #ready = false;
  #broken = false;

  private constructor() {
    this.#worker = startModuleWorker(import.meta.url, 'grey-worker');
    this.#worker.unref();
    this.#worker.on('message', (message: GreyReply | { ready: true }) => {
      if ('ready' in message) {
        this.#ready = true;
        return;
      }
      this.#settle(message);
    });
    this.#worker.on('error', (error) => this.#break(error));
    this.#worker.on('exit', (code) => this.#break(new Error(`the mapping thread exited with code ${code}`)));
  }

  /** The process's mapping thread (started on first call; a failed one is replaced). */
  static shared(): MappingThread {
    if (!this.#shared || this.#shared.#broken) this.#shared = new MappingThread();
    return this.#shared;
  }

  /** True once the thread runs (map on the main thread until then). */
  get ready(): boolean {
    return this.#ready && !this.#broken;
  }

  /** Frames mapped into an image (or a slot) given back by {@link recycle}, so far. */
  get reused(): number {
    return this.#reused;
  }

  /** Frames mapped in a slot of the shared memory, so far. */
  get inSlots(): number {
    return this.#inSlots;
  }

  /** Frames mapped on this thread so far. */
  get mapped(): number {
    return this.#mapped;
  }

  /**
   * Maps `frame` under `window` (or the percentiles `low`/`high` of the frame itself) into
   * `range` and burns in `text`. With `slot`, the frame is mapped in a slot of the shared memory
   * when one is free: the image (followed by `tail`) is a view of it, valid until {@link recycle}
   * gives it back, which the caller must do.
   * @throws Error if the thread fails meanwhile (map the frame on the main thread then).
   */
  map(
    frame: Frame,
    how: { window: readonly [number, number] } | { low: number; high: number },
    text: string,
    range: GreyRange = 'full',
    options: { slot?: boolean; tail?: Uint8Array } = {},
  ): Promise<Uint8Array> {
    const { data } = frame;
    if (options.slot) {
      const mapped = this.#mapInSlot(frame, how, text, range, options.tail);
      if (mapped) return mapped;
    }
    const pixels = this.#buffer(data.byteLength);
    new Uint8Array(pixels).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const [height, width] = frame.shape;
    const id = this.#nextId++;
    const job: GreyJob = { id, pixels, dtype: frame.dtype, width, height, text, range, ...how };
    const i = this.#spareImages.findIndex((b) => b.byteLength === data.length);
    const transfer = [pixels];
    if (i >= 0) {
      transfer.push((job.image = this.#spareImages.splice(i, 1)[0]!));
      this.#reused++;
    }
    return this.#post(id, job, transfer) as Promise<Uint8Array>;
  }

  #post(id: number, job: GreyMessage, transfer: ArrayBuffer[] = []): Promise<Uint8Array | undefined> {
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      if (this.#jobs.size === 0) this.#worker.ref();
      this.#jobs.set(id, { resolve, reject });
      this.#worker.postMessage(job, transfer);
    });
  }

  /** Maps `frame` in a free slot (undefined if none fits): its pixels are copied in once. */
  #mapInSlot(
    frame: Frame,
    how: { window: readonly [number, number] } | { low: number; high: number },
    text: string,
    range: GreyRange,
    tail: Uint8Array | undefined,
  ): Promise<Uint8Array> | undefined {
    const { data } = frame;
    if (!this.#slots) {
      this.#slots = new GreySlots();
      this.#worker.postMessage({ memory: this.#slots.memory } satisfies GreyMessage);
    }
    const slots = this.#slots;
    const slot = slots.take(data.byteLength, data.length + (tail?.length ?? 0));
    if (!slot) return undefined;
    if (slot.taken > 1) this.#reused++;
    slots.input(slot).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const image = slots.output(slot);
    if (tail && slot.tail !== tail) {
      image.set(tail, data.length);
      slot.tail = tail;
    }
    const [height, width] = frame.shape;
    const id = this.#nextId++;
    // The offsets alone: the slot also holds its tail, which must not be cloned each frame.
    const where = { input: slot.input, output: slot.output };
    const job: GreySlotJob = { id, slot: where, dtype: frame.dtype, width, height, text, range, ...how };
    this.#slotOf.set(image, slot);
    this.#inSlots++;
    return this.#post(id, job).then(
      () => image,
      (error: unknown) => {
        this.recycle(image);
        throw error;
      },
    );
  }

  /**
   * Gives back an image this thread made once nothing uses it any more (its bytes are in
   * ffmpeg's pipe): a later frame is mapped into it instead of a new buffer.
   */
  recycle(image: Uint8Array): void {
    const slot = this.#slotOf.get(image);
    if (slot) {
      this.#slotOf.delete(image);
      this.#slots?.give(slot);
      return;
    }
    const buffer = image.buffer;
    if (!(buffer instanceof ArrayBuffer) || image.byteOffset !== 0 || image.byteLength !== buffer.byteLength) return;
    if (buffer.byteLength === 0 || this.#spareImages.includes(buffer)) return;
    this.#spareImages.push(buffer);
    if (this.#spareImages.length > SPARE_BUFFERS) this.#spareImages.shift();
  }

  #buffer(bytes: number): ArrayBuffer {
    const i = this.#spare.findIndex((b) => b.byteLength === bytes);
    return i >= 0 ? this.#spare.splice(i, 1)[0]! : new ArrayBuffer(bytes);
  }

  #settle(reply: GreyReply): void {
    if (reply.pixels) {
      this.#spare.push(reply.pixels);
      if (this.#spare.length > SPARE_BUFFERS) this.#spare.shift();
    }
    const job = this.#jobs.get(reply.id);
    if (!job) return;
    this.#jobs.delete(reply.id);
    if (this.#jobs.size === 0) {
      this.#worker.unref();
      this.#dropSpares();
    }
    if ('error' in reply) job.reject(new Error(reply.error));
    else {
      this.#mapped++;
      job.resolve(reply.image);
    }
  }

  /**
   * Frees the spare buffers, and the slots' memory if no slot is in use, unless mapping resumes
   * within {@link SPARE_KEEP_MS}.
   */
  #dropSpares(): void {
    setTimeout(() => {
      if (this.#jobs.size > 0) return;
      this.#spare.length = this.#spareImages.length = 0;
      if (this.#slots?.inUse === 0) {
        this.#slots = undefined;
        this.#worker.postMessage({ memory: undefined });
      }
    }, SPARE_KEEP_MS).unref();
  }

  #break(error: Error): void {
    this.#broken = true;
    for (const job of this.#jobs.values()) job.reject(error);
    this.#jobs.clear();
    void this.#worker.terminate();
  }
}
