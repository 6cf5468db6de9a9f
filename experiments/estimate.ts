/**
 * Dry runs: what a run of an experiment would take — frames, bytes per addon, duration — and
 * every limit it would hit, found without moving hardware or taking frames
 * (`await experiment.estimate()`). Devices answer through their own hooks (a motor's
 * `estimateMove`, a camera's `estimateFrames`), acquisitions through their `plan`, addons through
 * their `estimate`; the {@link PlanContext} carries the simulated positions from one step to the next.
 * @module
 */
import { inspect } from 'node:util';
import { errorMessage, type DType } from '../core/index.js';
import type { Camera, FrameEstimate } from '../devices/cameras/index.js';
import type { Motor } from '../devices/motors/index.js';
import type { DatasetOptions, Walker } from '../walkers/index.js';

/** A frame as far as its size goes: shape, dtype and metadata (no pixels). */
export interface PlannedFrame {
  readonly shape: readonly [height: number, width: number];
  readonly dtype: DType;
  readonly metadata: Record<string, unknown>;
}

/** What an acquisition's plan says a run of it would do. */
export interface AcquisitionPlan {
  /** Frames the run yields. */
  frames: number;
  /** How long it takes (ms), as far as known (see `unknown`). */
  durationMs: number;
  /** Frame `i` as the run yields it (undefined: the acquisition cannot say; bytes are then unknown). */
  frame?: (index: number) => PlannedFrame;
  /** What the duration leaves out because a device cannot tell (e.g. a motor without a speed). */
  unknown?: string[];
}

/** The frames of `plan`, one by one (undefined: the plan does not say what they look like). */
export function plannedFrames(plan: AcquisitionPlan): Iterable<PlannedFrame> | undefined {
  const frame = plan.frame;
  if (!frame) return undefined;
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < plan.frames; i++) yield frame(i);
    },
  };
}

/** An estimate whose bytes are unknown, saying why. */
export function unknownBytes(note: string): AddonEstimate {
  return { bytes: undefined, exact: false, note };
}

/**
 * What `walker` would write for dataset `name` of `plan`'s frames (the writers' estimate): its
 * `estimateDataset`, or unknown bytes saying why.
 */
export async function datasetEstimate(
  walker: Walker,
  name: string,
  plan: AcquisitionPlan,
  options?: DatasetOptions,
): Promise<AddonEstimate> {
  const frames = plannedFrames(plan);
  if (!frames) return unknownBytes(`acquisition '${name}' does not say what its frames look like`);
  return (
    (await walker.estimateDataset(name, frames, options)) ??
    unknownBytes(`${walker.constructor.name} cannot estimate its datasets`)
  );
}

/** What an addon would write for one acquisition. */
export interface AddonEstimate {
  /** Bytes it would write (undefined: unknown, see `note`). */
  bytes: number | undefined;
  /** Files it would write. */
  files?: number;
  /** True when `bytes` is exact (the TIFF writers), false for an estimate. */
  exact: boolean;
  /** Where the bytes go, checked for free space. */
  storage?: Storage;
  /** How the figure was made or why it is missing. */
  note?: string;
}

/** A file system data goes to: its name in messages and how much room it has. */
export interface Storage {
  /** A directory (`/data`) or a server's (`tcp://…:5000 /data`). */
  readonly where: string;
  /** Free bytes there. */
  free(): Promise<number>;
}

/** A limit a run would hit: what (a device, an addon, a server) and the message. */
export interface Limit {
  /** The device, addon or walker concerned. */
  source: string;
  message: string;
}

/** One acquisition of an {@link ExperimentEstimate}. */
export interface AcquisitionEstimate {
  name: string;
  frames: number;
  durationMs: number;
  /** Per addon name. */
  addons: Record<string, AddonEstimate>;
}

/** The figures of a whole run, as `run.result.estimate` also carries them. */
export interface EstimateTotals {
  frames: number;
  durationMs: number;
  /** Bytes per addon over all acquisitions (undefined where unknown). */
  bytes: Record<string, number | undefined>;
}

