/**
 * Consumers of an acquisition's frames, each with a delivery policy:
 * - `lossless` (writers, reconstruction): never drops; a bounded queue; the producer waits when
 *   it is full, so memory stays bounded however slow the consumer is.
 * - `latest` (live view): never slows the producer; keeps only the newest frame; counts drops.
 * @module
 */
import type { Frame } from '../core/index.js';
import type { Acquisition } from './acquisition.js';

/** How frames reach a consumer. */
export type DeliveryPolicy = 'lossless' | 'latest';

/** What a consumer gets with its frames. */
export interface ConsumeContext {
  /** The acquisition being run. */
  readonly acquisition: Acquisition;
  /** Aborted when the run is cancelled or fails. */
  readonly signal: AbortSignal;
  /**
   * Resolves with the number of frames the producer yielded (or `acquire` reported sent) once it
   * is done; rejects if it failed. Remote consumers compare it with what their server received.
   */
  readonly produced: Promise<number>;
  /**
   * A remote consumer reports how many frames its server has confirmed so far: they are the
   * consumer's frames in summaries and run results, and (for an acquisition without a local
   * producer) the run's progress.
   */
  confirm(frames: number): void;
}

/** Something that takes the frames of an acquisition run. */
export interface FrameConsumer {
  /** Used in messages: `consumer 'writer' of acquisition 'radios' failed: …`. */
  readonly name: string;
  readonly policy: DeliveryPolicy;
  /** Queue length of a lossless consumer (default 4 frames). */
  readonly queueSize?: number;
  /** Local consumers get frames in this process; remote ones are fed by a remote camera. */
  readonly kind?: 'local' | 'remote';
  /**
   * Called before the producer starts (e.g. to tell a remote server a stream is coming). A
   * failure fails the acquisition before any frame is produced.
   */
  prepare?(context: ConsumeContext): Promise<void>;
  /**
   * Called once per run (or when attached during a run): reads `frames` until they end. Resolving
   * early detaches the consumer; rejecting fails the acquisition. Remote consumers get no frames
   * here (they go straight to their server) and resolve when the server confirmed the end.
   */
  consume(frames: AsyncIterable<Frame>, context: ConsumeContext): Promise<void>;
}

/** Counters of a consumer on one acquisition (for summaries). */
export interface ConsumerStats {
  frames: number;
  dropped: number;
}

/**
 * A consumer from a function: `consumer('sum', async (frames) => { for await (const f of frames) … })`.
 */
export function consumer(
  name: string,
  consume: FrameConsumer['consume'],
  options: { policy?: DeliveryPolicy; queueSize?: number } = {},
): FrameConsumer {
  return { name, policy: options.policy ?? 'lossless', queueSize: options.queueSize, kind: 'local', consume };
}
