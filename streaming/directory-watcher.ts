/**
 * A producer of the files that appear in a directory, for detectors that write to disk on their
 * own: each new file whose name matches a glob is yielded once it has stopped growing.
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import picomatch from 'picomatch';
import type { Frame } from '../core/frame.js';
import { errorMessage } from '../core/errors.js';
import { parseOptions, z } from '../core/options.js';
import { startInterval, startTimer, type Timer } from '../core/timers.js';
import type { Producer } from '../core/producer.js';
import { TiffReader } from '../walkers/formats/index.js';
import { StreamingError } from './errors.js';
import type { StepInput, StepSource } from './input.js';
import { now } from './item.js';

/** The options of {@link DirectoryWatcher.create}. */
export const DIRECTORY_WATCHER_OPTIONS = z.strictObject({
  /** The directory to watch (it must exist). */
  directory: z.string().min(1),
  /** Glob on file names (picomatch: `*.tif`, `frame_*.{tif,tiff}`); default `*`. Dot files need a pattern that names them. */
  pattern: z.string().min(1).optional(),
  /** Yield the matching files already in the directory first, in natural name order (default false: only new files). */
  existing: z.boolean().optional(),
  /**
   * A file is taken once its size and modification time have not changed for this long
   * (default 1000 ms). `0` takes a file as soon as it appears: right for writers that write
   * elsewhere and rename complete files into place (as Concert's own TIFF writer does).
   */
  fileTimeoutMs: z.number().min(0).optional(),
  /** Interval of the full rescan that backs up change notifications (default 2000 ms). */
  pollMs: z.number().min(10).optional(),
});

/** Options of {@link DirectoryWatcher.create}. */
export type DirectoryWatcherOptions = z.input<typeof DIRECTORY_WATCHER_OPTIONS>;

/** The options of {@link DirectoryWatcher.frames}. */
export const WATCHER_FRAMES_OPTIONS = z.strictObject({
  /** End after this many frames (an acquisition of a known size); default: until aborted. */
  count: z.number().int().min(1).optional(),
});

/** A file the watcher yields. */
export interface WatchedFile {
  /** Absolute path. */
  readonly path: string;
  /** Name in the directory (the input key of a step). */
  readonly name: string;
  /** Size in bytes when it was taken. */
  readonly size: number;
  readonly mtimeMs: number;
  /** When the watcher first saw the file (ms since the epoch). */
  readonly foundAt: number;
  /** When it was taken as complete (ms since the epoch). */
  readonly readyAt: number;
}

/** A file looked at, until it stops changing. */
interface Pending {
  size: number;
  mtimeMs: number;
  foundAt: number;
  /** When the current size and mtime were first seen (performance.now()). */
  stableSince: number;
  checkAt: number;
}

/** Files stat'ed and waiting at once, and files taken but not yet pulled (bounds memory with 10⁵ files). */
const MAX_PENDING = 1024;
const MAX_READY = 256;

/** Natural name order (`frame_2` before `frame_10`); one collator, as `localeCompare` with options builds one per call. */
const naturalOrder = new Intl.Collator(undefined, { numeric: true }).compare;

/**
 * Watches a directory for new files: `files()` is a producer of {@link WatchedFile}s (the input
 * of a streaming step), `frames()` one of the frames in those files (TIFF), for an acquisition.
 *
 * Change notifications (inotify) make a new file known within milliseconds; a rescan every
 * `pollMs` catches what notifications miss (network file systems). Memory stays bounded however
 * many files come: the watcher keeps their names (to take each once) and the state of at most
 * 1024 files still growing.
 *
 * @example
 * ```ts
 * const watcher = await DirectoryWatcher.create({ directory: '/data/detector', pattern: '*.tif' });
 * const read = await StreamingStep.create({ name: 'read', input: watcher, process: (file) => readTiff(file.path) });
 * ```
 */
export class DirectoryWatcher implements StepSource<WatchedFile> {
  readonly directory: string;
  readonly pattern: string;
  readonly existing: boolean;
  readonly fileTimeoutMs: number;
  readonly pollMs: number;
  readonly #matches: (name: string) => boolean;

