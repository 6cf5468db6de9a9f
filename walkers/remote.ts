/**
 * A walker that lives in a writer server (`concert serve writer`): the session moves it and
 * writes logs and JSON metadata through it; the server writes the data next to them.
 * @module
 */
import { relative } from 'node:path';
import { ControlClient, TransportError, type CurveOptions } from '../transport/zmq/index.js';
import { Walker, type DatasetWriter } from './base.js';
import { StorageError } from './formats/index.js';
import { errorMessage, parseOptions, z } from '../core/index.js';
import { DATASET_LAYOUT_OPTIONS } from './directory.js';

/** The options of {@link RemoteDirectoryWalker.create}; the dataset layout is applied on the server (its root is the server's `--root`). */
export const REMOTE_DIRECTORY_WALKER_OPTIONS = DATASET_LAYOUT_OPTIONS.extend({
  /** The writer server's control endpoint. */
  server: z.string(),
  /** A request without a reply in this long means the server is gone (ms, default 3000). */
  timeoutMs: z.number().min(1).optional(),
  /** CURVE keys of the control connection. */
  curve: z.custom<CurveOptions>((v) => typeof v === 'object' && v !== null).optional(),
});

/** Options of {@link RemoteDirectoryWalker.create}. */
export type RemoteDirectoryWalkerOptions = z.input<typeof REMOTE_DIRECTORY_WALKER_OPTIONS>;

/** Drives the walker of a writer server. Datasets are written by the remote `ImageWriter`. */
export class RemoteDirectoryWalker extends Walker {
  #root = '';
  #current = '';
  #pid = 0;
  #config: Omit<RemoteDirectoryWalkerOptions, 'server' | 'timeoutMs' | 'curve'> = {};
  #down: { error: TransportError; since: number } | undefined;

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

  /**
   * A restarted server has forgotten the walker's options and position: configure it again and
   * go back to where the session thinks it is.
   */
  async #checkRestart(): Promise<void> {
    const r = await this.#call<{ current: string; pid: number }>('walker.current');
    if (r.pid === this.#pid) return;
    const wanted = this.#current;
    await this.#configure();
    const rel = relative(this.#root, wanted);
    if (rel && !rel.startsWith('..')) await this.descend(rel);
  }

  get root(): string {
    return this.#root;
  }

  get current(): string {
    return this.#current;
  }

  async #call<T>(method: string, params?: unknown): Promise<T> {
    // After the server stopped answering, fail fast unless a quick ping shows it is back.
    if (this.#down) {
      const { error, since } = this.#down;
      const back =
        performance.now() - since > 2000 &&
        (await this.client.request('status', undefined, { timeoutMs: 300 }).then(
          () => true,
          () => false,
        ));
      if (!back) {
        this.#down.since = performance.now();
        throw new StorageError(`${this.client.endpoint} is not answering: ${error.message}`, { cause: error });
      }
      this.#down = undefined;
    }
    try {
      return await this.client.request<T>(method, params);
    } catch (error) {
      if (error instanceof TransportError) this.#down = { error, since: performance.now() };
      throw new StorageError(`${this.client.endpoint}: ${errorMessage(error)}`, { cause: error });
    }
  }

  async descend(name: string): Promise<void> {
    await this.#checkRestart();
    this.#current = await this.#call('walker.descend', { name });
  }

  async ascend(): Promise<void> {
    this.#current = await this.#call('walker.ascend');
  }

  async home(): Promise<void> {
    this.#current = await this.#call('walker.home');
  }

  exists(...path: string[]): Promise<boolean> {
    return this.#call('walker.exists', { path });
  }

  async writer(name: string): Promise<DatasetWriter> {
    throw new StorageError(
      `RemoteDirectoryWalker cannot write dataset '${name}' from the session: attach a remote ImageWriter (concert/addons/remote) to write it in the server`,
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
