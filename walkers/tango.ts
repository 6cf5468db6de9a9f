/**
 * `RemoteDirectoryWalker` over a Tango walker device: the walker of Python Concert's remote
 * experiment (`concert tango walker`, ours or Python Concert's own). The session moves it and
 * writes the experiment log and JSON metadata through it; a Tango `ImageWriter`
 * (`concert/addons/tango`) makes the device write each acquisition's frames next to them.
 * @example
 * ```ts
 * import { RemoteDirectoryWalker } from 'concert/walkers/tango';  // TangoDirectoryWalker
 * const walker = await RemoteDirectoryWalker.create({
 *   device: 'tango://127.0.0.1:1238/concert/tango/walker#dbase=no', root: '/mnt/fast/tests', bytesPerFile: 2 ** 40,
 * });
 * ```
 * @module
 */
import { DeviceProxy, TangoType } from '../tango/index.js';
import { errorMessage, parseOptions, z, zwhere } from '../core/index.js';
import { Walker, type DatasetWriter } from './base.js';
import { StorageError } from './formats/index.js';

/** The options of {@link RemoteDirectoryWalker.create}. */
export const TANGO_WALKER_OPTIONS = z.strictObject({
  /** The walker device: its address (`tango://host:port/concert/tango/walker#dbase=no`) or a DeviceProxy. */
  device: z.union([z.string(), zwhere('a DeviceProxy', (v): v is DeviceProxy => v instanceof DeviceProxy)]),
  /** Root on the server's side (default: the device's own root). */
  root: z.string().optional(),
  /** File name pattern of datasets (default `frame_{:>06}.tif`, Python Concert's). */
  dsetname: z.string().optional(),
  /** Writer class on the server (Python Concert knows only `TiffWriter`). */
  writerClass: z.literal('TiffWriter').optional(),
  /** First file index (default 0). */
  startIndex: z.number().int().min(0).optional(),
  /** 0: one TIFF per frame (default); otherwise multi-page files of at most this many bytes. */
  bytesPerFile: z.number().int().min(0).optional(),
  /** Per-call timeout in ms of a device given by address (default 10000). */
  timeoutMs: z
    .number()
    .min(1)
    .max(2 ** 31 - 1)
    .optional(),
});

/** Options of {@link RemoteDirectoryWalker.create}. */
export type TangoWalkerOptions = z.input<typeof TANGO_WALKER_OPTIONS>;

/** Log level Python's logging calls INFO (what `register_logger` and `log` take as text). */
const INFO = '20';

/** A walker living in a Tango device server. */
export class TangoDirectoryWalker extends Walker {
  /** The walker device. */
  readonly device: DeviceProxy;
  readonly #owned: boolean;
  readonly #options: TangoWalkerOptions;
  #root = '';
  #current = '';
  #loggers = new Map<string, string>();
  /** The device's server went away: configure it again before the next call. */
  #stale = false;
  readonly #offLost: () => void;

  private constructor(device: DeviceProxy, owned: boolean, options: TangoWalkerOptions) {
    super();
    this.device = device;
    this.#owned = owned;
    this.#options = options;
    this.#offLost = device.onConnectionLost(() => (this.#stale = true));
  }

