/**
 * One recording on a camera host: grabs frames while the camera records and stores them — a TIFF
 * dataset (`frames_000000.tif`, multi-page files of at most 1 GiB) or an mp4 (`video.mp4`) —
 * with `timestamps.csv` (frame, camera frame number, camera time, host time) and
 * `metadata.json` (every setting, versions, host, start and stop times, frames and drops).
 *
 * Grabbing never waits for the disk: frames wait in a queue bounded in bytes, and a frame that
 * finds it full is dropped and counted. Gaps in the camera's timing longer than 1.5 frame periods
 * count as drops too. Every file is written under a `.partial` name and renamed when complete;
 * `metadata.json` says `complete: false` until the last file is closed.
 * @module
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errorMessage, isAbortError, Logger, sleep, type Frame } from '../../core/index.js';
import type { Camera } from '../../devices/cameras/index.js';
import { MovieEncoder } from '../../video/index.js';
import { MultiFileWriter, preciseNow } from '../../walkers/formats/index.js';
import { waitUntil } from './wait.js';
import type {
  RecordingState,
  RecordingStatus,
  RecordingSummary,
  StartParams,
  StartTiming,
  StopReason,
} from '../protocol.js';

/** Frames waiting for the disk, at most (bytes). */
export const QUEUE_BYTES = 256 * 1024 * 1024;
/** Gaps in camera time logged one by one, at most (the rest are counted). */
const MAX_GAP_WARNINGS = 10;
/** An armed recording not started within this time disarms itself (ms). */
export const ARM_TIMEOUT_MS = 60_000;
/**
 * Storing, the log line and the start answer wait this long after the camera started, the frames
 * meanwhile in the queue (ms): the other camera servers of the host wake for the same instant.
 */
export const START_SETTLE_MS = 30;
/**
 * Grabbing waits this long after the camera started (ms; AUTO and EXTERNAL triggers; at most half
 * a frame period, so a camera that holds no frame loses none): the camera exposes meanwhile and
 * the server gives its core up at once to the other camera servers of the host waking for the
 * same instant. Grabbing at once, each server held a core ~0.4 ms (~1 ms in its first start)
 * and 8 servers on 2 cores woke one pair after the other (skew 2–3 ms, 6–8 ms in the first).
 */
export const START_YIELD_MS = 4;
/** Heartbeats pause from this long before a start instant until the start answered (ms). */
export const QUIET_BEFORE_MS = 100;
/** The TIFF files of a dataset hold at most this many bytes. */
export const TIFF_FILE_BYTES = 2 ** 30;

const PARTIAL = '.partial';

interface Store {
  write(frame: Frame): Promise<void>;
  close(): Promise<string[]>;
  abort(): Promise<void>;
}

/** Records one acquisition of one camera. */
export class Recording {
  readonly log = new Logger('recording');
  readonly #camera: Camera;
  readonly #params: StartParams;
  readonly #directory: string;
  readonly #versions: Record<string, string>;
  #state: RecordingState = 'armed';
  #frames = 0;
  #drops = 0;
  #startedAt: number | undefined;
  #stoppedAt: number | undefined;
  #reason: StopReason | undefined;
  #error: string | undefined;
  readonly #recent: number[] = [];
  #lastCameraTime: number | undefined;
  #gaps = 0;
  readonly #grabStop = new AbortController();
  #grabbing: Promise<void> = Promise.resolve();
  #writing: Promise<void> = Promise.resolve();
  readonly #queue: Frame[] = [];
  #queueBytes = 0;
  #wake: (() => void) | undefined;
  #grabDone = false;
  #store: Store | undefined;
  #timestamps: WriteStream | undefined;
  #files: string[] = [];
  #bytes = 0;
  #stopping: Promise<RecordingSummary> | undefined;
  #maxTimer: NodeJS.Timeout | undefined;
  #armTimer: NodeJS.Timeout | undefined;
  #firstFrameAt: number | undefined;
  #onFirstFrame: (() => void) | undefined;
  #starting: Promise<StartTiming> | undefined;
  #quietUntil = -Infinity;
  #quietFrom = Infinity;
  /** Called once when the recording ended, however. */
  onEnd: ((summary: RecordingSummary) => void) | undefined;

  constructor(camera: Camera, params: StartParams, directory: string, versions: Record<string, string>) {
    this.#camera = camera;
    this.#params = params;
    this.#directory = directory;
    this.#versions = versions;
  }

  /** The acquisition's name. */
  get acquisition(): string {
    return this.#params.acquisitionName;
  }

