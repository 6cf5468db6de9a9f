/**
 * RPi Camera Colony configuration files (ConfigObj: `[general]`, `[log]`, `[control]`,
 * `[controllers]` with one `[[camera]]` section each) converted into a conductor configuration.
 * Keys with a counterpart are converted with their types; keys RCC needed and we do not (SSH
 * log-ins, Python paths) and picamera settings no backend of ours has are listed as notes, never
 * dropped silently.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { stringify } from 'smol-toml';
import { errorMessage } from '../../core/index.js';
import { ConfigError } from '../errors.js';
import { parseConfigObj, type ConfigObjSection } from './configobj.js';
import { validateConfig } from './load.js';
import type { ConductorConfig, Violation } from './schema.js';

/** Options of {@link convertRcc}. */
export interface RccConvertOptions {
  /** The port of the camera servers (`concert serve camera --port`) on the controllers' addresses (default 8980). */
  cameraPort?: number;
  /** Endpoints by camera name, overriding address and port (`--endpoint top=tcp://127.0.0.1:9001`). */
  endpoints?: Record<string, string>;
}

/** A converted configuration. */
export interface RccConversion {
  /** The configuration as it will be written (only keys given in the RCC file). */
  config: Record<string, unknown>;
  /** The same with the defaults filled in (validated). */
  resolved: ConductorConfig;
  /** What was not converted, and why. */
  notes: string[];
}

type Kind = 'string' | 'int' | 'float' | 'bool' | 'int2' | 'rotation';
const GENERAL: Record<string, [string, Kind] | string> = {
  acquisition_name: ['acquisitionName', 'string'],
  acquisition_group: ['acquisitionGroup', 'string'],
  remote_data_path: ['dataPath', 'string'],
  max_acquisition_time: ['maxAcquisitionTime', 'int'],
  save_data: ['saveData', 'bool'],
  general_setting_has_priority: ['overrideCameras', 'bool'],
  acquisition_time: 'the start time is recorded by every camera server',
  rpi_username: 'camera servers run on the hosts themselves (no SSH log-in)',
  remote_python_interpreter: 'camera servers run on the hosts themselves (no SSH log-in)',
  remote_python_entrypoint: 'camera servers run on the hosts themselves (no SSH log-in)',
  general_settings_to_patch_into_controller: 'general saveData and format are patched in when overrideCameras is true',
};
const CAMERA: Record<string, [string, Kind] | string> = {
  description: ['description', 'string'],
  save_data: ['saveData', 'bool'],
  framerate: ['frameRate', 'float'],
  resolution: ['size', 'int2'],
  hflip: ['mirror', 'bool'],
  vflip: ['flip', 'bool'],
  brightness: ['brightness', 'int'],
  contrast: ['contrast', 'int'],
  saturation: ['saturation', 'int'],
  // picamera turns clockwise, our rotate counter-clockwise
  rotation: ['rotate', 'rotation'],
  address: 'becomes the endpoint tcp://ADDRESS:PORT',
};

/**
 * Converts the text of an RCC configuration.
 * @throws ConfigError for syntax errors, values of the wrong type, or a result that does not
 *   validate (every problem listed).
 */
