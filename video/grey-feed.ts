/**
 * Turns a stream of frames into 8-bit grey images of one size: checks that every frame has the
 * first one's shape, holds back the first frames while a percentile contrast is calibrated on
 * them (at most `frames` of them, so memory stays bounded), maps and burns in the overlay.
 *
 * Frames are mapped ahead of the sink (up to `depth` frames between {@link GreyFeed.push} and the
 * sink), large ones on the mapping thread, so the sink (ffmpeg's input pipe) never waits for a
 * mapping and the main thread stays free; images reach the sink in order, one at a time.
 * @module
 * @internal
 */
import type { Frame } from '../core/index.js';
import { ContrastMapper, type Contrast } from './contrast.js';
import { VideoError } from './errors.js';
import type { GreyRange } from './grey-kernel.js';
import { MappingThread } from './mapping-thread.js';
import { drawText, overlayText, type OverlayField } from './overlay.js';

/** Receives each grey image with the frame it came from. */
export type GreySink = (image: Uint8Array, frame: Frame) => Promise<void>;

/** Options of a {@link GreyFeed}. */
export interface GreyFeedOptions {
  /** Frames between `push` and the sink, mapped or being mapped (default 3). */
  depth?: number;
  /** Frames of at least this many pixels go to the mapping thread (default 2¹⁶; `Infinity`: never). */
  threadPixels?: number;
  /**
   * The sink is done with an image once its promise resolved: the mapping thread maps later
   * frames into the images it made (default false: the sink may keep them).
   */
  recycle?: boolean;
  /** The range of the images, chosen on the first frame's shape (`[height, width]`; default `'full'`). */
  range?: (shape: readonly [number, number]) => GreyRange;
  /**
   * Constant bytes to follow each image, chosen on the first frame's shape (e.g. yuv420p's chroma
   * planes): the sink gets image and tail as one array, to write at once (default none).
   */
  tail?: (shape: readonly [number, number]) => Uint8Array | undefined;
}

/** Maps frames to grey images for a sink, in order. */
export class GreyFeed {
  #mapper: ContrastMapper;
  readonly #rangeFor: ((shape: readonly [number, number]) => GreyRange) | undefined;
  readonly #tailFor: ((shape: readonly [number, number]) => Uint8Array | undefined) | undefined;
  #tail: Uint8Array | undefined;
  readonly #recycle: boolean;
  /** The images the mapping thread made, with it (to give them back once the sink is done). */
  readonly #threadImages = new WeakMap<Uint8Array, MappingThread>();
  readonly #overlay: readonly OverlayField[];
  readonly #sink: GreySink;
  readonly #what: string;
  readonly #depth: number;
  readonly #threadPixels: number;
  #shape: readonly [number, number] | undefined;
  #pending: Frame[] = [];
  #count = 0;
  /** Frames on their way to the sink, oldest first (the first may be in the sink). */
  #queue: Array<{ frame: Frame; image: Promise<Uint8Array> }> = [];
  #draining: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;
  #space: (() => void) | undefined;

  constructor(
    what: string,
    contrast: Contrast | undefined,
    overlay: readonly OverlayField[],
    sink: GreySink,
    options: GreyFeedOptions = {},
  ) {
    this.#what = what;
    this.#mapper = new ContrastMapper(contrast);
    this.#overlay = overlay;
    this.#sink = sink;
    this.#depth = Math.max(1, options.depth ?? 3);
    this.#threadPixels = options.threadPixels ?? 1 << 16;
    this.#rangeFor = options.range;
    this.#tailFor = options.tail;
    this.#recycle = options.recycle ?? false;
  }

  /** Frames pushed so far. */
  get count(): number {
    return this.#count;
  }

  /** The shape of the first frame (`[height, width]`), once one was pushed. */
  get shape(): readonly [number, number] | undefined {
    return this.#shape;
  }

  /** The range of the images (`'full'` until the first frame chose another). */
  get range(): GreyRange {
    return this.#mapper.range;
  }

  /** The contrast window, once known. */
  get window(): readonly [number, number] | undefined {
    return this.#mapper.window;
  }

