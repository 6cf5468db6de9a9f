/**
 * Helpers available at the session prompt: `ddoc()`, `await dstate()`, `pdoc()`, `abort()`,
 * `checkEmergencyStop(fn, {interval})`.
 * @module
 */
import { inspect } from 'node:util';
import {
  abortAll,
  describeOperations,
  emergencyStopAll,
  Logger,
  OptionError,
  Parameterizable,
  parseOptions,
  Quantity,
  registeredDevices,
  runningOperationList,
  show,
  startInterval,
  z,
  zfunction,
  type Device,
} from '../core/index.js';

const log = new Logger('session');

function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map(
      (r) =>
        indent +
        r
          .map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c))
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

function write(text: string, out: NodeJS.WritableStream = process.stdout): void {
  out.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * The table `ddoc()` prints: every device (or each of `devices`) with its parameters, units,
 * access, allowed values (limits, Selection values) and help.
 */
export function deviceDocs(devices: readonly Parameterizable[] = registeredDevices()): string {
  if (devices.length === 0) return '(no devices)';
  return devices
    .map((d) => {
      const rows = d
        .parameters()
        .map((p) => [
          p.name,
          p instanceof Quantity ? p.unit : '',
          [p.readable ? 'r' : '-', p.writable ? 'w' : '-'].join(''),
          p.allowedValues() ?? '',
          p.help,
        ]);
      return `${d.name} (${d.kind})\n${rows.length ? table(rows) : '  (no parameters)'}`;
    })
    .join('\n\n');
}

/**
 * Prints a table of every device — or of the devices (or experiments) given, `ddoc(camera)` — with
 * its parameters (unit, read/write access, limits or allowed values) and their help.
 * @throws TypeError naming the argument that is not a device.
 */
export function ddoc(...devices: Parameterizable[]): void {
  devices.forEach((d, i) => {
    if (!(d instanceof Parameterizable))
      throw new TypeError(`ddoc(): argument ${i + 1} is not a device or an experiment (got ${describeValue(d)})`);
  });
  write(deviceDocs(devices.length ? devices : registeredDevices()));
}

function describeValue(value: unknown): string {
  return typeof value === 'object' && value !== null ? (value.constructor?.name ?? 'an object') : inspect(value);
}

/** The text `dstate()` prints: every device's state and parameter values. */
export async function deviceStates(devices: readonly Device[] = registeredDevices()): Promise<string> {
  if (devices.length === 0) return '(no devices)';
  const parts = await Promise.all(
    devices.map(async (d) => {
      const snap = await d.snapshot();
      const rows = Object.entries(snap).map(([name, s]) => {
        const value = s.error ? `(error: ${s.error})` : s.value === undefined ? '(write-only)' : String(s.value);
        const extra = [
          s.target !== undefined && s.target !== s.value ? `target ${String(s.target)}` : '',
          s.locked ? 'locked' : '',
        ]
          .filter(Boolean)
          .join(', ');
        return [name, value, extra];
      });
      return `${d.name} (${d.kind})\n${table(rows)}`;
    }),
  );
  return parts.join('\n\n');
}

/** Prints every device's state and parameter values (`await dstate()`). */
export async function dstate(): Promise<void> {
  write(await deviceStates());
}

/** A function exported by the session, with its doc comment. */
export interface SessionFunction {
  name: string;
  signature: string;
  doc: string;
}

/** The functions a session source exports, with the first paragraph of their doc comments. */
export function sessionFunctions(source: string, exports: Record<string, unknown>): SessionFunction[] {
  const found: SessionFunction[] = [];
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== 'function' || /^[A-Z]/.test(name)) continue;
    const re = new RegExp(
      `(?:/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*)?export\\s+(?:async\\s+)?function\\*?\\s+${name}\\s*(\\([^)]*\\))`,
    );
    const m = re.exec(source);
    const doc = (m?.[1] ?? '')
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, '').trim())
      .join(' ')
      .trim()
      .split(/(?<=\.)\s|@/)[0]!
      .trim();
    found.push({ name, signature: m?.[2]?.replace(/\s+/g, ' ') ?? `(${'…'.repeat(Math.min(1, value.length))})`, doc });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** Makes `pdoc()` for a session: prints the session's functions and what they do. */
