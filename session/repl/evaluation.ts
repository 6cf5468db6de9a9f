/**
 * Evaluation at the prompt: TypeScript input transpiled, then run by node's own eval (which
 * alone supports top-level `await` with `breakEvalOnSigint`: node refuses a custom `eval`
 * together with it, so the default one is wrapped after the start), each command in its own abort
 * scope; errors are shown our way instead of node's `Uncaught …`.
 * @module
 * @internal
 */
import repl, { type REPLServer } from 'node:repl';
import { withAbortScope } from '../../core/index.js';
import type { Commands } from './commands.js';
import { readForDisplay } from './inspection.js';
import { internals } from './internals.js';
import type { ErrorReport } from './report.js';
import { IncompleteInput, InputSyntaxError } from './transpile.js';

/** Options of {@link installEvaluation}. */
export interface EvaluationOptions {
  /** Input → JavaScript; throws IncompleteInput (more lines needed) or InputSyntaxError. */
  transpile: (code: string) => string;
  commands: Commands;
  report: ErrorReport;
}

/** Tab completion evaluates `try { expr } catch {}` itself: plain JavaScript, not a command. */
const completionProbe = /^try \{ [\s\S]* \} catch \{\}$/;

/** Wraps `server`'s eval and error handling; call once, right after `repl.start()`. */
export function installEvaluation(server: REPLServer, { transpile, commands, report }: EvaluationOptions): void {
  const repl_ = internals(server);
  const defaultEval = repl_.eval;
  repl_.eval = function (this: REPLServer, code, context, file, callback) {
    if (completionProbe.test(code)) return defaultEval.call(this, code, context, file, callback);
    let js: string;
    try {
      js = code.trim() === '' ? code : transpile(code);
    } catch (error) {
      if (error instanceof IncompleteInput) return callback(new repl.Recoverable(error), undefined);
      if (error instanceof InputSyntaxError) {
        report.syntaxError(error);
        return callback(null, undefined);
      }
      throw error;
    }
    const command = commands.start(code, js);
    // A device or parameter is printed with its current values: read them first.
    const print: typeof callback = (error, result) => {
      if (error) return callback(error, result);
      void readForDisplay(result).then(() => callback(null, result));
    };
    withAbortScope(command.controller.signal, () => defaultEval.call(this, js, context, file, print));
  };

  // A rejected await ends here (the eval callback is never called): report it, start afresh.
  // Node calls `process.domain.exit()` right after emitting 'error': the next prompt (which
  // feeds piped input its next line, evaluated in that domain) waits until node is done with it.
  const domain = repl_._domain;
  if (domain) {
    domain.removeAllListeners('error');
    domain.on('error', (error: unknown) => {
      report.error(error);
      server.clearBufferedCommand();
      if (repl_.lines) repl_.lines.level = [];
      setImmediate(() => server.displayPrompt());
    });
  }
}

/**
 * Calls `onPrompt(show)` whenever node would show the prompt — the end of every command, however
 * it ended — and leaves it to `onPrompt` when to `show()` it.
 */
export function hookPrompt(server: REPLServer, onPrompt: (show: () => void) => void): void {
  const showPrompt = server.displayPrompt.bind(server);
  server.displayPrompt = (preserveCursor?: boolean) => onPrompt(() => showPrompt(preserveCursor));
}
