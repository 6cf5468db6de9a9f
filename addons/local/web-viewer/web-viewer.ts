/**
 * The web viewer: a page on 127.0.0.1 that shows camera frames and reconstructed slices, fed
 * latest-wins. `show()` only stores a reference to the frame. The HTTP/WebSocket server runs on a
 * worker thread; when a page is ready for a new image the worker asks for one, and only then is
 * the newest frame copied into shared memory for it (no copy at all for frames that already live
 * in a `SharedArrayBuffer`). That copy is the only per-image work on the session thread, and it is
 * held under a CPU budget. Frames nobody was ready for are replaced and counted as drops.
 * @module
 */
import type { Worker } from 'node:worker_threads';
import type { Observable, Subscription } from 'rxjs';
import { expecting, startInterval, Logger, parseOptions, z, type Frame } from '../../../core/index.js';
import { threadCpuMs } from '../../../core/thread-cpu.js';
import { AddonError } from '../../errors.js';
import type { Viewer } from '../live-view.js';
import type { Panel, ServerCounts, ServerImage, ServerOptions } from './server.js';
import { serverThread, type ServerThread } from './thread.js';
import type { FromWorker, ToWorker } from './worker.js';
import { BufferPool } from './buffer-pool.js';

/** Options of {@link WebViewer.create}. */
export type WebViewerOptions = z.input<typeof WEB_VIEWER_OPTIONS>;

/** The options of {@link WebViewer.create}. */
export const WEB_VIEWER_OPTIONS = z.strictObject({
  /** TCP port (default 0: a free port, see {@link WebViewer.url}). */
  port: z.number().int().min(0).max(65535).optional(),
  /** Interface to bind (default `127.0.0.1`: only this machine can connect). */
  host: z.string().optional(),
  /**
   * Frames larger than this on their long side are binned down to it (default 512 px: the page
   * shows about 570 px, and a 1024² image costs the browser four times as much to receive and draw).
   */
  maxSize: z.number().int().min(16).optional(),
  /** At most this many images per second to each page and panel (default 60). */
  maxFps: z.number().gt(0).optional(),
  /**
   * Fraction of the session thread the viewer may spend copying frames for the pages (default
   * 0.03): after a copy that took `t` ms of CPU, the next waits at least `t / cpuBudget` ms.
   */
  cpuBudget: expecting(z.number().gt(0).max(1), 'a fraction in (0, 1]').optional(),
  /** Page title (default `Concert live view`). */
  title: z.string().optional(),
});

/** The experiment's state and progress shown at the top of the page. */
export interface ViewerStatus {
  state?: string;
  progress?: { done: number; total?: number };
}

/** What {@link WebViewer.follow} needs of an experiment (an `Experiment` has it). */
export interface FollowTarget {
  readonly state: { readonly current: string; observe(): Observable<string> };
  readonly acquisitions: readonly { readonly name: string; readonly expectedFrames?: number }[];
}

/** Counters of {@link WebViewer.stats}. */
export interface WebViewerStats {
  /** Camera frames given to `show()`. */
  frames: number;
  /** Slices given to `showSlice()`. */
  slices: number;
  /** Images sent to pages (all pages). */
  sent: number;
  /** Images the pages acked as drawn. */
  drawn: number;
  /** Frames replaced by a newer one before any page got them. */
  dropped: number;
  /** Frames the live view's acquisitions dropped before `show()` (latest-wins upstream). */
  upstreamDropped: number;
  /** Connected pages. */
  clients: number;
  /** Frame timestamp → drawn in the page, over the last 256 camera images (ms). */
  latencyMs?: { median: number; p90: number; last: number; samples: number };
  /** Medians over the same images: sent → received by the page, and received → drawn (ms). */
  transitMs?: number;
  drawMs?: number;
  /** Mean session-thread CPU time per frame handed to the server (the copy), ms. */
  copyMs: number;
  /**
   * Mean worker-thread CPU time per image sent (binning and socket writes), ms, timed around
   * each send: a lower bound (the thread clock advances at scheduler ticks). Over a long window,
   * the difference of two `serverThreadMs` divided by the images sent is the unbiased figure.
   */
  sendMs: number;
  /** CPU time the server thread has used in all (ms; the thread serves every viewer of the process). */
  serverThreadMs: number;
}

