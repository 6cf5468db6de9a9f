/**
 * `concert conductor check|convert|run|read|stop`: a camera colony from the command line.
 *
 * - `check FILE`: lists every problem of a configuration, or prints it resolved (defaults filled in).
 * - `convert RCC_FILE OUT.toml`: an RPi Camera Colony ConfigObj file as a conductor configuration.
 * - `run --config FILE --acquisition-name NAME [--duration 20s]`: records with every camera,
 *   showing a live table; Ctrl-C stops every camera cleanly and exits non-zero.
 * - `read DIR`: a table of an acquisition on disk (frames, fps from timestamps, drops, duration).
 * - `stop --config FILE`: stops recordings an earlier conductor left running.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'smol-toml';
import { errorMessage, OptionError } from '../../core/index.js';
import {
  Conductor,
  convertRcc,
  loadConfig,
  rccToToml,
  readAcquisitionData,
  resolveCamera,
  type ConductorStatus,
} from '../../conductor/index.js';
import { parseDuration } from './record.js';

/** `concert conductor check FILE`: 0 when valid (the resolved configuration is printed), 1 with every problem. */
export async function check(file: string, print: (text: string) => void = (t) => console.log(t)): Promise<number> {
  const config = await loadConfig(file);
  const resolved = {
    ...config,
    cameras: Object.fromEntries(Object.keys(config.cameras).map((n) => [n, withoutName(resolveCamera(config, n))])),
  };
  print(`# ${file}: valid; the configuration with every default filled in:\n`);
  print(stringify(resolved));
  if (config.general.maxAcquisitionTime === 0)
    print('\n# note: maxAcquisitionTime = 0: the camera servers record until told to stop, even if the conductor dies');
  return 0;
}

function withoutName<T extends { name: string }>(camera: T): Omit<T, 'name'> {
  const { name: _, ...rest } = camera;
  return rest;
}

/** `concert conductor convert RCC OUT`. */
export async function convert(
  source: string,
  out: string,
  o: { cameraPort?: string; endpoint?: string[]; force?: boolean },
  print: (text: string) => void = (t) => console.log(t),
): Promise<number> {
  const cameraPort = o.cameraPort === undefined ? undefined : Number(o.cameraPort);
  if (cameraPort !== undefined && !(Number.isInteger(cameraPort) && cameraPort >= 1 && cameraPort <= 65535))
    throw new OptionError(`--camera-port must be a whole number in [1, 65535], got '${o.cameraPort}'`);
  const endpoints: Record<string, string> = {};
  for (const e of o.endpoint ?? []) {
    const m = /^([^=]+)=(.+)$/.exec(e);
    if (!m) throw new OptionError(`--endpoint must be NAME=tcp://HOST:PORT, got '${e}'`);
    endpoints[m[1]!] = m[2]!;
  }
  if (!/\.(toml|ya?ml|json)$/i.test(out))
    throw new OptionError(`the output must end in .toml, .yaml or .json, got '${out}'`);
  const conversion = await convertRcc(source, { cameraPort, endpoints });
  const text = out.toLowerCase().endsWith('.toml')
    ? rccToToml(conversion, source)
    : out.toLowerCase().endsWith('.json')
      ? `${JSON.stringify(conversion.config, null, 2)}\n`
      : (await import('yaml')).stringify(conversion.config);
  await writeFile(out, text, { flag: o.force ? 'w' : 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') throw new OptionError(`${out} exists (--force replaces it)`);
    throw error;
  });
  print(`wrote ${out}: ${Object.keys(conversion.resolved.cameras).length} cameras`);
  for (const note of conversion.notes) print(`  not converted: ${note}`);
  return 0;
}

/** Options of `concert conductor run`. */
export interface RunCliOptions {
  config: string;
  acquisitionName?: string;
  duration?: string;
  logFile?: string;
}

/**
 * `concert conductor run`: exit 0 when every camera's recording is complete, 1 otherwise, 130
 * after Ctrl-C (every camera stopped and its files closed all the same).
 */
