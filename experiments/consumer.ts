/**
 * Consumers of an acquisition's frames, each with a delivery policy:
 * - `lossless` (writers, reconstruction): never drops; a bounded queue; the producer waits when
 *   it is full, so memory stays bounded however slow the consumer is.
 * - `latest` (live view): never slows the producer; keeps only the newest frame; counts drops.
 * @module
 */
import { parseOptions, z, zfunction, type Frame } from '../core/index.js';
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
  /**
   * An id unique to this run of the acquisition. Remote cameras tag the frames they send with it
   * and remote servers drop frames of any other stream, so a stray frame of a failed or cancelled
   * run never lands in the next run's dataset.
   */
  readonly streamId: string;
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

/** The options of {@link consumer}: how frames reach it. */
export const CONSUMER_POLICY_OPTIONS = z.strictObject({
  /** `lossless` (default: never drops, the producer waits) or `latest` (never waits, drops). */
  policy: z.enum(['lossless', 'latest'] satisfies DeliveryPolicy[]).optional(),
  /** Queue length of a lossless consumer in frames (default 4); 0 would deadlock the run. */
  queueSize: z.number().int().min(1).max(65536).optional(),
});

/** What {@link Acquisition.attach} checks of a consumer (any object with these members). */
export const FRAME_CONSUMER = CONSUMER_POLICY_OPTIONS.extend({
  name: z.string().min(1),
  policy: CONSUMER_POLICY_OPTIONS.shape.policy.unwrap(),
  kind: z.enum(['local', 'remote']).optional(),
  prepare: zfunction().optional(),
  consume: zfunction(),
}).loose();

/**
 * A consumer from a function: `frameConsumer('sum', async (frames) => { for await (const f of frames) … })`.
 * @throws OptionError for a bad `policy` or `queueSize`.
 */
export function frameConsumer(
  name: string,
  consume: FrameConsumer['consume'],
  options: z.input<typeof CONSUMER_POLICY_OPTIONS> = {},
): FrameConsumer {
  parseOptions(() => `frameConsumer('${name}')`, CONSUMER_POLICY_OPTIONS, options);
  return { name, policy: options.policy ?? 'lossless', queueSize: options.queueSize, kind: 'local', consume };
}
