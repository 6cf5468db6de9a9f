/**
 * Turns a stream of frames into 8-bit grey images of one size: checks that every frame has the
 * first one's shape, holds back the first frames while a percentile contrast is calibrated on
 * them (at most `frames` of them, so memory stays bounded), maps and burns in the overlay.
 * @module
 * @internal
 */
import type { Frame } from '../core/index.js';
import { ContrastMapper, type Contrast } from './contrast.js';
import { VideoError } from './errors.js';
import { drawText, overlayText, type OverlayField } from './overlay.js';

/** Receives each grey image with the frame it came from. */
export type GreySink = (image: Uint8Array, frame: Frame) => Promise<void>;

/** Maps frames to grey images for a sink, in order. */
export class GreyFeed {
  readonly #mapper: ContrastMapper;
  readonly #overlay: readonly OverlayField[];
  readonly #sink: GreySink;
  readonly #what: string;
  #shape: readonly [number, number] | undefined;
  #pending: Frame[] = [];
  #count = 0;

  constructor(what: string, contrast: Contrast | undefined, overlay: readonly OverlayField[], sink: GreySink) {
    this.#what = what;
    this.#mapper = new ContrastMapper(contrast);
    this.#overlay = overlay;
    this.#sink = sink;
  }

  /** Frames pushed so far. */
  get count(): number {
    return this.#count;
  }

  /** The shape of the first frame (`[height, width]`), once one was pushed. */
  get shape(): readonly [number, number] | undefined {
    return this.#shape;
  }

  /** The contrast window, once known. */
  get window(): readonly [number, number] | undefined {
    return this.#mapper.window;
  }

  /**
   * Adds a frame; the sink gets it now or, while the contrast is being calibrated, later.
   * @throws VideoError for a frame whose shape differs from the first.
   */
  async push(frame: Frame): Promise<void> {
    if (!this.#shape) this.#shape = frame.shape;
    else if (frame.shape[0] !== this.#shape[0] || frame.shape[1] !== this.#shape[1])
      throw new VideoError(
        `${this.#what}: frame ${frame.metadata.frameNumber} is ${frame.shape[1]}×${frame.shape[0]} px, ` +
          `the first was ${this.#shape[1]}×${this.#shape[0]} px`,
      );
    this.#count++;
    if (this.#mapper.calibrationFrames > 0) {
      this.#pending.push(frame);
      if (this.#pending.length >= this.#mapper.calibrationFrames) await this.flush();
      return;
    }
    await this.#emit(frame);
  }

  /** Hands the frames held back for calibration to the sink (call at the end). */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    this.#mapper.calibrate(pending);
    for (const frame of pending) await this.#emit(frame);
  }

  /** Drops frames held back (after a failure). */
  discard(): void {
    this.#pending = [];
  }

  async #emit(frame: Frame): Promise<void> {
    const image = await this.#mapper.mapSliced(frame);
    if (this.#overlay.length)
      drawText(image, frame.shape[1], frame.shape[0], overlayText(frame.metadata, this.#overlay));
    await this.#sink(image, frame);
  }
}
