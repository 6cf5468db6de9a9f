/**
 * The parts of node's `REPLServer` the session REPL replaces or reaches into, typed in one place
 * (node's types declare `eval` and `completer` read-only and leave out `_domain` and `lines`).
 * Checked against Node 20; the tests drive a real REPL through each of them.
 * @module
 * @internal
 */
import type { EventEmitter } from 'node:events';
import type { REPLEval, REPLServer } from 'node:repl';

/** A REPL completer: the candidates and the part of the line they complete. */
export type Completer = (line: string, callback: (error: Error | null, result: [string[], string]) => void) => void;

interface Internals {
  eval: REPLEval;
  completer: Completer;
  /** The domain node runs each evaluation in; its 'error' listener prints `Uncaught …`. */
  _domain?: EventEmitter;
  /** Open brackets of a multi-line input (cleared after an error so the next line starts afresh). */
  lines?: { level: unknown[] };
  /** Draws the prompt and the line typed so far again (readline). */
  _refreshLine(): void;
}

/** `server` with its internal fields visible. */
export function internals(server: REPLServer): Internals {
  return server as unknown as Internals;
}
