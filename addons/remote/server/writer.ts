/**
 * The writer server (`concert serve writer`): writes streams through a walker that lives in the
 * server process. The session drives the walker remotely (`RemoteDirectoryWalker`).
 *
 * The walker never leaves the server's `--root`. Walker requests and `stream.start` may carry
 * `at` — the session's idea of the current directory, relative to the walker's root — and the
 * walker goes there first, so a restarted server writes where the session thinks it is without
 * any position of its own to restore; `stream.start` may also carry the dataset `layout`.
 * @module
 */
import { realpath, statfs } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { Mutex, parseOptions, type Frame } from '../../../core/index.js';
import {
  DATASET_LAYOUT_OPTIONS,
  DIRECTORY_WALKER_OPTIONS,
  DirectoryWalker,
  StorageError,
  type DirectoryWalkerOptions,
} from '../../../walkers/index.js';
import { StreamServer, type StreamServerOptions, type StreamSink, type StreamStartParams } from './stream-server.js';

/** Options of the writer server. */
export interface WriterServerOptions extends StreamServerOptions {
  /** Root of the walker (default: the working directory); no client can make it write outside. */
  root?: string;
}

/** Dataset layout (`dsetname`, `startIndex`, `bytesPerFile`, `format`) as the session configured it. */
type Layout = Omit<DirectoryWalkerOptions, 'root'>;

/** Writes each stream as a dataset named after it, in the walker's current directory. */
export class WriterServer extends StreamServer {
  #walker!: DirectoryWalker;
  /** The server's `--root` (real path): the walker's root is always this or below it. */
  #base!: string;
  #layout: Layout = {};
  /** Walker moves and the requests that use the position, one at a time. */
  readonly #walking = new Mutex();
  #bytes = 0;
  #files = 0;
  /** The last dataset of each stream name: frames and bytes on disk (headers included). */
  readonly #datasets = new Map<string, { frames: number; bytes: number }>();

  constructor(options: WriterServerOptions) {
    super('writer', options);
  }

  override async start(): Promise<this> {
    this.#walker = await DirectoryWalker.create({ root: (this.options as WriterServerOptions).root });
    this.#base = this.#walker.root;
    return super.start();
  }

  protected override handlers(): Record<string, (params: unknown) => unknown> {
    const name = (p: unknown): string => {
      const n = (p as { name?: unknown } | null)?.name;
      if (typeof n !== 'string')
        throw new TypeError(`expected { name: string }, got name ${JSON.stringify(n)?.slice(0, 40)}`);
      return n;
    };
    const text = (p: unknown): string => {
      const t = (p as { text?: unknown } | null)?.text;
      if (typeof t !== 'string') throw new TypeError(`expected { name, text: string }, got text ${typeof t}`);
      return t;
    };
    /** Runs `fn` with the walker at the request's `at` (if any), alone. */
    const at =
      <T>(fn: (w: DirectoryWalker) => Promise<T> | T) =>
      (p: unknown): Promise<T> =>
        this.#walking.run(async () => {
          await this.#moveTo((p as { at?: unknown } | null)?.at);
          return fn(this.#walker);
        });
    const where = () => ({ root: this.#walker.root, current: this.#walker.current, pid: process.pid });
    return {
      'walker.configure': (p) => this.#walking.run(() => this.#configure(p)),
      'walker.current': () => where(),
      'walker.descend': (p) => at(async (w) => (await w.descend(name(p)), w.current))(p),
      'walker.ascend': at(async (w) => (await w.ascend(), w.current)),
      'walker.home': at(async (w) => (await w.home(), w.current)),
      'walker.exists': (p) =>
        at((w) => {
          const path = (p as { path?: unknown } | null)?.path ?? [];
          if (!Array.isArray(path) || !path.every((s) => typeof s === 'string'))
            throw new TypeError('walker.exists needs { path: string[] }');
          return w.exists(...(path as string[]));
        })(p),
      'walker.writeText': (p) => at(async (w) => void (await w.writeText(name(p), text(p))))(p),
      'walker.appendText': (p) => at(async (w) => void (await w.appendText(name(p), text(p))))(p),
      'walker.flush': () => this.#walking.run(() => this.#walker.flush()),
      // Free bytes below the root, for dry runs (`experiment.estimate()`).
      'walker.space': async () => {
        const fs = await statfs(this.#walker.root);
        return { root: this.#walker.root, free: fs.bavail * fs.bsize };
      },
    };
  }

  /** `walker.configure {root?, ...layout}`: a root only below `--root`. */
  async #configure(params: unknown): Promise<{ root: string; current: string; pid: number }> {
    const options = (params ?? {}) as DirectoryWalkerOptions;
    parseOptions('walker.configure', DIRECTORY_WALKER_OPTIONS, options);
    const { root, ...layout } = options;
    const target = root === undefined ? this.#walker.root : await this.#inside(root);
    await this.#walker.flush();
    this.#walker = await DirectoryWalker.create({ root: target, ...layout });
    this.#layout = layout;
    return { root: this.#walker.root, current: this.#walker.current, pid: process.pid };
  }

  /** Resolves a requested root below `--root`. @throws StorageError for anything outside. */
  async #inside(root: string): Promise<string> {
    const wanted = resolve(this.#base, root);
    const real = await realpath(wanted).catch(() => wanted);
    const rel = relative(this.#base, real);
    if (rel.startsWith('..') || isAbsolute(rel))
      throw new StorageError(
        `walker.configure: root '${root}' is outside the server's root ${this.#base} (--root); a client may only choose ` +
          `a directory below it`,
        { path: wanted },
      );
    return real;
  }

  /** Goes to `at` (relative to the walker's root; '' is the root), checked like any descend. */
  async #moveTo(at: unknown): Promise<void> {
    if (at === undefined || at === null) return;
    if (typeof at !== 'string')
      throw new TypeError(`'at' must be a path relative to the walker root, got ${typeof at}`);
    const w = this.#walker;
    if (relative(w.root, w.current) === at) return;
    if (w.current !== w.root) await w.home();
    if (at !== '') await w.descend(at);
  }

  /** The layout a stream asks for, applied if it differs from the walker's (a restarted server). */
  async #useLayout(layout: unknown): Promise<void> {
    if (layout === undefined || layout === null) return;
    parseOptions('stream.start layout', DATASET_LAYOUT_OPTIONS, layout);
    if (JSON.stringify(layout) === JSON.stringify(this.#layout)) return;
    await this.#configure(layout);
  }

  protected async openStream(name: string, params: StreamStartParams): Promise<StreamSink> {
    const writer = await this.#walking.run(async () => {
      await this.#useLayout(params.layout);
      await this.#moveTo(params.at);
      return this.#walker.writer(name);
    });
    this.log.info(`writing stream '${name}' to ${writer.location}`);
    return {
      frame: async (frame: Frame) => {
        await writer.write(frame);
        this.#bytes += frame.data.byteLength;
      },
      close: async (ok) => {
        if (ok) await writer.close();
        else await writer.close().catch(() => writer.abort());
        this.#files++;
        this.#datasets.set(name, { frames: writer.framesWritten, bytes: writer.bytesWritten });
      },
    };
  }

  protected override extraStatus(): Record<string, unknown> {
    return {
      bytesWritten: this.#bytes,
      datasets: this.#files,
      lastDatasets: Object.fromEntries(this.#datasets),
      root: this.#walker?.root,
      current: this.#walker?.current,
    };
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.#walker?.flush();
  }
}
