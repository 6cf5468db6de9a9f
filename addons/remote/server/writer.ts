/**
 * The writer server (`concert serve writer`): writes streams through a walker that lives in the
 * server process. The session drives the walker remotely (`RemoteDirectoryWalker`).
 * @module
 */
import { parseOptions, type Frame } from '../../../core/index.js';
import { DIRECTORY_WALKER_OPTIONS, DirectoryWalker, type DirectoryWalkerOptions } from '../../../walkers/index.js';
import { StreamServer, type StreamServerOptions, type StreamSink } from './stream-server.js';

/** Options of the writer server. */
export interface WriterServerOptions extends StreamServerOptions {
  /** Root of the walker (default: the working directory). */
  root?: string;
}

/** Writes each stream as a dataset named after it, in the walker's current directory. */
export class WriterServer extends StreamServer {
  #walker!: DirectoryWalker;
  #bytes = 0;
  #files = 0;

  constructor(options: WriterServerOptions) {
    super('writer', options);
  }

  override async start(): Promise<this> {
    this.#walker = await DirectoryWalker.create({ root: (this.options as WriterServerOptions).root });
    return super.start();
  }

  protected override handlers(): Record<string, (params: unknown) => unknown> {
    const w = () => this.#walker;
    const name = (p: unknown) => String((p as { name?: unknown })?.name ?? '');
    return {
      'walker.configure': async (p) => {
        const options = (p ?? {}) as DirectoryWalkerOptions;
        parseOptions('walker.configure', DIRECTORY_WALKER_OPTIONS, options);
        await this.#walker.flush();
        this.#walker = await DirectoryWalker.create({ root: this.#walker.root, ...options });
        return { root: this.#walker.root, current: this.#walker.current, pid: process.pid };
      },
      'walker.current': () => ({ root: w().root, current: w().current, pid: process.pid }),
      'walker.descend': async (p) => (await w().descend(name(p)), w().current),
      'walker.ascend': async () => (await w().ascend(), w().current),
      'walker.home': async () => (await w().home(), w().current),
      'walker.exists': (p) => w().exists(...(((p as { path?: string[] })?.path ?? []) as string[])),
      'walker.writeText': async (p) =>
        void (await w().writeText(name(p), String((p as { text?: unknown }).text ?? ''))),
      'walker.appendText': async (p) =>
        void (await w().appendText(name(p), String((p as { text?: unknown }).text ?? ''))),
      'walker.flush': () => w().flush(),
    };
  }

  protected async openStream(name: string): Promise<StreamSink> {
    const writer = await this.#walker.writer(name);
    this.log.info(`writing stream '${name}' to ${writer.location}`);
    return {
      doneWithFrames: true, // written (or copied by the HDF5 writer) when write() resolves
      frame: async (frame: Frame) => {
        await writer.write(frame);
        this.#bytes += frame.data.byteLength;
      },
      close: async (ok) => {
        if (ok) await writer.close();
        else await writer.close().catch(() => writer.abort());
        this.#files++;
      },
    };
  }

  protected override extraStatus(): Record<string, unknown> {
    return {
      bytesWritten: this.#bytes,
      datasets: this.#files,
      root: this.#walker?.root,
      current: this.#walker?.current,
    };
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.#walker?.flush();
  }
}
