/**
 * A walker that writes nothing: it keeps directories, texts and frame counts in memory. Good for
 * trying experiments without data, and for tests.
 * @module
 */
import { posix } from 'node:path';
import type { Frame } from '../core/index.js';
import { Walker, type DatasetWriter } from './base.js';
import { StorageError } from './formats/index.js';

/** An in-memory walker: `new DummyWalker()`. */
export class DummyWalker extends Walker {
  readonly root = '/';
  #current = '/';
  /** Directories descended into. */
  readonly directories = new Set<string>(['/']);
  /** Text files written, by path. */
  readonly texts = new Map<string, string>();
  /** Frames per dataset path. */
  readonly datasets = new Map<string, Frame[]>();
  /** Keep the frames (default false: only count them). */
  constructor(readonly keepFrames = false) {
    super();
  }

  get current(): string {
    return this.#current;
  }

  #path(name: string): string {
    if (posix.isAbsolute(name))
      throw new StorageError(`'${name}' is an absolute path; the walker only goes below ${this.root}`);
    const p = posix.resolve(this.#current, name);
    return p;
  }

  async descend(name: string): Promise<void> {
    const p = this.#path(name);
    if (!p.startsWith(this.#current)) throw new StorageError(`'${name}' leads out of the walker root`);
    this.directories.add(p);
    this.#current = p;
  }

  async ascend(): Promise<void> {
    if (this.#current === this.root) throw new StorageError('cannot ascend above the walker root /');
    this.#current = posix.dirname(this.#current);
  }

  async home(): Promise<void> {
    this.#current = this.root;
  }

  async exists(...path: string[]): Promise<boolean> {
    const p = this.#path(posix.join(...(path.length ? path : ['.'])));
    return this.directories.has(p) || this.texts.has(p) || this.datasets.has(p);
  }

  async writer(name: string): Promise<DatasetWriter> {
    const location = this.#path(name);
    if (this.datasets.get(location)?.length) throw new StorageError(`${location} is not empty`);
    const frames: Frame[] = [];
    this.datasets.set(location, frames);
    let count = 0;
    let bytes = 0;
    const keep = this.keepFrames;
    return {
      async write(frame: Frame) {
        count++;
        bytes += frame.data.byteLength;
        if (keep) frames.push(frame);
      },
      async close() {},
      async abort() {},
      get framesWritten() {
        return count;
      },
      get bytesWritten() {
        return bytes;
      },
      location,
    };
  }

  async writeText(name: string, text: string): Promise<void> {
    this.texts.set(this.#path(name), text);
  }

  async appendText(name: string, text: string): Promise<void> {
    const p = this.#path(name);
    this.texts.set(p, (this.texts.get(p) ?? '') + text);
  }
}