  /**
   * Connects to the device, sets its root (or takes the device's), goes home and sets the dataset
   * layout. @throws OptionError for bad options, StorageError naming the device.
   */
  static async create(options: TangoWalkerOptions): Promise<TangoDirectoryWalker> {
    parseOptions('RemoteDirectoryWalker.create', TANGO_WALKER_OPTIONS, options);
    const owned = typeof options.device === 'string';
    let device: DeviceProxy;
    try {
      device =
        typeof options.device === 'string'
          ? await DeviceProxy.create(options.device, { timeoutMs: options.timeoutMs ?? 10_000 })
          : options.device;
    } catch (e) {
      throw new StorageError(`cannot reach the walker device ${String(options.device)}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    const walker = new TangoDirectoryWalker(device, owned, options);
    try {
      await walker.#configure(undefined);
    } catch (e) {
      await walker.close();
      throw e;
    }
    return walker;
  }

  /** Sets root, layout and position on the device (again after a restart of its server). */
  async #configure(position: string | undefined): Promise<void> {
    const o = this.#options;
    await this.#guard('configure', async () => {
      if (o.root !== undefined) await this.device.writeAttribute('root', o.root);
      this.#root = (await this.device.readAttribute('root')).value as string;
      await this.device.writeAttribute('current', position ?? this.#root);
      this.#current = position ?? this.#root;
      await this.device.writeAttribute('writer_class', o.writerClass ?? 'TiffWriter');
      await this.device.writeAttribute('dsetname', o.dsetname ?? 'frame_{:>06}.tif');
      await this.device.writeAttribute('start_index', BigInt(o.startIndex ?? 0));
      await this.device.writeAttribute('bytes_per_file', BigInt(o.bytesPerFile ?? 0));
    });
    this.#loggers.clear();
    this.#stale = false;
  }

  /** Runs a device call, errors as StorageError naming the device and what failed. */
  async #guard<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw new StorageError(`${this.device.name}: ${what} failed: ${errorMessage(e)}`, { cause: e });
    }
  }

  /** A call on a device that knows where it is (configured again after its server restarted). */
  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.#stale) await this.#configure(this.#current);
    return this.#guard(what, call);
  }

  get root(): string {
    return this.#root;
  }

  get current(): string {
    return this.#current;
  }

  async #readCurrent(): Promise<void> {
    this.#current = (await this.device.readAttribute('current')).value as string;
  }

  async descend(name: string): Promise<void> {
    await this.#call(`descend into ${name}`, async () => {
      await this.device.command('descend', name, TangoType.DevString);
      await this.#readCurrent();
    });
  }

  async ascend(): Promise<void> {
    if (this.#current === this.#root) throw new StorageError(`cannot break out of ${this.#root}`);
    await this.#call('ascend', async () => {
      await this.device.command('ascend', undefined, TangoType.DevVoid);
      await this.#readCurrent();
    });
  }

  async home(): Promise<void> {
    await this.#call('home', async () => {
      await this.device.writeAttribute('current', this.#root);
      this.#current = this.#root;
    });
  }

  exists(...path: string[]): Promise<boolean> {
    return this.#call(`exists ${path.join('/')}`, async () =>
      Boolean(await this.device.command('exists', path, TangoType.DevVarStringArray)),
    );
  }

  /** Puts the device where this walker is (before a Tango ImageWriter's `write_sequence`). */
  async sync(): Promise<void> {
    await this.#call('set current', () => this.device.writeAttribute('current', this.#current));
  }

  async writer(name: string): Promise<DatasetWriter> {
    throw new StorageError(
      `the Tango RemoteDirectoryWalker cannot write dataset '${name}' from the session: attach a Tango ImageWriter (concert/addons/tango) to write it in the server`,
    );
  }

  async writeText(name: string, text: string): Promise<void> {
    await this.#call(`write ${name}`, () =>
      this.device.command('log_to_json', [text, name], TangoType.DevVarStringArray),
    );
  }

  /** Appends through the device's file logger for `name` (registered on first use in each directory). */
  async appendText(name: string, text: string): Promise<void> {
    await this.#call(`append to ${name}`, async () => {
      const key = `${this.#current}\u0000${name}`;
      let path = this.#loggers.get(key);
      if (!path) {
        path = (await this.device.command(
          'register_logger',
          [name, INFO, name],
          TangoType.DevVarStringArray,
        )) as string;
        this.#loggers.set(key, path);
      }
      // The server adds the line break, as Python's logging does.
      await this.device.command('log', [path, INFO, text.replace(/\n$/, '')], TangoType.DevVarStringArray);
    });
  }

  /** Deregisters the loggers and closes the connection the walker opened (the server keeps running). */
  async close(): Promise<void> {
    this.#offLost();
    for (const path of this.#loggers.values())
      await this.device.command('deregister_logger', path, TangoType.DevString).catch(() => undefined);
    this.#loggers.clear();
    if (this.#owned) await this.device.close();
  }
}

export { TangoDirectoryWalker as RemoteDirectoryWalker };
