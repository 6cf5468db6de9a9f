/**
 * Starting servers: `concert serve writer|live|benchmarker|camera [--bind 127.0.0.1] [--port N]`.
 * Each binds its control endpoint on 127.0.0.1 unless told otherwise, prints where it listens,
 * and shuts down cleanly on SIGTERM/SIGINT (open files closed).
 * @module
 */
import {
  formatLogLine,
  OptionError,
  q,
  setLogLevel,
  setLogSink,
  type LogLevel,
  errorMessage,
} from '../../core/index.js';
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AllowList,
  curveClientOptions,
  curveServerOptions,
  ensureKeyPairs,
  tcpEndpoint,
} from '../../transport/zmq/index.js';
import type { ServerKind } from './protocol.js';

/** What each server kind does, for `concert serve` without arguments. */
export const SERVER_DESCRIPTIONS: Record<ServerKind, string> = {
  writer: 'writes streams as TIFF/HDF5 through a walker living in the server (RemoteDirectoryWalker)',
  live: 'live view: shows the newest frame, never slows the camera (PUB/SUB, HWM 1)',
  benchmarker: 'counts and times streams',
  camera: 'a dummy (or file) camera that sends frames to registered endpoints (RemoteCamera)',
  reco: 'online tomographic reconstruction of the streams (OnlineReconstruction)',
};

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** Address to bind (default 127.0.0.1). */
  bind?: string;
  /** Control port (default: a free one, printed). */
  port?: number;
  /** Writer and reco: root directory of what they write (default: the working directory). */
  root?: string;
  /**
   * Directory with CURVE keys (created if missing): encrypts every socket and accepts only the
   * clients whose public key is in `authorizedKeys` (default `<curveKeys>/authorized`; made on
   * first use with the directory's own `client.key` in it).
   */
  curveKeys?: string;
  /** The allow-list directory of client public keys (`*.key`), re-read when it changes. */
  authorizedKeys?: string;
  /** Camera: sensor size and frame rate of the dummy camera, or TIFF files to replay. */
  width?: number;
  height?: number;
  frameRate?: number;
  files?: string;
  /** Camera: frames decoded by ffmpeg from /dev/videoN, rtsp://…, a video file or lavfi:… (width/height scale them). */
  ffmpeg?: string;
  /** Camera (ffmpeg): gray8 (default), gray16le or rgb24 (colour). */
  pixelFormat?: 'gray8' | 'gray16le' | 'rgb24';
  /**
   * Camera (dummy): frames it holds for a consumer that falls behind, as a real camera's
   * memory or driver ring does (default 16, as FfmpegCamera's queue).
   */
  bufferFrames?: number;
  /** Camera: add Poisson noise to each frame (default true); false sends the background as is. */
  simulate?: boolean;
  /** Live: also show the frames in the web viewer on this HTTP port (0: a free one). */
  webPort?: number;
  /** Log level of the lines the server writes to stderr (default info). */
  loglevel?: LogLevel;
}

