/**
 * The live-view server (`concert serve live`): shows the newest frame of each stream in a viewer
 * (a log report of frame rate and drops; the web viewer when asked). Latest-wins end to end.
 * @module
 */
import type { Frame } from '../../../core/index.js';
import { LogViewer, type Viewer } from '../../local/live-view.js';
import { StreamServer, type StreamServerOptions, type StreamSink } from './stream-server.js';

/** Options of the live server. */
export interface LiveServerOptions extends StreamServerOptions {
  viewer?: Viewer;
}

/** Hands frames to a viewer; never slows the sender (its data socket is a SUB with HWM 1). */
export class LiveServer extends StreamServer {
  readonly viewer: Viewer;
  #shown = 0;
  #last: { frameNumber: number; timestamp: number } | undefined;

  constructor(options: LiveServerOptions) {
    super('live', options);
    this.viewer = options.viewer ?? new LogViewer();
  }

  protected async openStream(name: string): Promise<StreamSink> {
    this.viewer.streamState?.({ acquisition: name, running: true });
    return {
      frame: async (frame: Frame) => {
        this.#shown++;
        this.#last = { frameNumber: frame.metadata.frameNumber, timestamp: frame.metadata.timestamp };
        await this.viewer.show(frame, { acquisition: name, dropped: 0 });
      },
      close: async () => this.viewer.streamState?.({ acquisition: name, running: false }),
    };
  }

  protected override extraStatus(): Record<string, unknown> {
    return { shown: this.#shown, last: this.#last };
  }
}
