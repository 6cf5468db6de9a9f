/**
 * How errors at the prompt are shown: one line (Concert errors as `Sorry, …`, others with their
 * location at the prompt or in the session file), the full trace to the log; and how many there
 * were (piped input exits with status 1 after any).
 * @module
 * @internal
 */
import { errorMessage, isAbortError, Logger } from '../../core/index.js';
import { describeError } from '../errors.js';
import type { Commands } from './commands.js';
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
      this.#print('Interrupted (Ctrl-C): stopping what the command started');
      return;
    }
    if (isAbortError(error) && this.#commands.current?.interrupted) return; // the interrupted command's own AbortError
    this.#print(describeError(error, this.#files));
    log.error(`error at the prompt: ${errorMessage(error)}`, error);
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