/**
 * The report of a dry run: per acquisition and in total the frames, bytes per addon and
 * duration, and every limit the run would hit. Printed at the prompt as a table.
 */
export class ExperimentEstimate {
  constructor(
    /** The experiment's name. */
    readonly experiment: string,
    readonly acquisitions: AcquisitionEstimate[],
    /** Before the first and after the last acquisition (moving motors back, …), ms. */
    readonly overheadMs: number,
    readonly limits: Limit[],
    /** What the figures leave out, and how they were made. */
    readonly notes: string[],
    /** How long the estimate itself took, ms. */
    readonly tookMs: number,
  ) {}

  /** True when the run would hit no limit. */
  get ok(): boolean {
    return this.limits.length === 0;
  }

  /** The totals over all acquisitions. */
  get total(): EstimateTotals {
    const bytes: Record<string, number | undefined> = {};
    for (const a of this.acquisitions)
      for (const [name, e] of Object.entries(a.addons))
        bytes[name] = name in bytes && bytes[name] === undefined ? undefined : addKnown(bytes[name] ?? 0, e.bytes);
    return {
      frames: this.acquisitions.reduce((n, a) => n + a.frames, 0),
      durationMs: this.acquisitions.reduce((n, a) => n + a.durationMs, this.overheadMs),
      bytes,
    };
  }

  /** The plain data (what `experiment_finish.json` records). */
  toJSON(): Record<string, unknown> {
    return {
      experiment: this.experiment,
      acquisitions: this.acquisitions,
      overheadMs: this.overheadMs,
      total: this.total,
      limits: this.limits,
      notes: this.notes,
    };
  }