/** A running server. */
export interface RunningServer {
  kind: ServerKind;
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts one server in this process. @throws OptionError for an unknown kind. */
export async function startServer(kind: string, options: ServeOptions = {}): Promise<RunningServer> {
  const control = tcpEndpoint(options.port, options.bind ?? '127.0.0.1');
  let curve:
    | { server: Awaited<ReturnType<typeof curveServerOptions>>; client: Awaited<ReturnType<typeof curveClientOptions>> }
    | undefined;
  let allow: AllowList | undefined;
  if (options.curveKeys) {
    await ensureKeyPairs(options.curveKeys);
    const authorized = options.authorizedKeys ?? join(options.curveKeys, 'authorized');
    if (!existsSync(authorized)) {
      // First use: the key directory's own client may connect (sessions on this machine).
      await mkdir(authorized, { recursive: true, mode: 0o700 });
      await copyFile(join(options.curveKeys, 'client.key'), join(authorized, 'client.key'));
    }
    allow = await AllowList.open(authorized, `${kind} server`);
    curve = {
      server: { ...(await curveServerOptions(options.curveKeys)), allow },
      client: await curveClientOptions(options.curveKeys),
    };
  }
  try {
    const server = await start(kind, options, control, curve);
    return allow ? { ...server, stop: () => server.stop().finally(() => allow.close()) } : server;
  } catch (error) {
    allow?.close();
    throw error;
  }
}

type ServerCurve =
  | { server: Awaited<ReturnType<typeof curveServerOptions>>; client: Awaited<ReturnType<typeof curveClientOptions>> }
  | undefined;

async function start(kind: string, options: ServeOptions, control: string, curve: ServerCurve): Promise<RunningServer> {
  switch (kind) {
    case 'writer': {
      const { WriterServer } = await import('./server/writer.js');
      const server = await new WriterServer({ control, root: options.root, curve }).start();
      return { kind, endpoint: server.endpoint, stop: () => server.stop() };
    }
    case 'live': {
      const { LiveServer } = await import('./server/live.js');
      const web =
        options.webPort === undefined
          ? undefined
          : await (
              await import('../local/web-viewer/index.js')
            ).WebViewer.create({ port: options.webPort, host: options.bind ?? '127.0.0.1' });
      const server = await new LiveServer({ control, curve, viewer: web }).start();
      return {
        kind,
        endpoint: server.endpoint,
        stop: async () => {
          await server.stop();
          await web?.close();
        },
      };
    }
    case 'benchmarker': {
      const { BenchmarkerServer } = await import('./server/benchmarker.js');
      const server = await new BenchmarkerServer({ control, curve }).start();
      return { kind, endpoint: server.endpoint, stop: () => server.stop() };
    }
    case 'reco': {
      const { RecoServer } = await import('./server/reco.js');
      const server = await new RecoServer({ control, root: options.root, curve }).start();
      return { kind, endpoint: server.endpoint, stop: () => server.stop() };
    }
    case 'camera': {
      const { CameraServer } = await import('../../devices/cameras/server.js');
      const { AcquisitionRecorder } = await import('../../conductor/host/recorder.js');
      const camera = await makeCamera(options);
      const server = await new CameraServer(camera, { control, curve: curve && { server: curve.server } }).start();
      // the conductor's commands: recordings on this host, logs and heartbeats to the conductor
      new AcquisitionRecorder(server, { root: options.root, curve: curve?.client }).install();
      return { kind, endpoint: server.endpoint, stop: () => server.stop() };
    }
    default:
      throw new OptionError(`unknown server '${kind}' (available: ${Object.keys(SERVER_DESCRIPTIONS).join(', ')})`);
  }
}

async function makeCamera(options: ServeOptions) {
  const frameRate = options.frameRate === undefined ? undefined : q(options.frameRate, 'Hz');
  if (options.ffmpeg) {
    const { FfmpegCamera } = await import('../../devices/cameras/ffmpeg.js');
    return FfmpegCamera.create({
      name: 'camera',
      source: options.ffmpeg,
      ...(options.width !== undefined && options.height !== undefined
        ? { width: options.width, height: options.height }
        : {}),
      ...(options.pixelFormat ? { pixelFormat: options.pixelFormat } : {}),
      ...(frameRate ? { frameRate } : {}),
    });
  }
  if (options.files) {
    const { FileCamera } = await import('../../devices/cameras/file.js');
    return FileCamera.create({ name: 'camera', pattern: options.files, ...(frameRate ? { frameRate } : {}) });
  }
  const { Camera } = await import('../../devices/cameras/dummy.js');
  return Camera.create({
    name: 'camera',
    width: options.width,
    height: options.height,
    frameRate,
    simulate: options.simulate,
    bufferFrames: options.bufferFrames ?? 16,
  });
}

/**
 * Runs a server until SIGTERM/SIGINT: prints `<kind> server listening on <endpoint>` and, on
 * the signal, stops it (closing files) and exits 0.
 */
export async function serveForever(
  kind: string,
  options: ServeOptions = {},
  print: (line: string) => void = (l) => console.log(l),
): Promise<void> {
  setLogSink((level, source, message, error) => process.stderr.write(formatLogLine(level, source, message, error)));
  if (options.loglevel) setLogLevel(options.loglevel);
  const server = await startServer(kind, options);
  print(`${kind} server listening on ${server.endpoint}${options.curveKeys ? ' (CURVE)' : ''}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      print(`${kind} server: ${signal}, shutting down`);
      server.stop().then(resolve, (error: unknown) => {
        console.error(`${kind} server: error while stopping: ${errorMessage(error)}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
