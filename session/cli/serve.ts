/**
 * `concert serve [KIND] [--bind 127.0.0.1] [--port N] [--root DIR] [--curve-keys DIR] …`:
 * without KIND, lists the servers; with it, runs that server until SIGTERM/SIGINT.
 * @module
 */
import { isLogLevel, OptionError } from '../../core/index.js';
import { SERVER_DESCRIPTIONS, serveForever, type ServeOptions } from '../../addons/remote/serve.js';

/** Options as commander gives them. */
export interface ServeCliOptions {
  bind?: string;
  port?: string;
  root?: string;
  curveKeys?: string;
  authorizedKeys?: string;
  width?: string;
  height?: string;
  frameRate?: string;
  files?: string;
  ffmpeg?: string;
  pixelFormat?: string;
  loglevel?: string;
  bufferFrames?: string;
  /** `--no-simulate` (camera): send the background without noise. */
  simulate?: boolean;
  /** live: serve the web viewer on this port. */
  webPort?: string;
}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new OptionError(`--${name} must be a whole number in [${min}, ${max}], got '${value}'`);
  return n;
}

/** Lists the servers, or runs one. */
export async function serve(kind: string | undefined, o: ServeCliOptions): Promise<void> {
  if (!kind) {
    console.log('Servers (concert serve KIND [--bind 127.0.0.1] [--port N]):');
    for (const [k, d] of Object.entries(SERVER_DESCRIPTIONS)) console.log(`  ${k.padEnd(12)} ${d}`);
    return;
  }
  if (o.loglevel !== undefined && !isLogLevel(o.loglevel))
    throw new OptionError(`--loglevel must be debug, info, warn or error, got '${o.loglevel}'`);
  const options: ServeOptions = {
    bind: o.bind,
    port: integer('port', o.port, 1, 65535),
    root: o.root,
    curveKeys: o.curveKeys,
    authorizedKeys: o.authorizedKeys,
    width: integer('width', o.width, 1, 65536),
    height: integer('height', o.height, 1, 65536),
    frameRate: o.frameRate === undefined ? undefined : Number(o.frameRate),
    files: o.files,
    ffmpeg: o.ffmpeg,
    pixelFormat: o.pixelFormat as ServeOptions['pixelFormat'],
    simulate: o.simulate,
    bufferFrames: integer('buffer-frames', o.bufferFrames, 0, 100_000),
    webPort: integer('web-port', o.webPort, 0, 65535),
    loglevel: o.loglevel as ServeOptions['loglevel'],
  };
  if (o.pixelFormat !== undefined && !['gray8', 'gray16le', 'rgb24'].includes(o.pixelFormat))
    throw new OptionError(`--pixel-format must be gray8, gray16le or rgb24, got '${o.pixelFormat}'`);
  if (o.ffmpeg !== undefined && o.files !== undefined)
    throw new OptionError('give --ffmpeg SOURCE or --files PATTERN, not both');
  if (options.frameRate !== undefined && !(options.frameRate > 0))
    throw new OptionError(`--frame-rate must be a positive number of Hz, got '${o.frameRate}'`);
  await serveForever(kind, options);
}
