/**
 * An in-process session REPL on streams (piped mode: one line per prompt), for testing its parts
 * without a terminal. Globals given to it become globals of this process: use unique names.
 */
import { PassThrough } from 'node:stream';
import { startRepl, type SessionRepl } from '../../../../session/repl/index.js';

/** A REPL fed line by line; `output` is everything it printed. */
export class TestRepl {
  readonly input = new PassThrough();
  readonly out = new PassThrough();
  readonly repl: SessionRepl;
  #output = '';

  constructor(globals: Record<string, unknown> = {}, options: { cleanupNoticeMs?: number } = {}) {
    this.out.setEncoding('utf8').on('data', (d: string) => (this.#output += d));
    this.repl = startRepl({ name: 't', globals, input: this.input, output: this.out, terminal: false, ...options });
  }

  get output(): string {
    return this.#output;
  }

  /** Sends one line. */
  line(text: string): void {
    this.input.write(`${text}\n`);
  }

  /** Sends lines and waits for the prompt after the last; returns what they printed (prompts removed). */
  async run(...lines: string[]): Promise<string> {
    const start = this.#output.length;
    const prompts = this.prompts() + lines.length;
    for (const l of lines) this.line(l);
    await this.waitFor(() => this.prompts() >= prompts);
    return this.#output.slice(start).replaceAll('t > ', '').trim();
  }

  prompts(): number {
    return this.#output.split('t > ').length - 1;
  }

  async waitFor(done: () => boolean, timeoutMs = 5000): Promise<void> {
    const t0 = Date.now();
    while (!done()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out; output so far:\n${this.#output}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Ends input; resolves with the exit status. */
  close(): Promise<number> {
    this.input.end();
    return this.repl.closed;
  }
}
