/**
 * The conductor's log file: its own lines and every camera's, each tagged with the camera's
 * name (`2026-12-01T20:14:05.123Z INFO  [top] recording: …`).
 * @module
 * @internal
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { LogLevel } from '../core/index.js';

const RANKS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Appends tagged lines to one file. */
export class ConductorLog {
  readonly path: string;
  readonly #stream: WriteStream;
  readonly #threshold: number;
  #lines = 0;

  constructor(path: string, level: LogLevel) {
    this.path = resolve(path);
    mkdirSync(dirname(this.path), { recursive: true });
    this.#stream = createWriteStream(this.path, { flags: 'a' });
    this.#stream.on('error', () => undefined); // a full disk must not take the conductor down
    this.#threshold = RANKS[level];
  }

  /** Lines written so far. */
  get lines(): number {
    return this.#lines;
  }

  /** Writes one line tagged with `tag` (a camera's name, or `conductor`). */
  write(level: LogLevel, tag: string, message: string, time = Date.now()): void {
    if ((RANKS[level] ?? 0) < this.#threshold) return;
    this.#lines++;
    const text = message.replace(/\n/g, '\n    ');
    this.#stream.write(`${new Date(time).toISOString()} ${level.toUpperCase().padEnd(5)} [${tag}] ${text}\n`);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((r) => this.#stream.end(() => r()));
  }
}