  /**
   * Checks the options and that the directory exists.
   * @throws OptionError naming a bad option; StreamingError for a missing directory.
   */
  static async create(options: DirectoryWatcherOptions): Promise<DirectoryWatcher> {
    parseOptions('DirectoryWatcher.create', DIRECTORY_WATCHER_OPTIONS, options);
    const watcher = new DirectoryWatcher(options);
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(watcher.directory)).isDirectory();
    } catch (error) {
      throw new StreamingError(`DirectoryWatcher: cannot watch ${watcher.directory}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    if (!isDirectory) throw new StreamingError(`DirectoryWatcher: ${watcher.directory} is not a directory`);
    return watcher;
  }

  private constructor(options: DirectoryWatcherOptions) {
    this.directory = resolve(options.directory);
    this.pattern = options.pattern ?? '*';
    this.existing = options.existing ?? false;
    this.fileTimeoutMs = options.fileTimeoutMs ?? 1000;
    this.pollMs = options.pollMs ?? 2000;
    this.#matches = picomatch(this.pattern);
  }

  /** What the watcher reads, for messages and set files: `directory /data/in (*.tif)`. */
  toString(): string {
    return `directory ${this.directory} (${this.pattern})`;
  }

  /**
   * Yields each matching file once, when it is complete; runs until `signal` aborts (then it
   * ends quietly).
   * @throws StreamingError if the directory cannot be read any more (removed, unmounted).
   */
  files(signal?: AbortSignal): AsyncGenerator<WatchedFile, void, undefined> {
    return new FileStream(this, this.#matches, signal).run();
  }

  /** @internal The watcher as the input of a step: key = the file name. */
  toStepInput(): StepInput<WatchedFile> {
    return {
      description: String(this),
      endReason: 'input-ended',
      items: async function* (this: DirectoryWatcher, signal: AbortSignal) {
        for await (const file of this.files(signal))
          yield { key: file.name, index: undefined, load: () => file, receivedAt: file.readyAt };
      }.bind(this),
      reload: async (name) => {
        const path = join(this.directory, name);
        const s = await stat(path);
        return { path, name, size: s.size, mtimeMs: s.mtimeMs, foundAt: now(), readyAt: now() };
      },
    };
  }

  /**
   * A producer of the frames in the files (every page of each TIFF file, in file order), for
   * `Acquisition.create('radios', watcher.frames())`. Frame numbers count across files; each
   * frame's metadata gets `file` (the file name) and `page`. With `count` the producer ends after
   * that many frames (the acquisition ends); without it, it runs until its signal aborts.
   * @throws OptionError for a `count` that is not a whole number ≥ 1.
   */
  frames(options: z.input<typeof WATCHER_FRAMES_OPTIONS> = {}): Producer<Frame> {
    const { count = Infinity } = parseOptions('DirectoryWatcher.frames', WATCHER_FRAMES_OPTIONS, options);
    const files = (signal: AbortSignal) => this.files(signal);
    return async function* frames(signal: AbortSignal) {
      let frameNumber = 0;
      for await (const file of files(signal)) {
        const reader = await TiffReader.open(file.path);
        try {
          for await (const page of reader.pages()) {
            yield {
              ...page.frame,
              metadata: { ...page.frame.metadata, frameNumber: frameNumber++, file: file.name, page: page.index },
            };
            if (frameNumber >= count) return;
          }
        } finally {
          await reader.close();
        }
      }
    };
  }
}

/** The state of one `files()` run. */
class FileStream {
  /** Every name discovered (taken, pending or queued): each file is taken once. */
  readonly #known = new Set<string>();
  /** Names discovered but not yet looked at (FIFO). */
  #discovered: string[] = [];
  #discoveredHead = 0;
  /** Files still changing, looked at again when due. */
  readonly #waiting = new Map<string, Pending>();
  /** When the first waiting file is due (performance.now()). */
  #nextDue = Infinity;
  readonly #ready: WatchedFile[] = [];
  #wake: (() => void) | undefined;
  #timer: Timer | undefined;
  #failure: unknown;
  #checking = false;
  #again = false;
  #watcher: FSWatcher | undefined;

  constructor(
    readonly owner: DirectoryWatcher,
    readonly matches: (name: string) => boolean,
    readonly signal: AbortSignal | undefined,
  ) {}

  async *run(): AsyncGenerator<WatchedFile, void, undefined> {
    const { signal, owner } = this;
    if (signal?.aborted) return;
    const onAbort = () => this.#poke();
    signal?.addEventListener('abort', onAbort, { once: true });
    const poll = startInterval(owner.pollMs, () => this.#rescan(false));
    try {
      // Watch first, then list: a file created while listing is seen by one or the other.
      this.#watcher = watch(owner.directory, { persistent: false }, (_event, name) => {
        if (name === null) void this.#rescan(false);
        else this.#discover(String(name));
      });
      this.#watcher.on('error', (error) => this.#fail(error));
      await this.#rescan(true);
      for (;;) {
        if (signal?.aborted) return;
        if (this.#failure !== undefined) throw this.#failure;
        const file = this.#ready.shift();
        if (file) {
          // Refill in batches, not one stat cycle per file taken.
          if (this.#ready.length <= MAX_READY / 2) this.#kick();
          yield file;
          continue;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    } catch (error) {
      if (error instanceof StreamingError) throw error;
      throw new StreamingError(`DirectoryWatcher: cannot watch ${owner.directory}: ${errorMessage(error)}`, {
        cause: error,
      });
    } finally {
      poll.cancel();
      this.#timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      this.#watcher?.close();
    }
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#poke();
  }

  /** A name from a change notification or a listing. */
  #discover(name: string): void {
    if (this.#known.has(name) || !this.matches(name)) return;
    this.#known.add(name);
    this.#discovered.push(name);
    this.#kick();
  }

  /** Lists the directory; on the first listing, existing files are taken or ignored as asked. */
  async #rescan(first: boolean): Promise<void> {
    const names: string[] = [];
    try {
      for await (const entry of await opendir(this.owner.directory))
        if (!entry.isDirectory() && !this.#known.has(entry.name) && this.matches(entry.name)) names.push(entry.name);
    } catch (error) {
      this.#fail(error);
      return;
    }
    names.sort(naturalOrder);
    if (first && !this.owner.existing) for (const name of names) this.#known.add(name);
    else for (const name of names) this.#discover(name);
  }

  /** Runs {@link check} now (or again right after the running one). */
  #kick(): void {
    if (this.#checking) {
      this.#again = true;
      return;
    }
    void this.#check();
  }

  /**
   * Looks at newly discovered files (as many as the bounds allow) and at the waiting files that
   * are due; queues the complete ones. Discovered names cost a stat each once; waiting files are
   * looked at again only when their timeout is due.
   */
  async #check(): Promise<void> {
    this.#checking = true;
    try {
      do {
        this.#again = false;
        const fresh: [string, Pending][] = [];
        while (
          this.#waiting.size + fresh.length < MAX_PENDING &&
          this.#ready.length + fresh.length < MAX_READY &&
          this.#discoveredHead < this.#discovered.length
        ) {
          const name = this.#discovered[this.#discoveredHead++]!;
          fresh.push([name, { size: -1, mtimeMs: -1, foundAt: now(), stableSince: 0, checkAt: 0 }]);
        }
        if (this.#discoveredHead > 1024 && this.#discoveredHead * 2 > this.#discovered.length) {
          this.#discovered = this.#discovered.slice(this.#discoveredHead);
          this.#discoveredHead = 0;
        }
        const t = performance.now();
        const due = t >= this.#nextDue ? [...this.#waiting].filter(([, p]) => p.checkAt <= t) : [];
        if (due.length > 0) this.#nextDue = Infinity;
        for (const [name] of due) this.#waiting.delete(name);
        // Queued in the order looked at (discovery order: natural order within a listing), not
        // in the order the stats happen to complete.
        const looked = await Promise.all([...fresh, ...due].map(([name, p]) => this.#look(name, p)));
        const complete = looked.filter((file) => file !== undefined);
        if (complete.length > 0) {
          this.#ready.push(...complete);
          this.#poke();
        }
        if (due.length > 0) for (const p of this.#waiting.values()) this.#nextDue = Math.min(this.#nextDue, p.checkAt);
      } while (this.#again);
    } finally {
      this.#checking = false;
    }
    this.#schedule();
  }

  /** Stats one file: gone, still changing (it waits), or complete (returned, to be queued). */
  async #look(name: string, p: Pending): Promise<WatchedFile | undefined> {
    const timeout = this.owner.fileTimeoutMs;
    let s;
    try {
      s = await stat(join(this.owner.directory, name));
    } catch {
      // Deleted (or renamed away) before it was complete: forget it; a new file of that name is new.
      this.#known.delete(name);
      return undefined;
    }
    if (!s.isFile()) return undefined;
    const t = performance.now();
    if (s.size !== p.size || s.mtimeMs !== p.mtimeMs) {
      p.size = s.size;
      p.mtimeMs = s.mtimeMs;
      p.stableSince = t;
    }
    // Complete once unchanged for the timeout, by our own watch or by its modification time.
    const quietFor = Math.max(t - p.stableSince, Date.now() - s.mtimeMs);
    if (quietFor >= timeout)
      return {
        path: join(this.owner.directory, name),
        name,
        size: s.size,
        mtimeMs: s.mtimeMs,
        foundAt: p.foundAt,
        readyAt: now(),
      };
    p.checkAt = t + (timeout - quietFor);
    this.#waiting.set(name, p);
    this.#nextDue = Math.min(this.#nextDue, p.checkAt);
    return undefined;
  }

  /** Wakes {@link check} when the first waiting file is due. */
  #schedule(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#nextDue === Infinity) return;
    this.#timer = startTimer(Math.max(0, this.#nextDue - performance.now()), () => this.#kick());
  }
}
