/**
 * The conductor's commands on a camera server (`concert serve camera` installs them): a
 * conductor attaches (the server then streams its log lines and a heartbeat to the conductor
 * over PUB/SUB), reads the clock, and starts and stops recordings that the server writes on its
 * own host. The server enforces `maxAcquisitionTime` itself, so a conductor that dies never
 * leaves the camera recording.
 * @module
 */
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { errorMessage, Logger, parseOptions, setLogSink, z, type LogSink } from '../../core/index.js';
import type { CameraServer } from '../../devices/cameras/server.js';
import { EventPublisher, type CurveClientOptions } from '../../transport/zmq/index.js';
import { preciseNow } from '../../walkers/formats/index.js';
import type {
  ArmResult,
  AttachResult,
  Heartbeat,
  LogEvent,
  RecordingStatus,
  RecordingSummary,
  StartResult,
} from '../protocol.js';
import { Recording } from './recording.js';

/** Options of {@link AcquisitionRecorder}. */
export interface RecorderOptions {
  /** Recordings go inside this folder (default: the working directory). */
  root?: string;
  /** CURVE client keys for the connection to the conductor's event socket. */
  curve?: CurveClientOptions;
}

const ATTACH_PARAMS = z.strictObject({
  name: z.string().min(1).max(120),
  events: z.string().regex(/^(tcp|ipc):\/\/./),
  heartbeatMs: z.number().int().min(20).max(10_000).optional(),
});

const ARM_PARAMS = z.strictObject({
  camera: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/),
  acquisitionName: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/),
  group: z.union([z.literal(''), z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/)]),
  dataPath: z.string().min(1),
  saveData: z.boolean(),
  format: z.enum(['tiff', 'mp4']),
  maxAcquisitionTime: z.number().min(0).max(7200),
  frameRate: z.number().positive().max(100_000),
  triggerSource: z.enum(['AUTO', 'SOFTWARE', 'EXTERNAL']),
  settings: z.record(z.string(), z.unknown()),
  conductor: z.record(z.string(), z.unknown()).optional(),
});

const START_PARAMS = z.strictObject({
  /** Host clock, ms since the epoch. */
  startAt: z.number().optional(),
});

/** Versions recorded in metadata.json. */
function versions(): Record<string, string> {
  let concert = 'unknown';
  try {
    concert = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    // keep 'unknown'
  }
  return { concert, node: process.version };
}

/** Installs the conductor's commands on a camera server. */
export class AcquisitionRecorder {
  readonly log = new Logger('camera server');
  readonly #server: CameraServer;
  readonly #root: string;
  readonly #curve: CurveClientOptions | undefined;
  readonly #versions = versions();
  #recording: Recording | undefined;
  #attached:
    { name: string; events: EventPublisher; timer: NodeJS.Timeout; previousSink: LogSink | undefined } | undefined;

  constructor(server: CameraServer, options: RecorderOptions = {}) {
    this.#server = server;
    this.#root = resolve(options.root ?? process.cwd());
    this.#curve = options.curve;
  }

