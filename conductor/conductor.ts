/**
 * `Conductor`: one object that records with many remote camera servers from one validated
 * configuration. Every step is confirmed: `create()` connects to every camera server, checks it
 * answers and applies its settings (a refused setting names the camera); `startAcquisition()`
 * starts all cameras together at one scheduled instant and reports the start skew;
 * `stopAcquisition()` waits for every camera's final counts and closed files. Camera logs and
 * heartbeats arrive over ZeroMQ PUB/SUB; a camera that falls silent is reported lost within the
 * control timeout.
 * @module
 */
import { hostname } from 'node:os';
import {
  DEVICE_OPTIONS,
  Device,
  errorMessage,
  preciseNow,
  sleep,
  transition,
  z,
  type LogLevel,
} from '../core/index.js';
import {
  curveClientOptions,
  curveServerOptions,
  EventSubscriber,
  tcpEndpoint,
  type CurveClientOptions,
} from '../transport/zmq/index.js';
import { CameraLink } from './camera-link.js';
import { loadConfig, validateConfig } from './config/load.js';
import { acquisitionGroupOf, isValidName, NAME_WORDS, resolveCamera, type ConductorConfig } from './config/schema.js';
import { ConductorError } from './errors.js';
import { ConductorLog } from './log-file.js';
import { firstFrameWaitMs } from './host/recording.js';
import type { Heartbeat, LogEvent, RecordingState, RecordingSummary, StartResult } from './protocol.js';

/** A camera server that woke later than this for the start instant is named in a warning (ms). */
const LATE_WARNING_MS = 5;
/** The least time between sending the start and the instant the cameras start (ms). */
const START_MARGIN_MS = 50;

/** The options of {@link Conductor.create}. */
export const CONDUCTOR_OPTIONS = DEVICE_OPTIONS.extend({
  /** A configuration file (TOML, YAML, JSON) or the configuration itself. */
  config: z.union([z.string(), z.record(z.string(), z.unknown())]),
  /** The log file (default: the configuration's log.file). */
  logFile: z.string().optional(),
});

/** Options of {@link Conductor.create}. */
export type ConductorOptions = z.input<typeof CONDUCTOR_OPTIONS>;

/** Conductor states. */
export type ConductorState = 'standby' | 'starting' | 'recording' | 'stopping' | 'error';

/** One camera in {@link Conductor.status}. */
export interface CameraStatus {
  endpoint: string;
  host: string;
  state: RecordingState | 'lost';
  frames: number;
  drops: number;
  fps: number;
  elapsed: number;
  error?: string;
}

/** What {@link Conductor.status} answers. */
export interface ConductorStatus {
  state: string;
  acquisition?: string;
  cameras: Record<string, CameraStatus>;
}

/** What {@link Conductor.startAcquisition} answers. */
export interface StartReport {
  acquisition: string;
  group: string;
  /** Latest minus earliest camera start, conductor clock (ms). */
  skewMs: number;
  /** What the skew was measured from: the cameras' first-frame timestamps, or their start times. */
  skewFrom: 'firstFrame' | 'start';
  cameras: Record<
    string,
    {
      host: string;
      directory: string;
      /** The start instant asked of the camera, host clock (ms since the epoch). */
      askedAt: number;
      /** When the camera server's wait for that instant ended, host clock. */
      wokeAt?: number;
      /** When the camera started recording, host clock (ms since the epoch). */
      startedAt: number;
      /** The camera's timestamp of its first frame, host clock. */
      firstFrameAt?: number;
      /** After the earliest camera, ms. */
      offsetMs: number;
      /**
       * How late the camera server woke for the start instant, ms (0: on time): a start request
       * that arrived late, or a server that got no core at the instant (a loaded host).
       */
      lateMs: number;
    }
  >;
}

/** One camera in an {@link AcquisitionSummary}. */
export interface CameraSummary extends Partial<RecordingSummary> {
  lost?: string;
  complete: boolean;
}

/** What {@link Conductor.stopAcquisition} answers. */
export interface AcquisitionSummary {
  acquisition: string;
  group: string;
  skewMs: number;
  /** Every camera complete and none lost. */
  complete: boolean;
  cameras: Record<string, CameraSummary>;
}

/** An event of the conductor. */
export type ConductorEvent =
  | { type: 'cameraLost'; camera: string; reason: string }
  | { type: 'cameraEnded'; camera: string; status: Heartbeat }
  | { type: 'log'; line: LogEvent };