export function makePdoc(source: string, exports: Record<string, unknown>): () => void {
  return () => {
    const fns = sessionFunctions(source, exports);
    write(
      fns.length
        ? table(
            fns.map((f) => [`${f.name}${f.signature}`, f.doc]),
            '',
          )
        : '(the session exports no functions)',
    );
  };
}

/** What {@link abort} stopped; at the prompt it prints as `Aborted 2 operations: experiment.run(), set flatMotor.position`. */
export class AbortReport {
  constructor(
    /** How many operations were aborted. */
    readonly count: number,
    /** What they were (see `describeOperations()`). */
    readonly operations: string,
  ) {}

  toString(): string {
    if (this.count === 0) return 'Nothing was running: nothing to abort';
    return `Aborted ${this.count} operation${this.count === 1 ? '' : 's'}: ${this.operations}`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Cancels everything running (moves, acquisitions, experiments) and says what it stopped. */
export function abort(): AbortReport {
  const running = runningOperationList();
  const n = abortAll();
  const report = new AbortReport(n, describeOperations(running));
  log.warn(`abort(): ${report.toString()}`);
  return report;
}

/** The options of {@link checkEmergencyStop}. */
export const EMERGENCY_STOP_OPTIONS = z.strictObject({
  /** Poll period in milliseconds (default 100; any length, it cannot overflow). */
  interval: z.number().positive().optional(),
  /** Called after tripping with the number of operations aborted (default: print a line to stderr). */
  onTrip: zfunction<(stopped: number) => void>().optional(),
});

/** Options of {@link checkEmergencyStop}. */
export type EmergencyStopOptions = z.input<typeof EMERGENCY_STOP_OPTIONS>;

/** A running emergency-stop watch. */
export interface EmergencyStopWatch {
  /** Stops watching. */
  stop(): void;
  /** How many times the condition tripped. */
  readonly trips: number;
}

/**
 * Polls `check` every `interval` ms; when it returns true, aborts everything running and calls
 * `emergencyStop()` on every device (motors stop, shutters close). It trips again only after
 * `check` has returned false in between.
 * @example
 * ```ts
 * const watch = checkEmergencyStop(async () => (await door.getState()) === 'open', { interval: 200 });
 * ```
 */
export function checkEmergencyStop(
  check: () => boolean | Promise<boolean>,
  options: EmergencyStopOptions = {},
): EmergencyStopWatch {
  if (typeof check !== 'function')
    throw new OptionError(
      `checkEmergencyStop: the condition must be a function returning true to stop, got ${show(check)}`,
    );
  parseOptions('checkEmergencyStop', EMERGENCY_STOP_OPTIONS, options);
  const interval = options.interval ?? 100;
  let tripped = false;
  let trips = 0;
  // A check that takes longer than the period is never run twice at once.
  const timer = startInterval(interval, async () => {
    try {
      const now = Boolean(await check());
      if (now && !tripped) {
        trips++;
        const n = abortAll();
        const failures = await emergencyStopAll();
        for (const f of failures) log.error(`emergency stop of ${f.device.name} failed`, f.error);
        log.error(`emergency stop: condition tripped, aborted ${n} operation(s)`);
        (
          options.onTrip ??
          ((k) => process.stderr.write(`\nEmergency stop: aborted ${k} operation(s) and stopped every device\n`))
        )(n);
      }
      tripped = now;
    } catch (error) {
      log.error('emergency stop check failed', error);
    }
  }).unref();
  return {
    stop: () => timer.cancel(),
    get trips() {
      return trips;
    },
  };
}
