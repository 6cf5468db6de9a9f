/**
 * The command running at the prompt: each one gets its own abort scope, so Ctrl-C (or `abort()`)
 * stops what it started, and remembers how many operations were running before it, so the prompt
 * can wait for the ones it started to end.
 * @module
 * @internal
 */
import { abortError, runningOperations } from '../../core/index.js';

/** One command, from its evaluation to the next prompt. */
export interface Command {
  readonly controller: AbortController;
  /** Ctrl-C stopped it. */
  interrupted: boolean;
  /** Operations running before the command started (background work of earlier commands). */
  readonly before: number;
}

/** Which command is running (at most one: the prompt waits for each). */
export class Commands {
  #current: Command | undefined;

  /** The running command, if any. */
  get current(): Command | undefined {
    return this.#current;
  }

  /** A new command starts (its evaluation begins). */
  start(): Command {
    this.#current = { controller: new AbortController(), interrupted: false, before: runningOperations() };
    return this.#current;
  }

  /** The prompt is back: the command has ended. Returns it. */
  finish(): Command | undefined {
    const command = this.#current;
    this.#current = undefined;
    return command;
  }

  /** Aborts the running command (Ctrl-C); false if none is running. */
  interrupt(reason = 'interrupted by Ctrl-C'): boolean {
    const command = this.#current;
    if (!command) return false;
    command.interrupted = true;
    command.controller.abort(abortError(reason));
    return true;
  }

  /** Operations still running that the command started. */
  leftOver(command: Command): number {
    return Math.max(0, runningOperations() - command.before);
  }
}
