/**
 * Piped input, one line per prompt: node's REPL evaluates piped lines concurrently (the next line
 * runs while `await motor.move(3)` is pending, results come out of order), so the gate holds each
 * line back until the prompt is shown again.
 * @module
 * @internal
 */
import { PassThrough, type Readable } from 'node:stream';

/** Feeds `source` to {@link stream} one line at a time, each after {@link next}. */
export class LineGate {
  /** What the REPL reads. */
  readonly stream = new PassThrough();
  #lines: string[] = [];
  #partial = '';
  #ended = false;
  #ready = false;

  constructor(source: Readable) {
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop()!;
      this.#lines.push(...parts);
      this.#pump();
    });
    source.on('end', () => {
      if (this.#partial) this.#lines.push(this.#partial);
      this.#partial = '';
      this.#ended = true;
      this.#pump();
    });
  }

  /** The REPL is ready for the next line (ends the stream once the source has ended and every line went in). */
  next(): void {
    this.#ready = true;
    this.#pump();
  }

  #pump(): void {
    if (!this.#ready) return;
    const line = this.#lines.shift();
    if (line !== undefined) {
      this.#ready = false;
      this.stream.write(`${line}\n`);
    } else if (this.#ended) {
      this.#ready = false;
      this.stream.end();
    }
  }
}