  /** Registers `clock`, `conductor.attach|detach` and `acquisition.arm|start|stop|status`. */
  install(): this {
    const s = this.#server;
    s.handle('clock', () => ({ now: preciseNow() }));
    s.handle('conductor.attach', (p) => this.#attach(p));
    s.handle('conductor.detach', () => this.#detach());
    s.handle('acquisition.arm', (p) => this.#arm(p));
    s.handle('acquisition.start', (p) => this.#start(p));
    s.handle('acquisition.stop', () => this.#stop());
    s.handle('acquisition.status', () => this.status());
    s.onStop(async () => {
      if (this.#recording && !this.#recording.ended) await this.#recording.stop('server stopped');
      await this.#detach();
    });
    return this;
  }

  /** The current (or last) recording's status. */
  status(): RecordingStatus {
    return this.#recording?.status() ?? { state: 'idle', frames: 0, drops: 0, fps: 0, elapsed: 0 };
  }

  async #attach(params: unknown): Promise<AttachResult> {
    const p = parseOptions('conductor.attach', ATTACH_PARAMS, params);
    if (this.#attached) {
      this.log.warn(`conductor for '${this.#attached.name}' replaced by one for '${p.name}'`);
      await this.#detach();
    }
    const events = await EventPublisher.create({ connect: p.events, curve: this.#curve });
    const name = p.name;
    const previousSink = setLogSink(undefined);
    const sink: LogSink = (level, source, message, error) => {
      previousSink?.(level, source, message, error);
      const line: LogEvent = {
        camera: name,
        level,
        source,
        message: error === undefined ? message : `${message}: ${errorMessage(error)}`,
        time: Date.now(),
      };
      events.publish('log', line);
    };
    setLogSink(sink);
    const beat = () => {
      if (this.#recording?.quiet(preciseNow())) return;
      const status: Heartbeat = { ...this.status(), camera: name, pid: process.pid };
      events.publish('status', status);
    };
    const timer = setInterval(beat, p.heartbeatMs ?? 250);
    timer.unref();
    this.#attached = { name, events, timer, previousSink };
    beat();
    this.log.info(`attached to the conductor at ${p.events} as '${name}'`);
    const camera = this.#server.camera;
    const running = this.#recording && !this.#recording.ended ? this.#recording.status() : undefined;
    return {
      host: hostname(),
      pid: process.pid,
      kind: camera.kind,
      parameters: camera.parameters().map((x) => x.name),
      versions: this.#versions,
      ...(running ? { recording: running } : {}),
    };
  }

  async #detach(): Promise<void> {
    const a = this.#attached;
    if (!a) return;
    this.#attached = undefined;
    clearInterval(a.timer);
    setLogSink(a.previousSink);
    await a.events.close();
  }

  async #arm(params: unknown): Promise<ArmResult> {
    const p = parseOptions('acquisition.arm', ARM_PARAMS, params);
    if (this.#recording && !this.#recording.ended)
      throw new Error(
        `${p.camera} is still ${this.#recording.status().state} for acquisition '${this.#recording.acquisition}': ` +
          'stop it first (acquisition.stop)',
      );
    const directory = this.#directoryOf(p.dataPath, p.group, p.acquisitionName, p.camera);
    const recording = new Recording(this.#server.camera, p, directory, this.#versions);
    recording.onEnd = (summary) => this.#ended(p.camera, summary);
    this.#recording = recording;
    try {
      await recording.arm();
    } catch (error) {
      this.#recording = undefined;
      throw error;
    }
    return { directory: p.saveData ? directory : '', host: hostname() };
  }

  /** Starts the armed recording at `startAt`; given the arm parameters too, arms it first. */
  async #start(params: unknown): Promise<StartResult> {
    const { startAt, ...rest } = (params ?? {}) as { startAt?: unknown };
    const at = parseOptions('acquisition.start', START_PARAMS, { startAt }).startAt;
    const armed = Object.keys(rest).length ? await this.#arm(rest) : undefined;
    const r = this.#recording;
    if (!r || r.ended || r.status().state !== 'armed')
      throw new Error(
        r && !r.ended
          ? `acquisition '${r.acquisition}' is already ${r.status().state}`
          : 'no acquisition is armed on this camera server (acquisition.arm first)',
      );
    const timing = await r.start(at);
    return { ...timing, directory: r.status().directory ?? '', host: armed?.host ?? hostname() };
  }

  #ended(camera: string, summary: RecordingSummary): void {
    this.#attached?.events.publish('status', { ...summary, camera, pid: process.pid } satisfies Heartbeat);
  }

  async #stop(): Promise<RecordingSummary> {
    const r = this.#recording;
    if (!r) throw new Error('no acquisition was started on this camera server');
    return r.stop('stopped');
  }

  #directoryOf(dataPath: string, group: string, name: string, camera: string): string {
    const expanded = dataPath === '~' || dataPath.startsWith('~/') ? join(homedir(), dataPath.slice(1)) : dataPath;
    const base = isAbsolute(expanded) ? resolve(expanded) : resolve(this.#root, expanded);
    const inside = relative(this.#root, base);
    if (inside.startsWith('..') || isAbsolute(inside))
      throw new Error(
        `dataPath ${dataPath} is outside this camera server's root ${this.#root} ` +
          '(start it with --root covering it, or use a relative dataPath)',
      );
    return join(base, group, name, camera);
  }
}