/**
 * Records with many camera servers at once.
 * @example
 * ```ts
 * const conductor = await Conductor.create({ config: 'conductor.toml' });
 * await conductor.startAcquisition({ name: 'mouse12__day3' });
 * await sleep(20_000);
 * const summary = await conductor.stopAcquisition();   // per camera: frames, drops, files, complete
 * ```
 */
export class Conductor extends Device {
  static override readonly options = CONDUCTOR_OPTIONS;
  readonly state = this.stateParameter<ConductorState>({ initial: 'standby' });
  readonly #options: ConductorOptions;
  #config!: ConductorConfig;
  #source = 'configuration';
  #links: CameraLink[] = [];
  #events: EventSubscriber | undefined;
  #file: ConductorLog | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #listeners = new Set<(event: ConductorEvent) => void>();
  #acquisition: StartReport | undefined;
  #stopAll: Promise<unknown> | undefined;
  #lastSummary: AcquisitionSummary | undefined;

  constructor(options: ConductorOptions) {
    super({ name: options.name ?? 'conductor' });
    this.#options = options;
  }

  /** The configuration, defaults filled in. */
  get config(): ConductorConfig {
    return this.#config;
  }

  /** The cameras' names, in the configuration's order. */
  get cameras(): string[] {
    return this.#links.map((l) => l.name);
  }

  /** The log file the camera lines go to. */
  get logFile(): string | undefined {
    return this.#file?.path;
  }

  /** The endpoint camera servers send logs and heartbeats to. */
  get eventsEndpoint(): string | undefined {
    return this.#events?.endpoint;
  }