export function convertRccText(text: string, source: string, options: RccConvertOptions = {}): RccConversion {
  const rcc = parseConfigObj(text, source);
  const notes: string[] = [];
  const problems: Violation[] = [];
  const config: Record<string, unknown> = {};
  const cameraPort = options.cameraPort ?? 8980;

  const convertSection = (
    section: unknown,
    table: Record<string, [string, Kind] | string>,
    where: string,
    into: Record<string, unknown>,
  ) => {
    if (!isSection(section)) return;
    for (const [key, raw] of Object.entries(section)) {
      if (isSection(raw)) {
        notes.push(`${where}.${key}: subsection not converted`);
        continue;
      }
      const rule = table[key];
      if (rule === undefined) {
        notes.push(`${where}.${key} = ${show(raw)}: not converted (no counterpart in the conductor)`);
        continue;
      }
      if (typeof rule === 'string') {
        if (key !== 'address') notes.push(`${where}.${key}: not needed (${rule})`);
        continue;
      }
      const [name, kind] = rule;
      try {
        const value = convertValue(raw, kind);
        if (name === 'acquisitionGroup' && value === '') continue;
        into[name] = value;
      } catch (error) {
        problems.push({ path: `${where}.${key}`, message: errorMessage(error) });
      }
    }
  };

  const general: Record<string, unknown> = {};
  convertSection(rcc.general, GENERAL, 'general', general);
  if (Object.keys(general).length) config.general = general;

  const log: Record<string, unknown> = {};
  const control: Record<string, unknown> = {};
  if (isSection(rcc.log)) {
    for (const [key, raw] of Object.entries(rcc.log)) {
      try {
        if (key === 'level') log.level = logLevel(String(raw));
        else if (key === 'log_file') log.file = String(raw);
        else if (key === 'address') control.address = String(raw);
        else if (key === 'port') control.port = convertValue(raw, 'int');
        else if (key === 'log_to_console' || key === 'log_to_file')
          notes.push(`log.${key}: the conductor logs to its file, and prints warnings and errors`);
        else notes.push(`log.${key} = ${show(raw)}: not converted (no counterpart in the conductor)`);
      } catch (error) {
        problems.push({ path: `log.${key}`, message: errorMessage(error) });
      }
    }
  }
  if (isSection(rcc.control))
    notes.push(
      'control: the conductor connects to each camera server instead of publishing commands; ' +
        '[log] address and port become control.address and control.port (where camera logs arrive)',
    );
  if (Object.keys(log).length) config.log = log;
  if (Object.keys(control).length) config.control = control;

  const cameras: Record<string, unknown> = {};
  const controllers = rcc.controllers;
  if (!isSection(controllers))
    problems.push({
      path: 'controllers',
      message: 'is missing: an RCC file lists its cameras as [controllers] [[NAME]]',
    });
  else
    for (const [name, section] of Object.entries(controllers)) {
      if (!isSection(section)) {
        notes.push(`controllers.${name} = ${show(section)}: not a [[camera]] section, not converted`);
        continue;
      }
      const camera: Record<string, unknown> = {};
      const endpoint = options.endpoints?.[name];
      const address = typeof section.address === 'string' ? section.address : '';
      if (endpoint) camera.endpoint = endpoint;
      else if (address) camera.endpoint = address.includes(':') ? `tcp://${address}` : `tcp://${address}:${cameraPort}`;
      else
        problems.push({
          path: `controllers.${name}.address`,
          message: 'is missing (give it, or --endpoint NAME=tcp://HOST:PORT)',
        });
      convertSection(section, CAMERA, `controllers.${name}`, camera);
      cameras[name] = camera;
    }
  config.cameras = cameras;
  for (const name of Object.keys(options.endpoints ?? {}))
    if (!(name in cameras))
      problems.push({ path: `--endpoint ${name}`, message: `no camera '${name}' in the RCC file` });
  if (problems.length) throw new ConfigError(source, problems);
  return { config, resolved: validateConfig(config, `${source} (converted)`), notes };
}

/**
 * Reads an RCC configuration file and converts it.
 * @throws ConfigError as {@link convertRccText}, or when the file cannot be read.
 */
export async function convertRcc(path: string, options: RccConvertOptions = {}): Promise<RccConversion> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file: ${errorMessage(error)}` }]);
  }
  return convertRccText(text, path, options);
}

/** The conversion as a TOML file, the notes as comments at its top. */
export function rccToToml(conversion: RccConversion, source: string): string {
  const head = [
    `# Converted from the RPi Camera Colony configuration ${source}.`,
    '# Check it with: concert conductor check FILE',
    ...(conversion.notes.length ? ['#', '# Not converted:', ...conversion.notes.map((n) => `#   ${n}`)] : []),
    '',
  ];
  return `${head.join('\n')}\n${stringify(conversion.config)}\n`;
}

function isSection(v: unknown): v is ConfigObjSection {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return Array.isArray(v) ? v.join(', ') : String(v);
}

function convertValue(raw: string | string[] | ConfigObjSection, kind: Kind): unknown {
  if (kind === 'int2') {
    const list = Array.isArray(raw)
      ? raw
      : String(raw)
          .split(/[x,\s]+/)
          .filter(Boolean);
    const numbers = list.map((x) => Number(x));
    if (numbers.length !== 2 || numbers.some((n) => !Number.isInteger(n)))
      throw new Error(`must be two whole numbers (width, height), got ${show(raw)}`);
    return numbers;
  }
  if (Array.isArray(raw)) throw new Error(`must be a single value, got the list ${show(raw)}`);
  if (kind === 'rotation') {
    const degrees = Number(String(raw).trim());
    if (![0, 90, 180, 270].includes(degrees)) throw new Error(`must be 0, 90, 180 or 270, got ${String(raw)}`);
    return (360 - degrees) % 360;
  }
  const text = String(raw).trim();
  if (kind === 'string') return text;
  if (kind === 'bool') {
    const t = text.toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(t)) return true;
    if (['false', 'no', 'off', '0'].includes(t)) return false;
    throw new Error(`must be True or False, got ${text}`);
  }
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) throw new Error(`must be a number, got ${JSON.stringify(text)}`);
  if (kind === 'int' && !Number.isInteger(n)) throw new Error(`must be a whole number, got ${text}`);
  return n;
}

function logLevel(text: string): string {
  const t = text.toLowerCase();
  const level = ({ warning: 'warn', critical: 'error', notset: 'debug' } as Record<string, string>)[t] ?? t;
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new Error(`must be DEBUG, INFO, WARNING or ERROR, got ${text}`);
  return level;
}