/** The newest camera frame (updated in place) and whether the server has it. */
interface Slot {
  frame: Frame | undefined;
  /** The LiveView's info object, kept by reference. */
  info: { readonly acquisition: string; readonly dropped: number };
  seq: number;
  taken: boolean;
}

/**
 * A live view in the browser.
 * @example
 * ```ts
 * const viewer = await WebViewer.create({ port: 8080 });
 * console.log(viewer.url);                      // http://127.0.0.1:8080/
 * await LiveView.create(experiment, { viewer }); // camera frames
 * const unfollow = viewer.follow(experiment);    // state and progress on the page
 * viewer.showSlice(slice, { name: 'slice 0' }); // reconstructed slices in the second panel
 * await viewer.close();
 * ```
 */
export class WebViewer implements Viewer {
  /** The page's address, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  readonly port: number;
  readonly #log = new Logger('web viewer');
  readonly #thread: ServerThread;
  readonly #worker: Worker;
  readonly #id: number;
  readonly #cpuBudget: number;
  readonly #camera: Slot = { frame: undefined, info: { acquisition: '', dropped: 0 }, seq: 0, taken: true };
  readonly #sliceSeq = new Map<string, number>();
  readonly #pool = new BufferPool<SharedArrayBuffer>(3);
  readonly #latency: [number, number, number][] = [];
  readonly #unfollow = new Set<() => void>();
  readonly #polls = new Set<() => void>();
  readonly #upstream = new Map<string, number>();
  /** Frames seen per acquisition in the followed run (for progress). */
  readonly #seen = new Map<string, number>();
  #server: ServerCounts = { sent: 0, drawn: 0, dropped: 0, clients: 0, sendMs: 0, threadMs: 0 };
  #counts = { slices: 0, dropped: 0, copies: 0, copyMs: 0 };
  #wanted = false;
  #budgetAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  /**
   * Starts the server (on a worker thread); resolves once it listens.
   * @throws OptionError for bad options, AddonError if the port cannot be bound.
   */
  static async create(options: WebViewerOptions = {}): Promise<WebViewer> {
    parseOptions('WebViewer.create', WEB_VIEWER_OPTIONS, options);
    const serverOptions: ServerOptions = {
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      maxSize: options.maxSize ?? 512,
      maxFps: options.maxFps ?? 60,
      title: options.title,
    };
    const thread = serverThread();
    const id = thread.nextId++;
    thread.open++;
    thread.worker.ref();
    const listening = await new Promise<{ address: string; family: string; port: number }>((resolve, reject) => {
      thread.handlers.set(id, (m) => {
        if (m.type === 'listening') resolve(m);
        else if (m.type === 'failed')
          reject(
            new AddonError(`WebViewer: cannot listen on ${serverOptions.host}:${serverOptions.port}: ${m.message}`),
          );
      });
      thread.failed = (error) =>
        reject(new AddonError(`WebViewer: the server thread failed: ${error.message}`, { cause: error }));
      thread.worker.postMessage({ id, type: 'listen', options: serverOptions } satisfies ToWorker);
    }).catch((error: unknown) => {
      thread.handlers.delete(id);
      if (--thread.open === 0) thread.worker.unref();
      throw error;
    });
    return new WebViewer(thread, id, listening, serverOptions.host, options.cpuBudget ?? 0.03);
  }

