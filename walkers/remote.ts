/**
 * A walker that lives in a writer server (`concert serve writer`): the session moves it and
 * writes logs and JSON metadata through it; the server writes the data next to them.
 * @module
 */
import { dirname, relative } from 'node:path';
import { ControlClient, RemoteError, TransportError, zcurve } from '../transport/zmq/index.js';
import { Walker, type DatasetEstimate, type DatasetOptions, type DatasetWriter } from './base.js';
import { StorageError, tiffDatasetSize } from './formats/index.js';
import type { FrameLike } from './formats/tiff-layout.js';
import { errorMessage, MAX_TIMER_MS, parseOptions, z } from '../core/index.js';
import { DATASET_LAYOUT_OPTIONS } from './directory.js';

/** The options of {@link RemoteDirectoryWalker.create}; the dataset layout is applied on the server (its root is the server's `--root`). */
export const REMOTE_DIRECTORY_WALKER_OPTIONS = DATASET_LAYOUT_OPTIONS.extend({
  /** The writer server's control endpoint. */
  server: z.string(),
  /** A request without a reply in this long means the server is gone (ms, default 3000). */
  timeoutMs: z.number().min(1).max(MAX_TIMER_MS).optional(),
  /** CURVE keys of the control connection. */
  curve: zcurve.optional(),
});

/** Options of {@link RemoteDirectoryWalker.create}. */
export type RemoteDirectoryWalkerOptions = z.input<typeof REMOTE_DIRECTORY_WALKER_OPTIONS>;

/** How long after a failed call the walker refuses calls at once instead of asking the server again (ms). */
const RETRY_AFTER_MS = 1000;

/**
 * Drives the walker of a writer server. Datasets are written by the remote `ImageWriter`.
 *
 * The session keeps the position: every request carries it (`at`, relative to the root) and
 * the server's walker goes there first, so a restarted server needs nothing restored. `ascend`
 * and `home` move the position even when the server does not answer (a run's cleanup after the
 * server died must not leave the next run inside the failed run's directory). After a server
 * stopped answering, calls fail at once for a second (so a failed run's clean-up is quick), then
 * each asks the server again; a new run ({@link runStarting}) asks at once.
 */
export class RemoteDirectoryWalker extends Walker {
  #root = '';
  #current = '';
  #pid = 0;
  #config: Omit<RemoteDirectoryWalkerOptions, 'server' | 'timeoutMs' | 'curve'> = {};
  /** The server stopped answering: why, and when it was last asked (`performance.now()`). */
  #down: { error: TransportError; askedAt: number } | undefined;

  private constructor(readonly client: ControlClient) {
    super();
  }

  /** Connects and configures the server's walker. @throws OptionError, StorageError naming the server. */
  static async create(options: RemoteDirectoryWalkerOptions): Promise<RemoteDirectoryWalker> {
    parseOptions('RemoteDirectoryWalker.create', REMOTE_DIRECTORY_WALKER_OPTIONS, options);
    const client = await ControlClient.create({
      connect: options.server,
      timeoutMs: options.timeoutMs ?? 3000,
      curve: options.curve,
    });
    const walker = new RemoteDirectoryWalker(client);
    const { server: _s, timeoutMs: _t, curve: _c, ...config } = options;
    walker.#config = config;
    try {
      await walker.#configure();
    } catch (error) {
      client.close();
      throw new StorageError(`cannot use the walker of ${options.server}: ${errorMessage(error)}`, { cause: error });
    }
    return walker;
  }

