/**
 * Ctrl-C at the prompt. While a command runs: node interrupts the `await` (breakEvalOnSigint) and
 * we abort the command's scope, so what it started (a move, an experiment) stops; the prompt
 * comes back once those operations have ended — after `noticeMs` it says what it waits for, a
 * second Ctrl-C says so again, a third stops waiting. At an empty prompt: node's behaviour (twice
 * quits). With piped input Ctrl-C is a real signal: it aborts the running command, or quits.
 * @module
 * @internal
 */
import type { REPLServer } from 'node:repl';
import type { Command, Commands } from './commands.js';

/** Options of {@link Interrupts}. */
export interface InterruptOptions {
  print: (text: string) => void;
  /** How long to wait for aborted operations before saying so (ms). */
  noticeMs: number;
  /** Input is a terminal (Ctrl-C comes from readline, not as a signal). */
  terminal: boolean;
}

/** Ctrl-C handling of one REPL. */
export class Interrupts {
  readonly #server: REPLServer;
  readonly #commands: Commands;
  readonly #options: InterruptOptions;
  #cleanup: { command: Command; presses: number; giveUp: () => void } | undefined;

  constructor(server: REPLServer, commands: Commands, options: InterruptOptions) {
    this.#server = server;
    this.#commands = commands;
    this.#options = options;
  }

  /** Takes over the REPL's SIGINT (and, for piped input, the process's, until the REPL exits). */
  install(): void {
    const server = this.#server;
    const nodeSigint = server.listeners('SIGINT') as Array<() => void>;
    server.removeAllListeners('SIGINT');
    server.on('SIGINT', () => {
      if (this.#cleanup) return this.#pressedWhileCleaning();
      const command = this.#commands.current;
      for (const listener of nodeSigint) listener.call(server); // interrupts the await / node's empty-prompt logic
      if (command) this.#commands.interrupt();
    });
    // In terminal mode a process SIGINT listener would kill the process during a synchronous
    // loop: only for piped input.
    if (!this.#options.terminal) {
      const onSignal = () => this.#commands.interrupt() || process.exit(130);
      process.on('SIGINT', onSignal);
      server.once('exit', () => process.off('SIGINT', onSignal));
    }
  }

  #pressedWhileCleaning(): void {
    const cleanup = this.#cleanup!;
    cleanup.presses++;
    if (cleanup.presses === 1) {
      this.#options.print(
        `\nStill cleaning up after Ctrl-C (${this.#commands.leftOver(cleanup.command)} operation(s) running); ` +
          'press Ctrl-C again to stop waiting',
      );
    } else {
      this.#options.print(
        '\nStopped waiting for the cleanup; it goes on in the background (abort() cancels everything)',
      );
      cleanup.giveUp();
    }
  }

  /** Resolves when the operations `command` started have ended (or the user stopped waiting). */
  async waitForCleanup(command: Command): Promise<void> {
    const start = performance.now();
    let noticed = false;
    let gaveUp = false;
    this.#cleanup = { command, presses: 0, giveUp: () => (gaveUp = true) };
    try {
      while (!gaveUp && this.#commands.leftOver(command) > 0) {
        if (!noticed && performance.now() - start > this.#options.noticeMs) {
          noticed = true;
          this.#options.print(`Still stopping ${this.#commands.leftOver(command)} operation(s)…`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      this.#cleanup = undefined;
    }
  }
}