  /**
   * Adds a frame; the sink gets it soon or, while the contrast is being calibrated, later. Waits
   * while `depth` frames are on their way to the sink.
   * @throws VideoError for a frame whose shape differs from the first; whatever the sink threw
   * for an earlier frame.
   */
  async push(frame: Frame): Promise<void> {
    this.#throwIfFailed();
    if (!this.#shape) {
      this.#shape = frame.shape;
      const range = this.#rangeFor?.(frame.shape) ?? 'full';
      if (range !== this.#mapper.range) this.#mapper = new ContrastMapper(this.#mapper.contrast, range);
      this.#tail = this.#tailFor?.(frame.shape);
    } else if (frame.shape[0] !== this.#shape[0] || frame.shape[1] !== this.#shape[1])
      throw new VideoError(
        `${this.#what}: frame ${frame.metadata.frameNumber} is ${frame.shape[1]}×${frame.shape[0]} px, ` +
          `the first was ${this.#shape[1]}×${this.#shape[0]} px`,
      );
    this.#count++;
    if (this.#mapper.calibrationFrames > 0) {
      this.#pending.push(frame);
      if (this.#pending.length >= this.#mapper.calibrationFrames) await this.#release();
      return;
    }
    await this.#enqueue(frame);
  }

  /**
   * Hands every frame to the sink (those held back for calibration too) and waits until it took
   * them (call at the end).
   * @throws whatever the sink threw.
   */
  async flush(): Promise<void> {
    await this.#release();
    await this.#draining;
    this.#throwIfFailed();
  }

  /** Drops the frames not yet in the sink (after a failure). */
  discard(): void {
    this.#pending = [];
    this.#giveBack(this.#queue.splice(1));
    this.#failure ??= { error: new VideoError(`${this.#what}: discarded`) };
  }

  async #release(): Promise<void> {
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    this.#mapper.calibrate(pending);
    for (const frame of pending) await this.#enqueue(frame);
  }

  async #enqueue(frame: Frame): Promise<void> {
    const image = this.#map(frame);
    image.catch(() => undefined); // a failure reaches the sink's loop
    this.#queue.push({ frame, image });
    this.#draining ??= this.#drain();
    while (this.#queue.length >= this.#depth && !this.#failure) await new Promise<void>((r) => (this.#space = r));
    this.#throwIfFailed();
  }

  /** Hands the queued images to the sink, in order, until the queue is empty or the sink failed. */
  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#failure) {
        const { frame, image } = this.#queue[0]!;
        const grey = await image;
        await this.#sink(grey, frame);
        if (this.#recycle) this.#threadImages.get(grey)?.recycle(grey);
        this.#queue.shift();
        this.#wake();
      }
    } catch (error) {
      this.#failure ??= { error };
      this.#giveBack(this.#queue);
      this.#queue = [];
    } finally {
      this.#draining = undefined;
      this.#wake();
    }
  }

  /** Gives the images of dropped entries back to the mapping thread (a slot each, maybe). */
  #giveBack(entries: ReadonlyArray<{ image: Promise<Uint8Array> }>): void {
    if (!this.#recycle) return;
    for (const { image } of entries)
      image.then(
        (grey) => this.#threadImages.get(grey)?.recycle(grey),
        () => undefined,
      );
  }

  #wake(): void {
    const space = this.#space;
    this.#space = undefined;
    space?.();
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }

  /** The grey image of `frame`: on the mapping thread if it is large and the thread runs. */
  async #map(frame: Frame): Promise<Uint8Array> {
    const plan = this.#mapper.plan(frame);
    const text = this.#overlay.length ? overlayText(frame.metadata, this.#overlay) : '';
    if (plan.kind !== 'copy' && frame.data.length >= this.#threadPixels) {
      const thread = MappingThread.shared();
      if (thread.ready) {
        try {
          const how = plan.kind === 'window' ? { window: plan.window } : plan;
          // Images come back (recycle) only if the sink is done with them: then map in a slot.
          const image = await thread.map(frame, how, text, this.#mapper.range, {
            slot: this.#recycle,
            tail: this.#tail,
          });
          if (!this.#tail || image.length === frame.data.length + this.#tail.length) {
            this.#threadImages.set(image, thread);
            return image;
          }
          // Not in a slot (none free): the image alone, so the tail goes after it in a copy.
          const whole = this.#withTail(image);
          if (this.#recycle) thread.recycle(image);
          return whole;
        } catch {
          // The thread failed: map here (the next frames start a new thread).
        }
      }
    }
    const pixels = frame.data.length;
    const image = new Uint8Array(pixels + (this.#tail?.length ?? 0));
    await this.#mapper.mapSliced(frame, image.subarray(0, pixels));
    if (this.#tail) image.set(this.#tail, pixels);
    if (text) drawText(image, frame.shape[1], frame.shape[0], text, this.#mapper.range);
    return image;
  }

  #withTail(image: Uint8Array): Uint8Array {
    const whole = new Uint8Array(image.length + this.#tail!.length);
    whole.set(image);
    whole.set(this.#tail!, image.length);
    return whole;
  }
}
