/**
 * Live view: shows the newest frame of each acquisition in a viewer. Latest-wins: it never slows
 * the producer; frames it had no time for are dropped and counted.
 * @module
 */
import type { z } from '../../core/index.js';
import { Logger, requireGrey, zwhere, type Frame } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';

/** Something that displays frames (a terminal report, the web viewer, …). */
export interface Viewer {
  /** True if {@link show} takes colour (rgb24) frames too; otherwise LiveView refuses them. */
  readonly acceptsColour?: boolean;
  /** Shows a frame; the next one is offered when the returned promise settles. */
  show(frame: Frame, info: { acquisition: string; dropped: number }): void | Promise<void>;
  /** Called when a stream of frames starts or ends. */
  streamState?(state: { acquisition: string; running: boolean }): void;
}

/** A viewer that reports frame rate and drops to the log (or a callback) every `intervalMs`. */
export class LogViewer implements Viewer {
  /** It only counts frames: colour ones too. */
  readonly acceptsColour = true;
  readonly #log = new Logger('live view');
  readonly #report: (line: string) => void;
  readonly #intervalMs: number;
  #shown = 0;
  #since = performance.now();
  #lastReport = performance.now();
  /** The last frame shown. */
  last: Frame | undefined;
  /** Frames shown in total. */
  total = 0;

  constructor(options: { intervalMs?: number; report?: (line: string) => void } = {}) {
    this.#intervalMs = options.intervalMs ?? 2000;
    this.#report = options.report ?? ((line) => this.#log.info(line));
  }

  show(frame: Frame, info: { acquisition: string; dropped: number }): void {
    this.last = frame;
    this.total++;
    this.#shown++;
    const now = performance.now();
    if (now - this.#lastReport >= this.#intervalMs) {
      const fps = (this.#shown * 1000) / (now - this.#since);
      this.#report(
        `${info.acquisition}: frame ${frame.metadata.frameNumber}, ${fps.toFixed(1)} fps shown, ${info.dropped} dropped`,
      );
      this.#lastReport = this.#since = now;
      this.#shown = 0;
    }
  }
}

/** Options of {@link LiveView.create}. */
export type LiveViewOptions = z.input<typeof LIVE_VIEW_OPTIONS>;

/** The options of {@link LiveView.create}. */
export const LIVE_VIEW_OPTIONS = ADDON_OPTIONS.extend({
  /** Where frames are shown (default: a {@link LogViewer} reporting frame rate and drops). */
  viewer: zwhere(
    'a Viewer (an object with show(frame))',
    (v): v is Viewer => typeof v === 'object' && v !== null && typeof (v as Viewer).show === 'function',
  ).optional(),
});

/** Shows frames as they come: `await LiveView.create(experiment, { viewer })`. */
export class LiveView extends Addon {
  static override readonly options = LIVE_VIEW_OPTIONS;
  readonly kind = 'local';
  readonly viewer: Viewer;

  constructor(experiment: Experiment, options: LiveViewOptions = {}) {
    super(experiment, options);
    this.viewer = options.viewer ?? new LogViewer();
    if (typeof this.viewer.show !== 'function')
      throw new AddonError('LiveView: the viewer must have a show(frame) method');
  }

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    const consumer: FrameConsumer = this.localConsumer(
      acquisition,
      async (frames) => {
        this.viewer.streamState?.({ acquisition: acquisition.name, running: true });
        try {
          for await (const frame of frames) {
            if (!this.viewer.acceptsColour) requireGrey(frame, `${this.name} (its viewer)`);
            const dropped = acquisition.stats(consumer)?.dropped ?? 0;
            await this.viewer.show(frame, { acquisition: acquisition.name, dropped });
          }
        } finally {
          this.viewer.streamState?.({ acquisition: acquisition.name, running: false });
        }
      },
      { policy: 'latest' },
    );
    return consumer;
  }
}