  async #configure(): Promise<void> {
    const r = await this.client.request<{ root: string; current: string; pid: number }>(
      'walker.configure',
      this.#config,
    );
    this.#root = r.root;
    this.#current = r.current;
    this.#pid = r.pid;
  }

  get root(): string {
    return this.#root;
  }

  get current(): string {
    return this.#current;
  }

  /** The current directory relative to the root (`''` at the root), as requests carry it. */
  get at(): string {
    return relative(this.#root, this.#current);
  }

  /** The dataset layout the session configured (the writer server applies it to each stream). */
  get layout(): Omit<RemoteDirectoryWalkerOptions, 'server' | 'timeoutMs' | 'curve'> {
    return { ...this.#config };
  }

  /**
   * The TIFF bytes the writer server would write with this walker's layout (exact, as the
   * server writes with the same writer), and its free space, asked of the server. HDF5: not estimated.
   */
  override async estimateDataset(
    _name: string,
    frames: Iterable<FrameLike>,
    options: DatasetOptions = {},
  ): Promise<DatasetEstimate | undefined> {
    if (this.#config.format === 'hdf5' && !options.pattern) return undefined;
    const size = tiffDatasetSize(frames, { bytesPerFile: options.pattern ? 0 : (this.#config.bytesPerFile ?? 0) });
    const client = this.client;
    return {
      bytes: size.bytes,
      files: size.files,
      exact: true,
      storage: {
        where: `${client.endpoint} ${this.#root}`,
        free: async () => (await client.request<{ free: number }>('walker.space', undefined, { timeoutMs: 1000 })).free,
      },
    };
  }

  /**
   * A new run asks a server that had stopped answering at once, waiting up to half a second for
   * ZeroMQ to reconnect to a restarted one; if it is still away, the run's calls fail fast with the error.
   */
  override async runStarting(): Promise<void> {
    const down = this.#down;
    if (!down) return;
    if (await this.#back(500)) this.#down = undefined;
    else down.askedAt = performance.now();
  }

  /** True once the server answered again after it had stopped; a restarted server is configured again. */
  async #back(timeoutMs = 300): Promise<boolean> {
    try {
      const r = await this.client.request<{ pid: number }>('walker.current', undefined, { timeoutMs });
      if (r.pid !== this.#pid) {
        const current = this.#current;
        await this.client.request('walker.configure', this.#config);
        this.#pid = r.pid;
        this.#current = current; // the position travels with every request
      }
      return true;
    } catch {
      return false;
    }
  }

  async #call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.#down) {
      // fail fast for a while after a failure, then ask again: the window does not restart on refusals
      const down = this.#down;
      const recent = performance.now() - down.askedAt < RETRY_AFTER_MS;
      if (recent || !(await this.#back())) {
        if (!recent) down.askedAt = performance.now();
        throw new StorageError(`${this.client.endpoint} is not answering: ${down.error.message}`, {
          cause: down.error,
        });
      }
      this.#down = undefined;
    }
    try {
      return await this.client.request<T>(method, { ...params, at: this.at });
    } catch (error) {
      if (error instanceof TransportError && !(error instanceof RemoteError))
        this.#down = { error, askedAt: performance.now() };
      throw new StorageError(`${this.client.endpoint}: ${errorMessage(error)}`, { cause: error });
    }
  }

  async descend(name: string): Promise<void> {
    this.#current = await this.#call('walker.descend', { name });
  }

  async ascend(): Promise<void> {
    if (this.#current === this.#root)
      throw new StorageError(`cannot ascend above the walker root ${this.#root}`, { path: this.#root });
    const parent = dirname(this.#current);
    try {
      this.#current = await this.#call('walker.ascend');
    } catch (error) {
      // the session has left the directory even if the server did not hear it
      if (!isRefusal(error)) this.#current = parent;
      throw error;
    }
  }

  async home(): Promise<void> {
    try {
      this.#current = await this.#call('walker.home');
    } catch (error) {
      if (!isRefusal(error)) this.#current = this.#root;
      throw error;
    }
  }

  exists(...path: string[]): Promise<boolean> {
    return this.#call('walker.exists', { path });
  }

  async writer(name: string): Promise<DatasetWriter> {
    throw new StorageError(
      `RemoteDirectoryWalker cannot write dataset '${name}' from the session: attach a remote ImageWriter (concert/addons/remote) to ` +
        `write it in the server`,
    );
  }

  async writeText(name: string, text: string): Promise<void> {
    await this.#call('walker.writeText', { name, text });
  }

  async appendText(name: string, text: string): Promise<void> {
    await this.#call('walker.appendText', { name, text });
  }

  override async flush(): Promise<void> {
    await this.#call('walker.flush');
  }

  /** Closes the connection (the server keeps running). */
  close(): void {
    this.client.close();
  }
}

/** True if the server answered and refused (its walker is where it was). */
function isRefusal(error: unknown): boolean {
  return error instanceof StorageError && error.cause instanceof RemoteError;
}
