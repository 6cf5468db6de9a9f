/**
 * How errors at the prompt are shown: one line (Concert errors as `Sorry, …`, others with their
 * location at the prompt or in the session file), the full trace to the log; and how many there
 * were (piped input exits with status 1 after any).
 * @module
 * @internal
 */
import { describeOperations, errorMessage, isAbortError, Logger } from '../../core/index.js';
import { describeError } from '../errors.js';
import type { Commands } from './commands.js';
import { locateInInput, suggestion } from './suggest.js';
import type { InputSyntaxError } from './transpile.js';

const log = new Logger('repl');

/** Prints errors of prompt commands and counts them. */
export class ErrorReport {
  #errors = 0;
  readonly #print: (text: string) => void;
  readonly #files: readonly string[];
  readonly #commands: Commands;

  /** `files`: where error locations are looked for (`REPL` and the session file). */
  constructor(print: (text: string) => void, files: readonly string[], commands: Commands) {
    this.#print = print;
    this.#files = files;
    this.#commands = commands;
  }

  /** Errors reported so far. */
  get count(): number {
    return this.#errors;
  }

  /** A command failed with `error`. */
  error(error: unknown): void {
    this.#errors++;
    if (isInterrupted(error)) {
      this.#print(this.#interrupted());
      return;
    }
    if (isAbortError(error) && this.#commands.current?.interrupted) return; // the interrupted command's own AbortError
    this.#print(this.#describe(error));
    log.error(`error at the prompt: ${errorMessage(error)}`, error);
  }

  /**
   * The error's line: its location at the prompt in what was typed (node's own columns are those
   * of the rewritten input, so without a name to find it says only `<prompt>`), and the nearest
   * name for a mistyped member or global.
   */
  #describe(error: unknown): string {
    let text = describeError(error, this.#files);
    const command = this.#commands.current;
    const input = command?.input;
    // Node wraps input with a top-level await in a function: then its columns are not the user's.
    const rewritten = command !== undefined && (command.ran !== command.input || /\bawait\b/.test(command.input));
    if (input !== undefined && rewritten && / \(at <prompt>:\d+:\d+\)$/.test(text)) {
      const at = locateInInput(error, input);
      text = text.replace(
        / \(at <prompt>:\d+:\d+\)$/,
        at ? ` (at <prompt>:${at.line}:${at.column})` : ' (at <prompt>)',
      );
    }
    const hint = suggestion(error, globalThis);
    return hint ? `${text}; ${hint}` : text;
  }

  /**
   * What Ctrl-C did: it stops what the command started; operations that earlier commands started
   * (a run started with `const r = experiment.run()`, then `await r`) go on, and it says so.
   */
  #interrupted(): string {
    const command = this.#commands.current;
    if (!command) return 'Interrupted (Ctrl-C)';
    const started = command.interrupted ? command.stopping : this.#commands.started(command);
    const earlier = this.#commands.earlier(command).filter((op) => op.label !== undefined);
    let text = started.length
      ? `Interrupted (Ctrl-C): stopping what the command started (${describeOperations(started)})`
      : 'Interrupted (Ctrl-C): nothing this command started is still running';
    if (earlier.length)
      text +=
        `\nStill running from an earlier command: ${describeOperations(earlier)} ` +
        '(Ctrl-C leaves it running; abort() stops everything)';
    return text;
  }

  /** The input does not parse. */
  syntaxError(error: InputSyntaxError): void {
    this.#errors++;
    this.#print(`SyntaxError: ${error.message} (at <prompt>:${error.line}:${error.column})`);
  }
}

/** Node's rejection of an `await` that Ctrl-C interrupted. */
export function isInterrupted(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED'
  );
}