  /** The table the prompt prints. */
  toString(): string {
    const addons = [...new Set(this.acquisitions.flatMap((a) => Object.keys(a.addons)))];
    const header = ['acquisition', 'frames', 'duration', ...addons];
    const rows = this.acquisitions.map((a) => [
      a.name,
      String(a.frames),
      formatDuration(a.durationMs),
      ...addons.map((n) => describeBytes(a.addons[n])),
    ]);
    const total = this.total;
    if (this.overheadMs > 0)
      rows.push(['(setup, restore)', '', formatDuration(this.overheadMs), ...addons.map(() => '')]);
    rows.push([
      'total',
      String(total.frames),
      formatDuration(total.durationMs),
      ...addons.map((n) => (total.bytes[n] === undefined ? '?' : formatBytes(total.bytes[n]))),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    const out = [
      `Estimate of ${this.experiment} (${this.ok ? 'no limits hit' : `${this.limits.length} limit(s) hit`}):`,
      line(header),
      line(widths.map((w) => '-'.repeat(w))),
      ...rows.slice(0, -1).map(line),
      line(widths.map((w) => '-'.repeat(w))),
      line(rows.at(-1)!),
    ];
    if (this.limits.length) out.push('Limits:', ...this.limits.map((l) => `  ✗ ${l.message}`));
    if (this.notes.length) out.push('Notes:', ...this.notes.map((n) => `  · ${n}`));
    return out.join('\n');
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function addKnown(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

function describeBytes(e: AddonEstimate | undefined): string {
  if (!e) return '';
  if (e.bytes === undefined) return '?';
  return `${e.exact ? '' : '≈'}${formatBytes(e.bytes)}${e.files !== undefined ? ` (${e.files} file${e.files === 1 ? '' : 's'})` : ''}`;
}

/** `1.5 GiB`, `312 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[i]}`;
}

/** `1 h 02 min`, `3.2 s`, `15 ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A move for {@link PlanContext.move}: a motor and its target in its position unit. */
export interface PlannedMove {
  readonly motor: Motor;
  readonly target: number;
}

/**
 * The state a dry run carries from one step to the next: where each motor would be, whether
 * the sample is exposed, what the cameras deliver, the bytes going to each file system, and
 * the limits and notes found on the way. Nothing here moves a device.
 */
export class PlanContext {
  readonly limits: Limit[] = [];
  readonly notes: string[] = [];
  readonly #seen = new Set<string>();
  readonly #positions = new Map<Motor, number>();
  readonly #initial = new Map<Motor, number>();
  readonly #cameras = new Map<Camera, Promise<FrameEstimate>>();
  readonly #storage = new Map<string, { storage: Storage; bytes: number; what: string[] }>();
  /** Whether each exposure device would be exposing (undefined: as it is now). */
  readonly exposing = new Map<object, boolean>();

  /** Records a limit (once per message). */
  limit(source: string, message: string): void {
    const key = `limit:${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.limits.push({ source, message });
  }

  /** Records a note (once per message). */
  note(message: string): void {
    const key = `note:${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.notes.push(message);
  }

  /** Where `motor` would be now (its position when the dry run first asked). */
  async position(motor: Motor): Promise<number> {
    const known = this.#positions.get(motor);
    if (known !== undefined) return known;
    const here = motor.position.toNumber(await motor.position.get());
    this.#positions.set(motor, here);
    this.#initial.set(motor, here);
    return here;
  }

  /** Where `motor` was when the dry run first asked. */
  async initialPosition(motor: Motor): Promise<number> {
    await this.position(motor);
    return this.#initial.get(motor)!;
  }

  /** The motors asked about so far. */
  get motors(): Motor[] {
    return [...this.#positions.keys()];
  }

  /**
   * Moves `moves` (in parallel) in the simulation: records each limit a target would hit and
   * returns the time of the longest (a move of unknown duration counts 0 and is noted).
   */
  async move(moves: readonly PlannedMove[]): Promise<number> {
    const times = await Promise.all(
      moves.map(async ({ motor, target }) => {
        const from = await this.position(motor);
        const estimate = await motor.estimateMove(from, target);
        for (const message of estimate.limits) this.limit(motor.name, message);
        if (estimate.durationMs === undefined)
          this.note(`moves of ${motor.name} are not in the duration: ${estimate.unknown ?? 'unknown speed'}`);
        this.#positions.set(motor, target);
        return estimate.durationMs ?? 0;
      }),
    );
    return Math.max(0, ...times);
  }

  /**
   * Runs `motor` at `velocity` for `durationMs` in the simulation (then stops it): records the
   * limits on the way and returns the ramp time.
   */
  async run(motor: Motor, velocity: number, durationMs: number): Promise<number> {
    const from = await this.position(motor);
    const estimate = await motor.estimateRun(from, velocity, durationMs);
    for (const message of estimate.limits) this.limit(motor.name, message);
    this.#positions.set(motor, estimate.end);
    return estimate.durationMs ?? 0;
  }

  /** What `camera` delivers (asked once per dry run); its limits are recorded. */
  camera(camera: Camera): Promise<FrameEstimate> {
    let estimate = this.#cameras.get(camera);
    if (!estimate) {
      estimate = camera.estimateFrames().then((e) => {
        for (const message of e.limits) this.limit(camera.name, message);
        return e;
      });
      this.#cameras.set(camera, estimate);
    }
    return estimate;
  }

  /** Adds `bytes` that `what` would write to `storage` (checked for free space by {@link checkStorage}). */
  store(storage: Storage, bytes: number, what: string): void {
    const entry = this.#storage.get(storage.where) ?? { storage, bytes: 0, what: [] };
    entry.bytes += bytes;
    if (!entry.what.includes(what)) entry.what.push(what);
    this.#storage.set(storage.where, entry);
  }

  /** Checks every storage written to for the free space the estimate needs. */
  async checkStorage(): Promise<void> {
    for (const { storage, bytes, what } of this.#storage.values()) {
      let free: number;
      try {
        free = await storage.free();
      } catch (error) {
        this.limit(what.join(', '), `${storage.where}: cannot check the free space: ${errorMessage(error)}`);
        continue;
      }
      if (free < bytes)
        this.limit(
          what.join(', '),
          `${storage.where} has ${formatBytes(free)} free, but ${what.join(' and ')} would write ${formatBytes(bytes)}`,
        );
    }
  }
}