  /**
   * Whether the host should keep still at `now` (host clock, ms since the epoch): from
   * {@link QUIET_BEFORE_MS} before the start instant until the start answered or failed (at most
   * that, the server's lateness, {@link START_SETTLE_MS} and {@link firstFrameWaitMs}: under the
   * conductor's 3 s heartbeat timeout). A heartbeat sent then wakes this server's event loop and
   * the conductor's just as the servers of the host need every core to wake at the instant.
   */
  quiet(now: number): boolean {
    return now >= this.#quietFrom && now < this.#quietUntil;
  }

  /** True once the recording has ended (done or failed). */
  get ended(): boolean {
    return this.#state === 'done' || this.#state === 'failed';
  }

  /**
   * Prepares everything but the camera: the folder, the files, the first metadata.json. An armed
   * recording that is not started within {@link ARM_TIMEOUT_MS} disarms itself (its folder is
   * removed), so a conductor that dies between arming and starting leaves nothing behind.
   * @throws when the folder exists, or cannot be written.
   */
  async arm(): Promise<void> {
    const p = this.#params;
    if (p.saveData) {
      await mkdir(this.#directory, { recursive: true });
      const existing = await readdir(this.#directory);
      if (existing.length)
        throw new Error(
          `${this.#directory} already holds files (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', …' : ''}): ` +
            'choose another acquisition name',
        );
      try {
        this.#store = await this.#openStore();
        this.#timestamps = createWriteStream(join(this.#directory, `timestamps.csv${PARTIAL}`));
        // a full disk fails the recording (marked incomplete), not the host
        this.#timestamps.on('error', (error) => this.#fail(error));
        this.#timestamps.write('frame,cameraFrame,cameraTime,hostTime\n');
        await this.#writeMetadata();
      } catch (error) {
        // the folder was empty: it goes with what was made in it
        await this.#discard().catch(() => undefined);
        this.#state = 'failed';
        throw error;
      }
    }
    this.#armTimer = setTimeout(() => {
      this.log.warn(`${p.camera}: '${p.acquisitionName}' was armed but not started within ${ARM_TIMEOUT_MS / 1000} s`);
      void this.stop('disarmed');
    }, ARM_TIMEOUT_MS);
    this.#armTimer.unref();
  }