  private constructor(
    thread: ServerThread,
    id: number,
    listening: { address: string; family: string; port: number },
    host: string,
    cpuBudget: number,
  ) {
    this.#thread = thread;
    this.#worker = thread.worker;
    this.#id = id;
    this.#cpuBudget = cpuBudget;
    this.port = listening.port;
    this.url = `http://${listening.family === 'IPv6' ? `[${listening.address}]` : listening.address}:${this.port}/`;
    thread.handlers.set(id, (m) => this.#message(m));
    if (!['127.0.0.1', 'localhost', '::1'].includes(host))
      this.#log.warn(`listening on ${host}: anyone who can reach it can watch`);
    this.#log.info(`live view at ${this.url}`);
  }

  /**
   * Shows a camera frame. Returns at once (a few field writes); a page that is ready gets it, and
   * a newer frame replaces it if none is.
   */
  show(
    frame: Frame,
    info: { readonly acquisition: string; readonly dropped: number } = { acquisition: 'frames', dropped: 0 },
  ): void {
    const slot = this.#camera;
    if (!slot.taken) this.#counts.dropped++;
    slot.frame = frame;
    slot.info = info;
    slot.seq++;
    slot.taken = false;
    if (this.#wanted) this.#deliver();
  }

  /** Shows a reconstructed slice in the second panel (the newest image is kept per name). */
  showSlice(frame: Frame, info: { name: string }): void {
    if (this.#closed) return;
    this.#counts.slices++;
    const seq = (this.#sliceSeq.get(info.name) ?? 0) + 1;
    this.#sliceSeq.set(info.name, seq);
    this.#post(frame, 'slice', info.name, seq, 0);
  }

  /** Tells the page that a stream of frames started or ended (LiveView calls it). */
  streamState(state: { acquisition: string; running: boolean }): void {
    this.#noteProgress();
    this.#send({ type: 'stream', acquisition: state.acquisition, running: state.running });
    for (const poll of this.#polls) poll();
  }

  /** Sets the state and progress shown at the top of the page. */
  setStatus(status: ViewerStatus): void {
    this.#send({ type: 'status', state: status.state, progress: status.progress && { ...status.progress } });
  }

  /**
   * Shows an experiment's state and progress (frames shown so far of the expected total) until
   * the returned function is called or the viewer closes. Watches `state.observe()`, polls
   * `state.current` every `intervalMs` (default 200; changes made inside the experiment are not
   * emitted) and updates when a stream starts or ends.
   */
  follow(experiment: FollowTarget, options: { intervalMs?: number } = {}): () => void {
    let last = '';
    let previousState = '';
    const poll = () => {
      this.#noteProgress();
      const state = experiment.state.current;
      if (state === 'running' && previousState !== 'running' && previousState !== 'paused') this.#seen.clear();
      previousState = state;
      let total = 0;
      let done = 0;
      for (const a of experiment.acquisitions) {
        const expected = a.expectedFrames;
        total += expected ?? 0;
        done += Math.min(this.#seen.get(a.name) ?? 0, expected ?? Infinity);
      }
      const status: ViewerStatus = {
        state,
        progress: total > 0 || done > 0 ? { done, total: total || undefined } : undefined,
      };
      const key = JSON.stringify(status);
      if (key !== last) {
        last = key;
        this.setStatus(status);
      }
    };
    const timer = startInterval(options.intervalMs ?? 200, poll).unref();
    const subscription: Subscription = experiment.state.observe().subscribe(() => poll());
    poll();
    this.#polls.add(poll);
    const stop = () => {
      timer.cancel();
      subscription.unsubscribe();
      this.#polls.delete(poll);
      this.#unfollow.delete(stop);
    };
    this.#unfollow.add(stop);
    return stop;
  }

  /** Counters since the viewer started. */
  stats(): WebViewerStats {
    this.#noteProgress();
    const pick = (k: number) => this.#latency.map((l) => l[k]!).sort((a, b) => a - b);
    const mid = (xs: number[]) => (xs.length ? xs[xs.length >> 1] : undefined);
    const sorted = pick(0);
    const s = this.#server;
    return {
      frames: this.#camera.seq,
      slices: this.#counts.slices,
      sent: s.sent,
      drawn: s.drawn,
      dropped: this.#counts.dropped + s.dropped,
      upstreamDropped: [...this.#upstream.values()].reduce((a, b) => a + b, 0),
      clients: s.clients,
      latencyMs: sorted.length
        ? {
            median: sorted[sorted.length >> 1]!,
            p90: sorted[Math.floor(sorted.length * 0.9)]!,
            last: this.#latency[this.#latency.length - 1]![0],
            samples: sorted.length,
          }
        : undefined,
      transitMs: mid(pick(1)),
      drawMs: mid(pick(2)),
      copyMs: this.#counts.copies ? this.#counts.copyMs / this.#counts.copies : 0,
      sendMs: s.sent ? s.sendMs / s.sent : 0,
      serverThreadMs: s.threadMs,
    };
  }

  /** Disconnects every page and stops the server (open pages keep trying to reconnect). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const stop of [...this.#unfollow]) stop();
      clearTimeout(this.#timer);
      const thread = this.#thread;
      await new Promise<void>((resolve) => {
        if (thread.exited) return resolve();
        thread.handlers.set(this.#id, (m) => m.type === 'closed' && resolve());
        thread.closing.set(this.#id, resolve);
        this.#worker.postMessage({ id: this.#id, type: 'close' } satisfies ToWorker);
      });
      thread.handlers.delete(this.#id);
      thread.closing.delete(this.#id);
      // The thread stays for the next viewer but no longer keeps the process alive.
      if (--thread.open === 0) thread.worker.unref();
    })();
    return this.#closed;
  }

  #message(m: FromWorker): void {
    if (m.type !== 'update') return;
    for (const buffer of m.release) this.#pool.give(buffer);
    if (m.counts) this.#server = m.counts;
    for (const latency of m.latency) {
      this.#latency.push(latency);
      if (this.#latency.length > 256) this.#latency.shift();
    }
    if (m.want.includes('camera')) {
      this.#wanted = true;
      if (!this.#camera.taken) this.#deliver();
    }
  }

  /** Hands the newest camera frame to the server, or schedules that when over budget. */
  #deliver(): void {
    if (this.#closed || this.#timer) return;
    const wait = this.#budgetAt - performance.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#wanted && !this.#camera.taken) this.#deliver();
      }, wait);
      return;
    }
    const slot = this.#camera;
    slot.taken = true;
    this.#wanted = false;
    this.#noteProgress();
    const cpu0 = threadCpuMs();
    this.#post(slot.frame!, 'camera', slot.info.acquisition, slot.seq, slot.info.dropped);
    // This thread's CPU time, not wall time: on a loaded machine wall time would count other
    // processes' turns (and process.cpuUsage() the server thread's).
    const costMs = threadCpuMs() - cpu0;
    this.#counts.copies++;
    this.#counts.copyMs += costMs;
    this.#budgetAt = performance.now() + costMs / this.#cpuBudget;
  }

  /** Posts a frame's pixels to the server thread (copied into pooled shared memory if needed). */
  #post(frame: Frame, panel: Panel, name: string, seq: number, upstreamDropped: number): void {
    const src = frame.data;
    let data = src;
    let pooled = false;
    if (!(src.buffer instanceof SharedArrayBuffer)) {
      const buffer = this.#pool.take(src.byteLength) ?? new SharedArrayBuffer(src.byteLength);
      data = new (src.constructor as new (b: SharedArrayBuffer) => typeof src)(buffer);
      data.set(src as never);
      pooled = true;
    }
    const image: ServerImage = {
      panel,
      name,
      dtype: frame.dtype,
      shape: [frame.shape[0], frame.shape[1]],
      frameNumber: frame.metadata.frameNumber,
      timestamp: frame.metadata.timestamp,
      upstreamDropped,
      seq,
      data,
    };
    this.#worker.postMessage({ id: this.#id, type: 'image', image, pooled } satisfies ToWorker);
  }

  #send(message: { type: 'status' | 'stream'; [key: string]: unknown }): void {
    if (!this.#closed) this.#worker.postMessage({ id: this.#id, ...message } satisfies ToWorker);
  }

  /** Records the newest camera frame's number for its acquisition (progress, upstream drops). */
  #noteProgress(): void {
    const { frame, info } = this.#camera;
    if (!frame) return;
    this.#upstream.set(info.acquisition, info.dropped);
    const n = frame.metadata.frameNumber + 1;
    if (n > (this.#seen.get(info.acquisition) ?? 0)) this.#seen.set(info.acquisition, n);
  }
}