export async function run(o: RunCliOptions, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const durationMs = o.duration === undefined ? undefined : parseDuration(o.duration);
  const conductor = await Conductor.create({ config: o.config, ...(o.logFile ? { logFile: o.logFile } : {}) });
  const controller = new AbortController();
  let signalName: string | undefined;
  const onSignal = (name: string) => {
    if (signalName) return;
    signalName = name;
    out.write(`\n${name}: stopping every camera …\n`);
    controller.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const table = new LiveTable(out);
  try {
    out.write(`log: ${conductor.logFile}\n`);
    const { start, summary, interrupted } = await conductor.record({
      name: o.acquisitionName,
      durationMs,
      signal: controller.signal,
      onStatus: (s) => table.show(s),
    });
    table.end();
    out.write(
      `acquisition '${start.acquisition}'${start.group ? ` (group ${start.group})` : ''}: start skew ${start.skewMs.toFixed(2)} ms ` +
        `(${start.skewFrom === 'firstFrame' ? "the cameras' first-frame timestamps" : 'start times'})\n`,
    );
    out.write(
      formatTable(
        ['camera', 'frames', 'drops', 'ended', 'files', 'complete'],
        Object.entries(summary.cameras).map(([n, c]) => [
          n,
          String(c.frames ?? 0),
          String(c.drops ?? 0),
          c.lost ? 'lost' : String(c.reason ?? '?'),
          String(c.files?.length ?? 0),
          c.complete ? 'yes' : `NO${c.error || c.lost ? `: ${c.error ?? c.lost}` : ''}`,
        ]),
      ),
    );
    if (interrupted) return 130;
    return summary.complete ? 0 : 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await conductor.disconnect();
  }
}

/** `concert conductor stop --config FILE`: stops what an earlier conductor left recording. */
export async function stop(
  o: { config: string },
  print: (text: string) => void = (t) => console.log(t),
): Promise<number> {
  const config = await loadConfig(o.config);
  const { ControlClient } = await import('../../transport/zmq/index.js');
  const curve = config.control.curveKeys
    ? await (await import('../../transport/zmq/index.js')).curveClientOptions(config.control.curveKeys)
    : undefined;
  let failed = 0;
  for (const [name, camera] of Object.entries(config.cameras)) {
    const client = await ControlClient.create({
      connect: camera.endpoint,
      timeoutMs: config.control.timeout * 1000,
      curve,
    });
    try {
      const status = await client.request<{ state: string; acquisition?: string }>('acquisition.status');
      if (status.state === 'recording' || status.state === 'armed') {
        const s = await client.request<{ frames: number; complete: boolean }>('acquisition.stop', undefined, {
          timeoutMs: 120_000,
        });
        print(
          `${name}: stopped '${status.acquisition}': ${s.frames} frames, ${s.complete ? 'complete' : 'INCOMPLETE'}`,
        );
      } else print(`${name}: not recording (${status.state})`);
    } catch (error) {
      failed++;
      print(`${name}: ${errorMessage(error)}`);
    } finally {
      client.close();
    }
  }
  return failed ? 1 : 0;
}

/** `concert conductor read DIR`. */
export async function read(dir: string, print: (text: string) => void = (t) => console.log(t)): Promise<number> {
  const data = await readAcquisitionData(dir);
  print(
    formatTable(
      ['camera', 'frames', 'fps', 'drops', 'duration', 'files', 'complete'],
      Object.values(data.cameras).map((c) => [
        c.camera,
        String(c.timestamps.length),
        c.fps.toFixed(1),
        String(c.drops),
        `${c.duration.toFixed(2)} s`,
        String(c.files.length),
        c.complete ? 'yes' : 'NO',
      ]),
    ).trimEnd(),
  );
  for (const c of Object.values(data.cameras)) for (const p of c.problems) print(`${c.camera}: ${p}`);
  return data.complete ? 0 : 1;
}

/** Rows as an aligned text table. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** The live table of `run`: redrawn in place on a terminal, a line every 5 s otherwise. */
class LiveTable {
  #lines = 0;
  #last = -Infinity;
  constructor(readonly out: NodeJS.WriteStream) {}

  show(s: ConductorStatus): void {
    const text = formatTable(
      ['camera', 'state', 'frames', 'fps', 'drops', 'elapsed'],
      Object.entries(s.cameras).map(([n, c]) => [
        n,
        c.state,
        String(c.frames),
        c.fps.toFixed(1),
        String(c.drops),
        `${c.elapsed.toFixed(1)} s`,
      ]),
    );
    if (this.out.isTTY) {
      if (this.#lines) this.out.write(`\x1b[${this.#lines}A\x1b[J`);
      this.out.write(text);
      this.#lines = text.split('\n').length - 1;
    } else if (performance.now() - this.#last > 5000) {
      this.#last = performance.now();
      this.out.write(text);
    }
  }

  end(): void {
    this.#lines = 0;
  }
}