  /**
   * Waits for `startAt` (host clock, precisely: a timer, then a futex wait for the last 20 ms),
   * starts the camera recording and the grab loop, and waits (at most {@link firstFrameWaitMs})
   * for the first frame, whose camera timestamp (the finest the camera gives) it reports, with
   * when the wait ended.
   * @throws when the camera refuses to record (the armed files are removed).
   */
  start(startAt?: number): Promise<StartTiming> {
    const p = this.#params;
    if (this.#state !== 'armed' || this.#starting || this.#stopping)
      return Promise.reject(
        new Error(
          `${p.camera}: '${p.acquisitionName}' is ${this.#stopping ? 'stopped' : this.#state}, not armed: it cannot start`,
        ),
      );
    clearTimeout(this.#armTimer);
    return (this.#starting = this.#start(startAt));
  }

  /** Keeps the host quiet (see {@link quiet}) around {@link #startAt}. */
  async #start(startAt: number | undefined): Promise<StartTiming> {
    if (startAt !== undefined) {
      this.#quietFrom = startAt - QUIET_BEFORE_MS;
      this.#quietUntil = Infinity;
    }
    try {
      return await this.#startAt(startAt);
    } finally {
      this.#quietUntil = -Infinity;
    }
  }

  async #startAt(startAt: number | undefined): Promise<StartTiming> {
    const p = this.#params;
    const signal = this.#grabStop.signal;
    const lateMs = startAt === undefined ? 0 : await waitUntil(startAt, signal);
    const wokeAt = preciseNow();
    try {
      await this.#camera.startRecording();
    } catch (error) {
      await this.#discard();
      this.#state = 'failed';
      throw error;
    }
    const startedAt = (this.#startedAt = preciseNow());
    this.#state = 'recording';
    // The camera exposes: give the core up at once to the other camera servers of this host
    // waking for the same instant (its first frames wait in its buffer). Not with a software
    // trigger: there the first trigger is the first exposure.
    if (p.triggerSource !== 'SOFTWARE')
      await sleep(Math.min(START_YIELD_MS, 500 / p.frameRate), signal).catch(() => undefined);
    const since = () => preciseNow() - startedAt;
    // (a stop during the yield already ran: no timer then)
    if (p.maxAcquisitionTime > 0 && !signal.aborted)
      this.#maxTimer = setTimeout(
        () => {
          this.log.warn(
            `${p.camera}: maxAcquisitionTime ${p.maxAcquisitionTime} s reached, stopping '${p.acquisitionName}'`,
          );
          void this.stop('maxAcquisitionTime');
        },
        Math.max(0, p.maxAcquisitionTime * 1000 - since()),
      );
    const firstFrame = new Promise<void>((resolve) => (this.#onFirstFrame = resolve));
    this.#grabbing = this.#grab().catch((error: unknown) => this.#fail(error));
    // Storing (the first TIFF pages, metadata.json), the log line and the start answer wait a
    // little longer, the frames meanwhile in the queue: they wake this server's ZeroMQ thread,
    // the disk and the conductor while the other servers of the host may still be starting.
    const settled = sleep(Math.max(0, START_SETTLE_MS - since()), signal).catch(() => undefined);
    this.#writing = settled.then(() => this.#write()).catch((error: unknown) => this.#fail(error));
    void settled.then(() => {
      this.log.info(
        `${p.camera}: recording '${p.acquisitionName}'` +
          (p.saveData ? ` into ${this.#directory} (${p.format})` : ' (saveData false: counting frames only)') +
          (lateMs > 1 ? `, ${lateMs.toFixed(1)} ms after the instant the conductor asked for` : ''),
      );
      if (p.saveData) void this.#writeMetadata().catch(() => undefined);
    });
    if (p.triggerSource !== 'EXTERNAL') {
      const wait = firstFrameWaitMs(p.frameRate);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([firstFrame, this.#grabbing, new Promise((r) => (timer = setTimeout(r, wait)))]);
      clearTimeout(timer);
    }
    await settled;
    return {
      startedAt,
      wokeAt,
      lateMs,
      ...(this.#firstFrameAt === undefined ? {} : { firstFrameAt: this.#firstFrameAt }),
    };
  }

  /** Removes what {@link arm} prepared. */
  async #discard(): Promise<void> {
    // every step runs, the folder goes however its files failed; the first failure is thrown
    const failures: unknown[] = [];
    await this.#store?.abort().catch((error: unknown) => failures.push(error));
    this.#store = undefined;
    // ended, not destroyed (see endStream): an 'error' nobody listens for would end the host
    const timestamps = this.#timestamps;
    this.#timestamps = undefined;
    if (timestamps) await endStream(timestamps).catch((error: unknown) => failures.push(error));
    if (this.#params.saveData) await rm(this.#directory, { recursive: true, force: true });
    if (failures.length) throw failures[0];
  }

  /** Frames, drops, rate and state now. */
  status(): RecordingStatus {
    const now = this.#stoppedAt ?? preciseNow();
    return {
      state: this.#state,
      acquisition: this.#params.acquisitionName,
      frames: this.#frames,
      drops: this.#drops,
      fps: this.#fps(),
      elapsed: this.#startedAt === undefined ? 0 : (now - this.#startedAt) / 1000,
      ...(this.#startedAt === undefined ? {} : { startedAt: this.#startedAt }),
      ...(this.#stoppedAt === undefined ? {} : { stoppedAt: this.#stoppedAt }),
      ...(this.#firstFrameAt === undefined ? {} : { firstFrameAt: this.#firstFrameAt }),
      ...(this.#reason ? { reason: this.#reason } : {}),
      ...(this.#error ? { error: this.#error } : {}),
      directory: this.#params.saveData ? this.#directory : '',
    };
  }

  /**
   * Stops grabbing, stores what is queued, closes every file and writes the final metadata.
   * Idempotent: later calls get the same summary.
   */
  stop(reason: StopReason = 'stopped'): Promise<RecordingSummary> {
    return (this.#stopping ??= this.#stop(reason));
  }

  async #stop(reason: StopReason): Promise<RecordingSummary> {
    clearTimeout(this.#maxTimer);
    clearTimeout(this.#armTimer);
    this.#grabStop.abort(new DOMException('recording stopped', 'AbortError'));
    await this.#starting?.catch(() => undefined);
    if (this.#startedAt === undefined) return this.#disarm(reason);
    if (this.#state === 'recording') this.#state = 'stopping';
    this.#reason ??= reason;
    await this.#grabbing;
    if (this.#camera.state.current === 'recording')
      await this.#camera.stopRecording().catch((error: unknown) => this.#fail(error));
    this.#stoppedAt ??= preciseNow();
    this.#wake?.();
    await this.#writing;
    let complete = this.#error === undefined;
    try {
      if (this.#store) {
        if (complete) this.#files = await this.#store.close();
        else await this.#store.abort();
      }
      if (this.#timestamps) {
        await endStream(this.#timestamps);
        const partial = join(this.#directory, `timestamps.csv${PARTIAL}`);
        if (complete) await rename(partial, join(this.#directory, 'timestamps.csv'));
      }
      if (this.#params.saveData) {
        this.#files.push(...(complete ? ['timestamps.csv'] : []));
        this.#bytes = 0;
        for (const f of this.#files) this.#bytes += (await stat(join(this.#directory, f))).size;
      }
    } catch (error) {
      this.#fail(error);
      complete = false;
    }
    this.#state = this.#error === undefined ? 'done' : 'failed';
    if (this.#error !== undefined) this.#reason = 'failed';
    // complete: every frame the camera took is stored and confirmed, and every file is closed
    const summary: RecordingSummary = {
      ...this.status(),
      files: this.#files,
      bytes: this.#bytes,
      complete: complete && this.#error === undefined && this.#drops === 0,
    };
    if (this.#params.saveData) await this.#writeMetadata(summary).catch((e: unknown) => this.#fail(e));
    this.log.info(
      `${this.#params.camera}: '${this.#params.acquisitionName}' ${summary.state} (${summary.reason}): ` +
        `${summary.frames} frames, ${summary.drops} dropped${summary.error ? `: ${summary.error}` : ''}`,
    );
    this.onEnd?.(summary);
    return summary;
  }

  /** Stops an armed recording that never started: nothing was recorded, its folder goes away. */
  async #disarm(reason: StopReason): Promise<RecordingSummary> {
    this.#reason = reason === 'stopped' ? 'disarmed' : reason;
    await this.#discard().catch((error: unknown) => (this.#error ??= errorMessage(error)));
    this.#state = this.#state === 'failed' ? 'failed' : 'done';
    const summary: RecordingSummary = { ...this.status(), files: [], bytes: 0, complete: false };
    this.log.info(`${this.#params.camera}: '${this.#params.acquisitionName}' disarmed before it started`);
    this.onEnd?.(summary);
    return summary;
  }

  #fail(error: unknown): void {
    if (isAbortError(error) && this.#grabStop.signal.aborted) return;
    this.#error ??= errorMessage(error);
    this.log.error(`${this.#params.camera}: recording '${this.#params.acquisitionName}' failed: ${this.#error}`, error);
    void this.stop('failed');
  }

  async #grab(): Promise<void> {
    const signal = this.#grabStop.signal;
    const period = 1000 / this.#params.frameRate;
    const software = this.#params.triggerSource === 'SOFTWARE';
    let next = preciseNow();
    try {
      while (!signal.aborted) {
        if (software) {
          const wait = next - preciseNow();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          next = Math.max(next + period, preciseNow() - period);
          if (signal.aborted) break;
          await this.#camera.trigger();
        }
        let frame: Frame;
        try {
          frame = await this.#camera.grab({ signal });
        } catch (error) {
          if (signal.aborted) break;
          throw error;
        }
        this.#take(frame, period);
      }
    } finally {
      this.#grabDone = true;
      this.#wake?.();
    }
  }

  #take(frame: Frame, period: number): void {
    const hostTime = preciseNow();
    const cameraTime = frame.metadata.timestamp;
    if (this.#lastCameraTime !== undefined && this.#params.triggerSource !== 'EXTERNAL') {
      const gap = cameraTime - this.#lastCameraTime;
      if (gap > 1.5 * period) {
        const lost = Math.max(1, Math.round(gap / period) - 1);
        this.#drops += lost;
        if (++this.#gaps <= MAX_GAP_WARNINGS)
          this.log.warn(
            `${this.#params.camera}: ${lost} frame${lost === 1 ? '' : 's'} lost before camera frame ` +
              `${frame.metadata.frameNumber} (camera time jumped ${gap.toFixed(1)} ms, a frame is ${period.toFixed(1)} ms)` +
              (this.#gaps === MAX_GAP_WARNINGS ? '; further gaps are only counted' : ''),
          );
      }
    }
    this.#lastCameraTime = cameraTime;
    if (this.#firstFrameAt === undefined) {
      const us = frame.metadata.timestampUs;
      this.#firstFrameAt = typeof us === 'number' ? us / 1000 : cameraTime;
      this.#onFirstFrame?.();
    }
    this.#recent.push(hostTime);
    while (this.#recent.length > 2 && this.#recent[0]! < hostTime - 1000) this.#recent.shift();
    if (!this.#store) {
      this.#frames++;
      return;
    }
    const bytes = frame.data.byteLength;
    if (this.#queueBytes + bytes > QUEUE_BYTES && this.#queue.length > 0) {
      this.#drops++;
      return;
    }
    (frame.metadata as Record<string, unknown>).hostTime = hostTime;
    this.#queue.push(frame);
    this.#queueBytes += bytes;
    this.#wake?.();
  }

  async #write(): Promise<void> {
    if (!this.#store) return;
    let index = 0;
    for (;;) {
      const frame = this.#queue.shift();
      if (!frame) {
        if (this.#grabDone || this.#error !== undefined) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      this.#queueBytes -= frame.data.byteLength;
      if (this.#error !== undefined) continue;
      await this.#store.write(frame);
      const m = frame.metadata as Record<string, unknown>;
      this.#timestamps!.write(
        `${index},${frame.metadata.frameNumber},${frame.metadata.timestamp},${(m.hostTime as number).toFixed(3)}\n`,
      );
      index++;
      this.#frames++;
    }
  }

  #fps(): number {
    const r = this.#recent;
    if (r.length < 2 || this.ended) return 0;
    return ((r.length - 1) * 1000) / (r[r.length - 1]! - r[0]!);
  }

  async #openStore(): Promise<Store> {
    const dir = this.#directory;
    if (this.#params.format === 'mp4') {
      let movie: MovieEncoder | undefined;
      const path = join(dir, 'video.mp4');
      return {
        write: async (frame) => {
          if (!movie) {
            // 8-bit grey as it is (no contrast calibration); colour (rgb24) goes to ffmpeg as it is
            movie = await MovieEncoder.open(path, {
              fps: this.#params.frameRate,
              ...(frame.dtype === 'uint8' && frame.channels === undefined ? { contrast: { min: 0, max: 255 } } : {}),
            });
          }
          await movie.write(frame);
        },
        close: async () => {
          if (!movie) return [];
          await movie.close();
          return ['video.mp4'];
        },
        abort: async () => movie?.abort(),
      };
    }
    const writer = await MultiFileWriter.open(dir, { pattern: 'frames_{:06}.tif', bytesPerFile: TIFF_FILE_BYTES });
    return {
      write: (frame) => writer.write(frame),
      close: async () => {
        await writer.close();
        return writer.files.map((f) => f.slice(dir.length + 1));
      },
      abort: () => writer.abort(),
    };
  }

  async #writeMetadata(summary?: RecordingSummary): Promise<void> {
    const p = this.#params;
    const s = summary ?? { ...this.status(), files: [], bytes: 0, complete: false };
    const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
    const metadata = {
      format: 'concert-acquisition',
      version: 1,
      camera: p.camera,
      acquisition: p.acquisitionName,
      group: p.group,
      host: hostname(),
      pid: process.pid,
      versions: this.#versions,
      cameraKind: this.#camera.kind,
      settings: p.settings,
      parameters: await this.#camera.snapshot().catch(() => ({})),
      storage: p.format,
      frameRate: p.frameRate,
      triggerSource: p.triggerSource,
      maxAcquisitionTime: p.maxAcquisitionTime,
      conductor: p.conductor ?? null,
      state: s.state,
      reason: s.reason ?? null,
      error: s.error ?? null,
      startedAt: iso(s.startedAt),
      stoppedAt: iso(s.stoppedAt),
      startedAtMs: s.startedAt ?? null,
      stoppedAtMs: s.stoppedAt ?? null,
      duration: s.elapsed,
      frames: s.frames,
      drops: s.drops,
      files: s.files,
      bytes: s.bytes,
      complete: s.complete,
    };
    const path = join(this.#directory, 'metadata.json');
    await writeFile(`${path}${PARTIAL}`, `${JSON.stringify(metadata, null, 2)}\n`);
    await rename(`${path}${PARTIAL}`, path);
  }
}

/** How long `acquisition.start` waits for the first frame, to report its timestamp (ms). */
export function firstFrameWaitMs(frameRate: number): number {
  return Math.min(2000, Math.max(250, 3000 / frameRate));
}

/**
 * Ends a file stream and waits until its file is closed. (Not `destroy()`: destroyed while a write
 * is on the thread pool, an fs stream emits ERR_STREAM_DESTROYED as an 'error' event.)
 */
export function endStream(stream: WriteStream): Promise<void> {
  if (stream.errored) return Promise.reject(stream.errored);
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.once('close', () => resolve());
    stream.end();
  });
}