  /** Listens to lost cameras, cameras that ended by themselves, and camera log lines. */
  onEvent(listener: (event: ConductorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  protected override async connect(): Promise<void> {
    const o = this.#options;
    if (typeof o.config === 'string') {
      this.#source = o.config;
      this.#config = await loadConfig(o.config);
    } else this.#config = validateConfig(o.config);
    const config = this.#config;
    this.#file = new ConductorLog(o.logFile ?? config.log.file, config.log.level);
    this.#note('info', `conductor on ${hostname()} (pid ${process.pid}) with ${this.#source}`);
    let curve: CurveClientOptions | undefined;
    try {
      const keys = config.control.curveKeys;
      curve = keys ? await curveClientOptions(keys) : undefined;
      this.#events = await EventSubscriber.create({
        bind: tcpEndpoint(config.control.port || undefined, config.control.address),
        curve: keys ? await curveServerOptions(keys) : undefined,
      });
      void this.#listen(this.#events);
      const timeoutMs = config.control.timeout * 1000;
      this.#links = await Promise.all(
        Object.keys(config.cameras).map((name) => CameraLink.open(resolveCamera(config, name), timeoutMs, curve)),
      );
      const failures = new Map<string, string>();
      const refusals: string[] = [];
      await Promise.all(
        this.#links.map(async (link) => {
          try {
            const info = await link.attach(this.#events!.endpoint);
            if (info.recording)
              failures.set(
                link.name,
                `still recording acquisition '${info.recording.acquisition}' (started by an earlier conductor): ` +
                  'stop it with concert conductor stop, or wait for its maxAcquisitionTime',
              );
            else refusals.push(...(await link.applySettings()));
          } catch (error) {
            failures.set(link.name, `${link.config.endpoint}: ${errorMessage(error)}`);
          }
        }),
      );
      if (failures.size || refusals.length) {
        const lines = [...[...failures].map(([n, e]) => `cameras.${n}: ${e}`), ...refusals];
        throw new ConductorError(
          `${this.name}: ${lines.length === 1 ? 'a camera is' : `${lines.length} problems with the cameras`} ` +
            `not ready (nothing was started):\n  ${lines.join('\n  ')}`,
          new Map([...failures, ...refusals.map((r) => [r.split('.')[1]!, r] as [string, string])]),
        );
      }
      for (const link of this.#links)
        this.#note(
          'info',
          `camera '${link.name}' ready: ${link.config.endpoint} on ${link.info!.host} (${link.info!.kind}), ` +
            `round trip ${link.rttMs.toFixed(2)} ms, clock offset ${link.offsetMs.toFixed(1)} ms`,
        );
      this.#watchdog = setInterval(() => this.#watch(), 100);
      this.#watchdog.unref();
    } catch (error) {
      await this.#closeAll();
      throw error;
    }
  }

  /** Each camera's state, frames, drops and rate (from the newest heartbeats: no request is sent). */
  async status(): Promise<ConductorStatus> {
    const cameras: Record<string, CameraStatus> = {};
    for (const l of this.#links) {
      const h = l.heartbeat;
      cameras[l.name] = {
        endpoint: l.config.endpoint,
        host: l.info?.host ?? '?',
        state: l.lost ? 'lost' : (h?.state ?? 'idle'),
        frames: h?.frames ?? 0,
        drops: h?.drops ?? 0,
        fps: l.lost ? 0 : (h?.fps ?? 0),
        elapsed: h?.elapsed ?? 0,
        ...(l.lost || h?.error ? { error: l.lost ?? h?.error } : {}),
      };
    }
    return {
      state: this.state.current,
      ...(this.#acquisition ? { acquisition: this.#acquisition.acquisition } : {}),
      cameras,
    };
  }

  /**
   * Starts recording on every camera at one scheduled instant; each camera server records on its
   * own host. Resolves once every camera has confirmed, with the measured start skew.
   * @throws ConductorError naming each camera that could not start (the others are stopped again).
   */
  @transition({ source: ['standby'], immediate: 'starting', target: 'recording', failed: () => 'standby' })
  async startAcquisition(options: { name?: string } = {}): Promise<StartReport> {
    const config = this.#config;
    const name = options.name ?? config.general.acquisitionName;
    if (!name)
      throw new ConductorError(
        `${this.name}.startAcquisition: no acquisition name (give { name }, --acquisition-name or general.acquisitionName)`,
      );
    if (!isValidName(name))
      throw new ConductorError(
        `${this.name}.startAcquisition: acquisition name ${JSON.stringify(name)} must be ${NAME_WORDS}`,
      );
    const lost = this.#links.filter((l) => l.lost);
    if (lost.length)
      throw new ConductorError(
        `${this.name}: ${lost.map((l) => `camera '${l.name}' is lost (${l.lost})`).join('; ')}: create a new conductor once it is back`,
      );
    const group = acquisitionGroupOf(name, config.general.acquisitionGroup);
    const timeoutMs = config.control.timeout * 1000;
    // 1. arm: every camera prepares its folder and files; nothing is recorded yet
    const armed = await Promise.allSettled(
      this.#links.map((l) =>
        l.arm(
          {
            camera: l.name,
            acquisitionName: name,
            group,
            dataPath: config.general.dataPath,
            saveData: l.config.saveData,
            format: l.config.format,
            maxAcquisitionTime: config.general.maxAcquisitionTime,
            frameRate: l.config.frameRate,
            triggerSource: l.config.triggerSource,
            settings: { ...l.config },
            conductor: { host: hostname(), pid: process.pid, configuration: this.#source },
          },
          timeoutMs,
        ),
      ),
    );
    await this.#failedToStart(name, 'be armed', armed);
    // 2. start: one instant of the conductor's clock, sent in each host's clock (offsets measured
    // just now), far enough ahead for every request to arrive; each server waits for it precisely
    let results: PromiseSettledResult<StartResult>[];
    let startAt = 0;
    try {
      // one camera at a time: replies of the others in flight would delay the stamps of each
      // round trip unevenly, and an offset wrong by d starts that camera d late unseen
      for (const l of this.#links) await l.measureClock(5);
      const margin = Math.max(START_MARGIN_MS, 8 * Math.max(...this.#links.map((l) => l.rttMs)));
      startAt = preciseNow() + margin;
      const wait = Math.max(...this.#links.map((l) => firstFrameWaitMs(l.config.frameRate)));
      results = await Promise.allSettled(
        this.#links.map((l) => l.start(startAt + l.offsetMs, timeoutMs + margin + wait)),
      );
    } catch (error) {
      results = this.#links.map(() => ({ status: 'rejected', reason: error }));
    }
    await this.#failedToStart(name, 'start', results);
    const values = results.map((r) => (r as PromiseFulfilledResult<StartResult>).value);
    // the skew: from the cameras' own first-frame timestamps when every camera has one
    const fromFrames = values.every((v) => v.firstFrameAt !== undefined);
    const starts = values.map((v, i) => (fromFrames ? v.firstFrameAt! : v.startedAt) - this.#links[i]!.offsetMs);
    const first = Math.min(...starts);
    const report: StartReport = {
      acquisition: name,
      group,
      skewMs: Math.max(...starts) - first,
      skewFrom: fromFrames ? 'firstFrame' : 'start',
      cameras: {},
    };
    values.forEach((v, i) => {
      const l = this.#links[i]!;
      report.cameras[l.name] = {
        host: v.host,
        directory: v.directory,
        askedAt: startAt + l.offsetMs,
        ...(v.wokeAt === undefined ? {} : { wokeAt: v.wokeAt }),
        startedAt: v.startedAt,
        ...(v.firstFrameAt === undefined ? {} : { firstFrameAt: v.firstFrameAt }),
        offsetMs: starts[i]! - first,
        lateMs: v.lateMs,
      };
      // heartbeats of an earlier acquisition say nothing about this one
      l.heartbeat = {
        state: 'recording',
        acquisition: name,
        frames: 0,
        drops: 0,
        fps: 0,
        elapsed: 0,
        camera: l.name,
        pid: l.info?.pid ?? 0,
      };
    });
    const late = values
      .map((v, i) => [this.#links[i]!.name, v.lateMs] as const)
      .filter(([, ms]) => ms > LATE_WARNING_MS);
    if (late.length)
      this.#note(
        'warn',
        `'${name}' started late on ${late.map(([n, ms]) => `${n} (${ms.toFixed(1)} ms)`).join(', ')}: ` +
          'the camera server woke after the instant asked for (a loaded host?)',
      );
    this.#acquisition = report;
    this.#stopAll = undefined;
    this.#note(
      'info',
      `acquisition '${name}' started on ${this.#links.length} cameras, start skew ${report.skewMs.toFixed(2)} ms ` +
        `(${fromFrames ? "the cameras' first-frame timestamps" : 'start times'}) ` +
        `(${this.#links.map((l) => `${l.name} +${report.cameras[l.name]!.offsetMs.toFixed(2)}`).join(', ')})`,
    );
    return report;
  }

  /**
   * Throws, naming each camera that failed, after stopping (or disarming) the others, when any
   * of `results` was rejected.
   */
  async #failedToStart(name: string, step: string, results: PromiseSettledResult<unknown>[]): Promise<void> {
    const failed = new Map<string, string>();
    results.forEach((r, i) => {
      if (r.status === 'rejected') failed.set(this.#links[i]!.name, errorMessage(r.reason));
    });
    if (!failed.size) return;
    const timeoutMs = this.#config.control.timeout * 1000;
    // stop also disarms a camera that was armed but did not start (its folder goes away)
    await Promise.all(
      this.#links.map((l) =>
        failed.has(l.name) && step === 'be armed' ? undefined : l.stop(timeoutMs).catch(() => undefined),
      ),
    );
    const lines = [...failed].map(([n, e]) => `${n}: ${e}`);
    for (const line of lines) this.#note('error', `'${name}' could not ${step} on ${line}`);
    throw new ConductorError(
      `${this.name}: acquisition '${name}' could not ${step} on ${failed.size} of ${this.#links.length} cameras ` +
        `(the others were stopped):\n  ${lines.join('\n  ')}`,
      failed,
    );
  }

  /**
   * Stops every camera and waits for its final counts and closed files.
   * @returns per camera: frames, drops, files, complete (a lost camera: why).
   */
  @transition({ source: ['recording'], immediate: 'stopping', target: 'standby', failed: () => 'standby' })
  async stopAcquisition(): Promise<AcquisitionSummary> {
    const report = this.#acquisition!;
    const timeoutMs = this.#config.control.timeout * 1000 + 120_000;
    const cameras: Record<string, CameraSummary> = {};
    await Promise.all(
      this.#links.map(async (l) => {
        if (l.lost) {
          cameras[l.name] = { lost: l.lost, complete: false, frames: l.heartbeat?.frames ?? 0 };
          return;
        }
        try {
          cameras[l.name] = await l.stop(timeoutMs);
        } catch (error) {
          cameras[l.name] = { complete: false, error: errorMessage(error), frames: l.heartbeat?.frames ?? 0 };
        }
      }),
    );
    const ordered: Record<string, CameraSummary> = {};
    for (const l of this.#links) ordered[l.name] = cameras[l.name]!;
    const summary: AcquisitionSummary = {
      acquisition: report.acquisition,
      group: report.group,
      skewMs: report.skewMs,
      complete: Object.values(ordered).every((c) => c.complete),
      cameras: ordered,
    };
    this.#acquisition = undefined;
    this.#lastSummary = summary;
    for (const [n, c] of Object.entries(ordered))
      this.#note(
        c.complete ? 'info' : 'error',
        `'${summary.acquisition}' on ${n}: ` +
          (c.lost
            ? `lost (${c.lost})`
            : `${c.frames} frames, ${c.drops} dropped, ${c.reason}, ` +
              (c.complete ? 'complete' : `INCOMPLETE${c.error ? `: ${c.error}` : ''}`)),
      );
    return summary;
  }

  /**
   * Records for `durationMs` (or until every camera ended by itself, or `signal` aborts), then
   * stops and returns the summary. `onStatus` is called about twice a second.
   */
  async record(
    options: { name?: string; durationMs?: number; signal?: AbortSignal; onStatus?: (s: ConductorStatus) => void } = {},
  ): Promise<{ start: StartReport; summary: AcquisitionSummary; interrupted: boolean }> {
    const start = await this.startAcquisition({ name: options.name });
    const until = options.durationMs === undefined ? Infinity : performance.now() + options.durationMs;
    let interrupted = false;
    try {
      while (performance.now() < until && this.state.current === 'recording') {
        const s = await this.status();
        options.onStatus?.(s);
        const states = Object.values(s.cameras).map((c) => c.state);
        if (states.every((x) => x === 'done' || x === 'failed' || x === 'lost')) break;
        await sleep(Math.min(500, Math.max(0, until - performance.now())), options.signal);
      }
    } catch (error) {
      if (!options.signal?.aborted) throw error;
      interrupted = true;
    }
    let summary: AcquisitionSummary;
    if (this.state.current === 'recording') summary = await this.stopAcquisition();
    else {
      await this.#stopAll;
      summary = this.#lastSummary!;
    }
    options.onStatus?.(await this.status());
    return { start, summary, interrupted };
  }

  protected override async stopHook(): Promise<void> {
    if (this.state.current === 'recording') await this.stopAcquisition().catch(() => undefined);
  }

  protected override async disconnectHook(): Promise<void> {
    if (this.state.current === 'recording') await this.stopAcquisition().catch(() => undefined);
    await this.#closeAll();
  }

  async #closeAll(): Promise<void> {
    clearInterval(this.#watchdog);
    await Promise.all(this.#links.map((l) => l.close()));
    this.#events?.close();
    await this.#file?.close();
  }

  async #listen(events: EventSubscriber): Promise<void> {
    for await (const { topic, body } of events) {
      if (topic === 'log') {
        const line = body as LogEvent;
        this.#file?.write(line.level, String(line.camera), `${line.source}: ${line.message}`, line.time);
        this.#emit({ type: 'log', line });
      } else if (topic === 'status') {
        const beat = body as Heartbeat;
        const link = this.#links.find((l) => l.name === beat.camera);
        if (!link || link.lost) continue;
        link.lastSeen = performance.now();
        // a late heartbeat of an earlier acquisition says nothing about this one
        if (this.#acquisition && beat.acquisition !== this.#acquisition.acquisition) continue;
        const before = link.heartbeat?.state;
        link.heartbeat = beat;
        if (this.#acquisition && (beat.state === 'done' || beat.state === 'failed') && before !== beat.state) {
          this.#note(
            beat.state === 'failed' ? 'error' : 'info',
            `camera '${link.name}' ended '${beat.acquisition}' by itself ` +
              `(${beat.reason}${beat.error ? `: ${beat.error}` : ''}): ${beat.frames} frames`,
          );
          this.#emit({ type: 'cameraEnded', camera: link.name, status: beat });
        }
      }
    }
  }

  #watch(): void {
    const timeoutMs = this.#config.control.timeout * 1000;
    const now = performance.now();
    for (const l of this.#links) {
      if (l.lost || now - l.lastSeen <= timeoutMs) continue;
      l.lost = `no heartbeat from ${l.config.endpoint} for ${Math.round(now - l.lastSeen)} ms (control timeout ${timeoutMs} ms)`;
      this.#note('error', `camera '${l.name}' lost: ${l.lost}`);
      this.#emit({ type: 'cameraLost', camera: l.name, reason: l.lost });
      if (this.#acquisition && this.#config.general.onCameraLost === 'stopAll' && this.state.current === 'recording') {
        this.#note('warn', `onCameraLost is 'stopAll': stopping every camera`);
        this.#stopAll ??= this.stopAcquisition().catch((error: unknown) => this.#note('error', errorMessage(error)));
      }
    }
  }

  #emit(event: ConductorEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(event);
      } catch (error) {
        this.log.error(`an event listener failed: ${errorMessage(error)}`, error);
      }
    }
  }

  #note(level: LogLevel, message: string): void {
    this.#file?.write(level, 'conductor', message);
    if (level === 'error') this.log.error(message);
    else if (level === 'warn') this.log.warn(message);
    else if (level === 'info') this.log.info(message);
    else this.log.debug(message);
  }
}
