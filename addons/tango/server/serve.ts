/**
 * Starting Concert's Tango servers: `concert tango walker|benchmarker|reco [--port N] [--device
 * concert/tango/NAME]`, as Python Concert's `concert tango` does (server name = the kind, instance
 * `name`, device `concert/tango/<kind>`), without a database (`tango://host:port/device#dbase=no`)
 * or exported to the Tango database of `TANGO_HOST`.
 * @module
 */
import {
  formatLogLine,
  OptionError,
  setLogLevel,
  setLogSink,
  errorMessage,
  type LogLevel,
} from '../../../core/index.js';
import { DeviceServer } from '../../../tango/server/index.js';
import { AllowList } from '../../../transport/zmq/index.js';

/** The servers and what they do. */
export const TANGO_SERVERS = {
  walker: "writes streams as TIFF through a directory walker (Python Concert's TangoRemoteWalker)",
  benchmarker: 'times streams (TangoBenchmarker)',
  reco: 'online tomographic reconstruction of the streams (TangoOnlineReconstruction)',
} as const;
/** A server kind. */
export type TangoServerKind = keyof typeof TANGO_SERVERS;

/** Options of {@link startTangoServer}. */
export interface TangoServeOptions {
  /** GIOP port (default 1234, Python Concert's; 0: a free one). */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  bind?: string;
  /** Device name (default `concert/tango/<kind>`). */
  device?: string;
  /** Walker and reco: the directory clients may not leave (default: the working directory). */
  root?: string;
  /** `host:port` of a Tango database to export to (default: none). */
  tangoHost?: string;
  /** Fail a stream with no frame for this long (ms, default 30000). */
  idleTimeoutMs?: number;
  /** Called when a client kills the server through its admin device. */
  onKill?: () => void;
  /**
   * Accept event subscribers only from these IP addresses (standard Tango clients subscribe
   * without CURVE; the ZAP handler refuses and logs every other address). Default: everyone.
   */
  allowAddresses?: readonly string[];
}

/** Starts one Concert Tango server in this process. @throws OptionError for an unknown kind. */
export async function startTangoServer(kind: string, options: TangoServeOptions = {}): Promise<DeviceServer> {
  if (!(kind in TANGO_SERVERS))
    throw new OptionError(`unknown Tango server '${kind}' (available: ${Object.keys(TANGO_SERVERS).join(', ')})`);
  const k = kind as TangoServerKind;
  const device = options.device ?? `concert/tango/${k}`;
  const stream = { idleTimeoutMs: options.idleTimeoutMs };
  let definition;
  switch (k) {
    case 'walker':
      definition = (await import('./walker.js')).walkerDevice({ ...stream, root: options.root });
      break;
    case 'benchmarker':
      definition = (await import('./benchmarker.js')).benchmarkerDevice(stream);
      break;
    case 'reco':
      definition = (await import('./reco.js')).recoDevice({ ...stream, root: options.root });
      break;
  }
  const allow =
    options.allowAddresses && options.allowAddresses.length > 0
      ? await AllowList.addresses(options.allowAddresses, `${k} Tango server events`)
      : undefined;
  return DeviceServer.create({
    server: k,
    ...(allow ? { events: { allow } } : {}),
    instance: 'name',
    port: options.port ?? 1234,
    host: options.bind,
    tangoHost: options.tangoHost,
    devices: [{ name: device, definition }],
    onKill: options.onKill,
  });
}

/**
 * Runs a server until SIGTERM/SIGINT or a client's `Kill`: prints `<kind> Tango server: <url>`
 * and, on the signal, stops it (streams cancelled, files closed, un-exported) and returns.
 */
export async function serveTangoForever(
  kind: string,
  options: TangoServeOptions & { loglevel?: LogLevel } = {},
  print: (line: string) => void = (l) => console.log(l),
): Promise<void> {
  setLogSink((level, source, message, error) => process.stderr.write(formatLogLine(level, source, message, error)));
  if (options.loglevel) setLogLevel(options.loglevel);
  let killed: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (killed = resolve));
  const server = await startTangoServer(kind, { ...options, onKill: () => killed() });
  const device = options.device ?? `concert/tango/${kind}`;
  print(`${kind} Tango server: ${server.url(device)}${options.tangoHost ? ' (exported to the Tango database)' : ''}`);
  print('Ready to accept request');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      print(`${kind} Tango server: ${signal}, shutting down`);
      server.stop().then(resolve, (error: unknown) => {
        console.error(`${kind} Tango server: error while stopping: ${errorMessage(error)}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    void done.then(() => {
      print(`${kind} Tango server: killed by a client`);
      resolve();
    });
  });
}
