/**
 * The command running at the prompt: each one gets its own abort scope, so Ctrl-C (or `abort()`)
 * stops what it started, and remembers which operations started before it (background work of
 * earlier commands, which Ctrl-C leaves running), so the prompt can wait for the ones it started
 * to end and say what goes on.
 * @module
 * @internal
 */
import { abortError, nextOperationId, runningOperationList, type RunningOperation } from '../../core/index.js';

/** One command, from its evaluation to the next prompt. */
export interface Command {
  readonly controller: AbortController;
  /** Ctrl-C stopped it. */
  interrupted: boolean;
  /** The operations it had started when Ctrl-C stopped it (they may end before it is reported). */
  stopping: readonly RunningOperation[];
  /** Operations with this id or higher started during the command. */
  readonly firstOperation: number;
  /** What was typed (errors are located in it). */
  readonly input: string;
  /** What node ran: `input` transpiled (its columns are the user's only when it is the same text). */
  readonly ran: string;
}

/** Which command is running (at most one: the prompt waits for each). */
export class Commands {
  #current: Command | undefined;

  /** The running command, if any. */
  get current(): Command | undefined {
    return this.#current;
  }

  /** A new command starts (its evaluation begins). */
  start(input = '', ran = input): Command {
    this.#current = {
      controller: new AbortController(),
      interrupted: false,
      stopping: [],
      firstOperation: nextOperationId(),
      input,
      ran,
    };
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
    command.stopping = this.started(command);
    command.controller.abort(abortError(reason));
    return true;
  }

  /** Operations still running that the command started. */
  leftOver(command: Command): number {
    return this.started(command).length;
  }

  /** The running operations that the command started. */
  started(command: Command): RunningOperation[] {
    return runningOperationList().filter((op) => op.id >= command.firstOperation);
  }

  /** The running operations that earlier commands started (Ctrl-C of this command leaves them running). */
  earlier(command: Command): RunningOperation[] {
    return runningOperationList().filter((op) => op.id < command.firstOperation);
  }
}
