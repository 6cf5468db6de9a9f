/**
 * `concert conductor check|convert`: a camera colony from the command line.
 *
 * - `check FILE`: lists every problem of a configuration, or prints it resolved (defaults filled in).
 * - `convert RCC_FILE OUT.toml`: an RPi Camera Colony ConfigObj file as a conductor configuration.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'smol-toml';
import { OptionError } from '../../core/index.js';
import { convertRcc, loadConfig, rccToToml, resolveCamera } from '../../conductor/index.js';

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

/** Rows as an aligned text table. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
